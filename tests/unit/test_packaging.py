"""Packaging invariants: what SAM builds is what the lock file says, and every handler resolves.

These tests read the real files of the repository (uv.lock, pyproject.toml, template.yaml,
layers/chorus/requirements.txt, functions/*), so they fail as soon as one of them drifts.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAYER_DIR = ROOT / "layers" / "chorus"
LAYER_REQUIREMENTS = LAYER_DIR / "requirements.txt"
FUNCTIONS_DIR = ROOT / "functions"

# Provided by the Lambda python3.13 runtime: never shipped in the layer.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer"}
# Packages the runtime needs only because of boto3 (so the layer need not pin them).
RUNTIME_ONLY_DEPS = {"python-dateutil", "six"}
# The environment of the deployed function (python3.13 on arm64 Linux), to evaluate lock markers.
LAMBDA_MARKER_ENV = {
    "implementation_name": "cpython",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.13.0",
    "python_version": "3.13",
    "sys_platform": "linux",
}


# ---------------------------------------------------------------- readers


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation short tags (!Ref, !Sub, !GetAtt ...)."""


def _cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


@cache
def template() -> dict[str, Any]:
    with (ROOT / "template.yaml").open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)


@cache
def lock_packages() -> dict[str, dict[str, Any]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {canonicalize_name(p["name"]): p for p in lock["package"]}


@cache
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def layer_requirements() -> dict[str, str]:
    """name -> pinned version; fails on anything that is not a plain `name==version` line."""
    pins: dict[str, str] = {}
    for lineno, raw in enumerate(LAYER_REQUIREMENTS.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"requirements.txt:{lineno}: not an exact pin: {raw!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"requirements.txt:{lineno}: {name} listed twice"
        pins[name] = match.group(2)
    return pins


def project_dependencies() -> dict[str, Requirement]:
    reqs = (Requirement(r) for r in pyproject()["project"]["dependencies"])
    return {canonicalize_name(r.name): r for r in reqs}


def runtime_closure(roots: set[str]) -> set[str]:
    """Every package the roots need on Lambda, following uv.lock's dependency graph."""
    packages = lock_packages()
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in packages[name].get("dependencies", []):
            marker = dep.get("marker")
            if marker and not Marker(marker).evaluate(LAMBDA_MARKER_ENV):
                continue
            todo.append(canonicalize_name(dep["name"]))
    return seen


def serverless_functions() -> dict[str, dict[str, Any]]:
    resources = template()["Resources"]
    return {
        name: res.get("Properties", {})
        for name, res in resources.items()
        if res.get("Type") == "AWS::Serverless::Function"
    }


def function_folders() -> list[Path]:
    return sorted(p for p in FUNCTIONS_DIR.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


# ---------------------------------------------------------------- layer requirements vs lock


def test_layer_requirements_are_exact_pins() -> None:
    assert layer_requirements(), "layers/chorus/requirements.txt pins nothing"


def test_layer_pins_equal_uv_lock() -> None:
    packages = lock_packages()
    drift = {
        name: (pinned, packages[name]["version"] if name in packages else "absent from uv.lock")
        for name, pinned in layer_requirements().items()
        if name not in packages or packages[name]["version"] != pinned
    }
    assert not drift, f"requirements.txt pin != uv.lock version: {drift}"


def test_project_dependencies_are_exact_and_locked() -> None:
    packages = lock_packages()
    for name, req in project_dependencies().items():
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"pyproject: {req} is not an exact pin"
        assert packages[name]["version"] == specs[0].version, (
            f"pyproject pins {req} but uv.lock has {packages[name]['version']}: run `uv lock`"
        )


def test_layer_requirements_agree_with_pyproject() -> None:
    pins = layer_requirements()
    for name, req in project_dependencies().items():
        version = next(iter(req.specifier)).version
        if name in RUNTIME_PROVIDED:
            assert name not in pins, f"{name} is provided by the Lambda runtime: do not ship it in the layer"
        else:
            assert pins.get(name) == version, f"layer requirements pin {name}=={pins.get(name)}, pyproject {req}"
    shipped_but_provided = RUNTIME_PROVIDED & pins.keys()
    assert not shipped_but_provided, f"provided by the Lambda runtime, remove: {shipped_but_provided}"


def test_layer_requirements_cover_the_runtime_closure() -> None:
    """Every transitive runtime dependency is pinned, and nothing else is shipped."""
    roots = set(project_dependencies()) - RUNTIME_PROVIDED
    needed = runtime_closure(roots) - RUNTIME_PROVIDED - RUNTIME_ONLY_DEPS
    pinned = set(layer_requirements())
    assert not needed - pinned, f"unpinned runtime dependencies (add from uv.lock): {sorted(needed - pinned)}"
    assert not pinned - needed, f"pinned but not needed at runtime: {sorted(pinned - needed)}"


# ---------------------------------------------------------------- layout


def test_no_python_folder_in_layer() -> None:
    # SAM's BuildMethod python3.13 creates python/ itself; one in the source would nest twice.
    assert not (LAYER_DIR / "python").exists(), "remove layers/chorus/python/: SAM creates it at build time"


def test_layer_contains_the_chorus_package() -> None:
    assert (LAYER_DIR / "chorus" / "__init__.py").is_file()


def test_every_function_folder_has_exactly_one_handler() -> None:
    folders = function_folders()
    assert folders, "no function folders under functions/"
    for folder in folders:
        handlers = sorted(p.name for p in folder.glob("*_handler.py"))
        assert handlers == [f"{folder.name}_handler.py"], (
            f"functions/{folder.name}/ must hold exactly one handler, {folder.name}_handler.py; found {handlers}"
        )


def test_module_names_are_unique_across_functions_and_layer() -> None:
    # All function folders share one sys.path in tests (and the layer shares it on Lambda):
    # two modules with one name would shadow each other.
    names: Counter[str] = Counter()
    for folder in function_folders():
        names.update(p.stem for p in folder.glob("*.py"))
        names.update(p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    duplicated = sorted(n for n, count in names.items() if count > 1)
    assert not duplicated, f"module names used by more than one function: {duplicated}"
    layer_top = {p.stem for p in LAYER_DIR.glob("*.py")} | {
        p.name for p in LAYER_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    shadowing = sorted(layer_top & names.keys())
    assert not shadowing, f"function modules shadow layer packages: {shadowing}"


def test_every_function_folder_is_deployed_and_on_the_pytest_path() -> None:
    code_uris = {
        str(props.get("CodeUri", "")).rstrip("/")
        for props in serverless_functions().values()
        if isinstance(props.get("CodeUri"), str)
    }
    pythonpath = set(pyproject()["tool"]["pytest"]["ini_options"]["pythonpath"])
    for folder in function_folders():
        rel = f"functions/{folder.name}"
        assert rel in code_uris, f"{rel}/ is not the CodeUri of any function in template.yaml"
        assert rel in pythonpath, f"{rel} missing from [tool.pytest.ini_options] pythonpath"


# ---------------------------------------------------------------- template handlers


def _top_level_callables(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_template_has_functions() -> None:
    assert serverless_functions(), "template.yaml defines no AWS::Serverless::Function"


@pytest.mark.parametrize("logical_id", sorted(serverless_functions()))
def test_function_handler_points_at_an_existing_function(logical_id: str) -> None:
    props = serverless_functions()[logical_id]
    globals_ = template().get("Globals", {}).get("Function", {})
    code_uri = props.get("CodeUri", globals_.get("CodeUri"))
    handler = props.get("Handler", globals_.get("Handler"))
    assert isinstance(code_uri, str), f"{logical_id}: CodeUri must be a local folder, got {code_uri!r}"
    assert isinstance(handler, str), f"{logical_id}: Handler must be a string, got {handler!r}"

    folder = (ROOT / code_uri).resolve()
    assert folder.parent == FUNCTIONS_DIR.resolve(), (
        f"{logical_id}: CodeUri {code_uri} must be one folder under functions/ (a zip per function)"
    )
    assert folder.is_dir(), f"{logical_id}: CodeUri {code_uri} does not exist"

    module_path, _, func = handler.rpartition(".")
    assert module_path and func, f"{logical_id}: Handler {handler!r} is not module.function"
    module = folder / (module_path.replace(".", "/") + ".py")
    assert module.is_file(), f"{logical_id}: Handler module {module.relative_to(ROOT)} does not exist"
    assert module.name == f"{folder.name}_handler.py", f"{logical_id}: handler module must be {folder.name}_handler.py"
    assert func in _top_level_callables(module), f"{logical_id}: {module.name} defines no top-level {func!r}"


def test_the_layer_is_built_from_its_pins_alone() -> None:
    """pip would add what a pin names but the runtime provides (aws-xray-sdk names botocore): a
    botocore in the layer shadows the runtime's, so `make build` installs the pins without deps,
    and the pins are the whole closure (the test above)."""
    assert "botocore" in {
        canonicalize_name(dep["name"]) for dep in lock_packages()["aws-xray-sdk"].get("dependencies", [])
    }
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nbuild:", 1)[1].split("\n\n", 1)[0]
    assert "PIP_NO_DEPS=1 $(SAM) build" in recipe
