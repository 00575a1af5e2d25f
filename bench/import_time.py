"""Cold-start import time of each Lambda handler, compared with ``import boto3`` alone.

Each measurement runs in a fresh interpreter laid out like Lambda: ``PYTHONPATH`` is the layer
(``layers/chorus`` = /opt/python) then the function folder (= /var/task), the environment is
minimal and the working folder is empty. The import is timed inside the child, so interpreter
start-up is not counted. Each figure is the median of ``--repeat`` runs.

    python -m bench.import_time [--repeat 7] [--top 8] [--check]

Target: a handler imports in at most 1.3 x the time of ``import boto3``. Exit status is 0
unless ``--check`` is given and a handler misses the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "chorus"
FUNCTIONS = ROOT / "functions"
TARGET_RATIO = 1.3

_TIMER = "import time\nt0 = time.perf_counter()\nimport {module}\nprint(repr(time.perf_counter() - t0))\n"


@dataclass(frozen=True)
class Measure:
    name: str
    median_ms: float
    runs_ms: list[float]


def lambda_like_env(pythonpath: list[Path]) -> dict[str, str]:
    """What a Lambda process has that matters at import, and nothing from this shell."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath),
        "PYTHONNOUSERSITE": "1",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "POWERTOOLS_SERVICE_NAME": "chorus",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def time_import(module: str, pythonpath: list[Path], repeat: int, workdir: str) -> Measure:
    runs: list[float] = []
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, "-c", _TIMER.format(module=module)],
            env=lambda_like_env(pythonpath),
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"import {module} failed:\n{proc.stderr.strip()}")
        runs.append(float(proc.stdout.strip().splitlines()[-1]) * 1000)
    return Measure(module, statistics.median(runs), runs)


def slowest_imports(module: str, pythonpath: list[Path], workdir: str, top: int) -> list[tuple[int, str]]:
    """The top-level packages with the largest cumulative import time (``-X importtime``)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=lambda_like_env(pythonpath),
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    # Children print before their parent, indented two spaces per level: the direct imports
    # of `module` are the depth-1 lines between the previous depth-0 line and its own.
    children: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")  # self [us] | cumulative | package
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        depth = (len(parts[2]) - len(parts[2].lstrip()) - 1) // 2
        name = parts[2].strip()
        if depth == 0:
            if name == module:
                break
            children.clear()
        elif depth == 1:
            children[name] = int(parts[1])
    totals = children
    return sorted(((us, name) for name, us in totals.items()), reverse=True)[:top]


def handlers() -> list[tuple[str, Path]]:
    return sorted((path.stem, path.parent) for path in FUNCTIONS.glob("*/*_handler.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per module (median)")
    parser.add_argument("--top", type=int, default=0, help="also list the N slowest imports per handler")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a handler exceeds {TARGET_RATIO}x boto3")
    args = parser.parse_args(argv)

    found = handlers()
    if not found:
        print("no functions/*/*_handler.py found")
        return 1 if args.check else 0

    failed = False
    with tempfile.TemporaryDirectory(prefix="chorus-import-") as workdir:
        baseline = time_import("boto3", [LAYER], args.repeat, workdir)
        print(f"Handler import time: median of {args.repeat} fresh processes ({sys.executable})")
        print(f"{'module':<28} {'median ms':>10} {'x boto3':>8} {'target':>7}  result")
        print(f"{'boto3 (baseline)':<28} {baseline.median_ms:>10.1f} {1.0:>8.2f} {'':>7}")
        for module, folder in found:
            try:
                measure = time_import(module, [LAYER, folder], args.repeat, workdir)
            except RuntimeError as exc:
                failed = True
                print(f"{module:<28} {'error':>10} {'':>8} {'<= ' + str(TARGET_RATIO):>7}  FAIL")
                print("    " + str(exc).replace("\n", "\n    "))
                continue
            ratio = measure.median_ms / baseline.median_ms
            ok = ratio <= TARGET_RATIO
            failed |= not ok
            verdict = "PASS" if ok else "FAIL"
            print(f"{module:<28} {measure.median_ms:>10.1f} {ratio:>8.2f} {'<= ' + str(TARGET_RATIO):>7}  {verdict}")
            if args.top:
                for us, name in slowest_imports(module, [LAYER, folder], workdir, args.top):
                    print(f"    {us / 1000:>8.1f} ms  {name}")
    return 1 if (args.check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
