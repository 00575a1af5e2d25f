"""Dependencies point down only: every import of every module is checked against the layering.

    handlers -> bootstrap -> edge | web -> services -> messages | store | adapters -> domain
                 (config)                                                 and below all: errors, clock, observability,
                                                                                           snapstart

A layer imports itself and the layers its rule names; nothing imports upwards or sideways
(store and adapters never import each other, web and edge neither). Imports under
``TYPE_CHECKING`` count: a type is a dependency too. The rule is documented in docs/DESIGN.md.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "chorus" / "chorus"
FUNCTIONS = ROOT / "functions"

FOUNDATION = "foundation"
# Top-level modules and packages of `chorus`, each in one layer.
LAYER_OF = {
    "chorus.errors": FOUNDATION,
    "chorus.clock": FOUNDATION,
    "chorus.observability": FOUNDATION,
    "chorus.snapstart": FOUNDATION,
    "chorus.domain": "domain",
    "chorus.store": "store",
    "chorus.adapters": "adapters",
    "chorus.messages": "messages",
    "chorus.services": "services",
    "chorus.edge": "edge",
    "chorus.web": "web",
    "chorus.config": "config",
    "chorus.bootstrap": "bootstrap",
}
# What each layer may import besides itself.
MAY_IMPORT = {
    FOUNDATION: frozenset(),
    "domain": frozenset({FOUNDATION}),
    "store": frozenset({"domain", FOUNDATION}),
    "adapters": frozenset({"domain", FOUNDATION}),
    "messages": frozenset({"domain", FOUNDATION}),
    "services": frozenset({"messages", "store", "adapters", "domain", FOUNDATION}),
    "edge": frozenset({"services", "messages", "domain", FOUNDATION}),
    "web": frozenset({"services", "messages", "domain", FOUNDATION}),
    "config": frozenset({"domain", FOUNDATION}),
    "bootstrap": frozenset(set(LAYER_OF.values()) - {"bootstrap"}),
    "handlers": frozenset({"bootstrap", FOUNDATION}),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    line: int
    target: str  # the imported chorus module


def layer_of(module: str) -> str | None:
    for prefix, layer in LAYER_OF.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def module_name(path: Path) -> str:
    if path.is_relative_to(FUNCTIONS):
        return path.stem
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def chorus_imports(path: Path, importer: str | None = None) -> list[Import]:
    """Every import of a chorus module in the file, wherever it is (functions, TYPE_CHECKING)."""
    importer = importer or module_name(path)
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from chorus import clock` imports the module chorus.clock
            targets = [f"chorus.{alias.name}" for alias in node.names] if node.module == "chorus" else [node.module]
        elif isinstance(node, ast.ImportFrom):
            raise AssertionError(f"{importer}:{node.lineno}: relative import; name the module in full")
        else:
            continue
        found.extend(Import(importer, node.lineno, target) for target in targets if target.split(".")[0] == "chorus")
    return found


def package_files() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" or path.parent != PACKAGE)


def handler_files() -> list[Path]:
    return sorted(FUNCTIONS.glob("*/*_handler.py"))


def forbidden(imports: list[Import], importer_layer: str) -> list[str]:
    problems = []
    for found in imports:
        target_layer = layer_of(found.target)
        if target_layer is None:
            problems.append(f"{found.module}:{found.line} imports {found.target}, which is in no layer")
        elif target_layer != importer_layer and target_layer not in MAY_IMPORT[importer_layer]:
            problems.append(f"{found.module}:{found.line} ({importer_layer}) imports {found.target} ({target_layer})")
    return problems


def test_every_module_of_the_package_is_in_a_layer() -> None:
    unplaced = [module_name(path) for path in package_files() if layer_of(module_name(path)) is None]
    assert not unplaced, f"add these to LAYER_OF (and to the rule in docs/DESIGN.md): {unplaced}"


@pytest.mark.parametrize("path", package_files(), ids=module_name)
def test_package_modules_import_only_downwards(path: Path) -> None:
    importer_layer = layer_of(module_name(path))
    assert importer_layer is not None
    problems = forbidden(chorus_imports(path), importer_layer)
    assert not problems, "imports the layering forbids:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", handler_files(), ids=lambda path: path.stem)
def test_handlers_only_reach_bootstrap(path: Path) -> None:
    problems = forbidden(chorus_imports(path), "handlers")
    assert not problems, "handlers call bootstrap (and log), nothing else:\n" + "\n".join(problems)


def test_the_check_names_an_upward_import_and_its_line(tmp_path: Path) -> None:
    # Given a store module that imports a service
    path = tmp_path / "upward.py"
    path.write_text(
        "from chorus.domain.content import Content\n\n\n"
        "def f():\n    from chorus.services.publish import PublishService\n",
        encoding="utf-8",
    )
    # When it is checked
    problems = forbidden(chorus_imports(path, "chorus.store.upward"), "store")
    # Then only the upward import is named, with the module and its line
    assert problems == ["chorus.store.upward:5 (store) imports chorus.services.publish (services)"]


def test_the_check_names_a_sideways_import_under_type_checking(tmp_path: Path) -> None:
    path = tmp_path / "sideways.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from chorus.store.keys import META\n",
        encoding="utf-8",
    )
    problems = forbidden(chorus_imports(path, "chorus.adapters.sideways"), "adapters")
    assert problems == ["chorus.adapters.sideways:4 (adapters) imports chorus.store.keys (store)"]
