"""Cold start as Lambda pays it: import, init and the first handled event, per function.

    python -m bench.cold_start [--repeat 3]

The local cloud (infra/local: moto on a loopback port) runs one short story first: a roster and
a content item uploaded, a digest sent, the page opened, a post approved and published, a report
requested, an employee deactivated, a complaint received, the week's planner and the sweeper
fired by the clock. The first event each function receives is recorded. Then, for each function,
a fresh interpreter laid out like Lambda (the layer, then the function's folder on PYTHONPATH;
the function's resolved environment, tracing off as the template's default, or on with
``--tracing``; the AWS endpoint set to that moto) imports the handler and
hands it the recorded event, with a Lambda-like context. Figures per function, each the median
of ``--repeat`` fresh processes:

- import: ``import <handler module>`` (what bench.import_time measures; Lambda's INIT phase),
- init: the handler's ``chorus.bootstrap`` entry point built (settings parsed and validated,
  services and stores wired, modules they need imported; AWS clients are made on first use, so
  most land in the next column). A handler builds it on its first call and caches it; the
  benchmark calls it just before, so the two are timed apart and the work is the same,
- first event: the handler's first call (clients made, the event handled with its AWS calls),
- total = import + init + first event, and its ratio to ``import boto3`` alone in the same
  layout, run just before each measured process (the median of those pairs' ratios).
  **Target: at most 1.5x.**
- waiting: of the total, the wall-clock time the process was not on its CPU (moto answering
  over loopback, and on a busy machine, other processes),
- x CPU: the ratio of CPU times (the process's, ``import boto3``'s). On a shared machine the
  wall-clock ratio moves with the load; this one hardly does, and leaves out moto's answers.

That first table is every function with the ``SnapStart`` parameter at None: for reference, not
checked. Then the SnapStart path, as deployed, per function (a second table): a fresh
interpreter imports the handler with a stand-in for Lambda's ``snapshot_restore_py``, builds the
entry point and runs the before-snapshot hooks the handler registered (``primed``: every
handler registers its priming): that is the snapshot, paid when a version is published. Then it
runs the after-restore hooks and the first event: what a restored environment runs, which the
ratios compare to ``import boto3``. **The target is checked on these rows, per handler.**
Lambda's own restore (resuming the snapshot, its pages loaded as touched; REPORT's Restore
Duration) cannot be measured here: those rows are a floor, and the output says so.

What differs from Lambda, honestly: the AWS calls go to moto over loopback (about a millisecond
each, where AWS answers in a few); with ``--tracing`` the X-Ray SDK is loaded and patches
botocore as in Lambda, but its segments go to no daemon;
the replayed event finds the story's state already there, so handlers take their idempotent
path (already sent, already published), which builds the same clients and makes the same reads.
Exit status 1 when a function's restored path misses the target, a function fails its event (in
either table), or the story reaches no event for a function; otherwise 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

ROOT = Path(__file__).resolve().parents[1]
for folder in ("layers/chorus", "infra/local", "."):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

from bench.import_time import LAYER, lambda_like_env  # noqa: E402

if TYPE_CHECKING:
    from chorus_local.cloud import LocalCloud
    from chorus_local.functions import FunctionSpec

TARGET_RATIO = 1.5
ZONE = "Europe/Paris"

# The child: times the import, the init (the handler's bootstrap entry point, which a handler
# otherwise builds on its first call and caches) and the first call; prints the three (seconds,
# wall clock and this process's CPU) as JSON on its last line.
_CHILD = """
import json, sys, time, types, uuid
spec = json.load(open(sys.argv[1]))
def now():
    return time.perf_counter(), time.process_time()
hooks = {"before": [], "after": []}
if spec["snapstart"]:
    # Lambda's runtime module (snapshot_restore_py), which only its managed runtime has: the
    # handler registers its hooks with this stand-in, run below where Lambda would run them.
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_before_snapshot = lambda hook, *a, **k: hooks["before"].append((hook, a, k))
    runtime.register_after_restore = lambda hook, *a, **k: hooks["after"].append((hook, a, k))
    sys.modules["snapshot_restore_py"] = runtime
t0 = now()
module = __import__(spec["module"], fromlist=["_"])
t1 = now()

class Context:
    function_name = spec["function_name"]
    function_version = "$LATEST"
    invoked_function_arn = spec["arn"]
    memory_limit_in_mb = spec["memory"]
    aws_request_id = str(uuid.uuid4())
    log_group_name = "/aws/lambda/" + spec["function_name"]
    log_stream_name = "bench"
    identity = None
    client_context = None
    def get_remaining_time_in_millis(self):
        return 60000

error = None
profiler = None
if spec["profile"]:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
# The entry point the handler calls (chorus.bootstrap's, imported by name): built here, then
# found built by the handler, as in a container whose INIT phase built it. Not the SnapStart
# registration and priming a handler also imports from there: Lambda runs those, below.
entry = [
    value for name, value in vars(module).items()
    if getattr(value, "__module__", None) == "chorus.bootstrap"
    and name != "snapstart" and not name.startswith("prime_")
]
try:
    for build in entry:
        build()
except Exception as exc:
    error = f"init: {type(exc).__name__}: {exc}"
try:
    for hook, args, kwargs in reversed(hooks["before"]):  # Lambda: reverse order of registration
        hook(*args, **kwargs)
except Exception as exc:
    error = error or f"before snapshot: {type(exc).__name__}: {exc}"
t2 = now()
# With SnapStart, the snapshot is taken here; what follows runs in each restored environment.
try:
    for hook, args, kwargs in hooks["after"]:
        hook(*args, **kwargs)
    answer = getattr(module, spec["attribute"])(spec["event"], Context())
except Exception as exc:
    answer, error = None, error or f"{type(exc).__name__}: {exc}"
t3 = now()
if profiler is not None:
    import pstats
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(spec["profile"])
status = answer.get("statusCode") if isinstance(answer, dict) else None
walls = [b[0] - a[0] for a, b in ((t0, t1), (t1, t2), (t2, t3))]
cpus = [b[1] - a[1] for a, b in ((t0, t1), (t1, t2), (t2, t3))]
primed = len(hooks["before"])
print(json.dumps({"wall": walls, "cpu": cpus, "entry": len(entry), "primed": primed, "error": error, "status": status}))
"""


# The baseline: ``import boto3`` in a fresh interpreter laid out like Lambda (wall, then CPU).
_BASELINE = (
    "import time\nwall, cpu = time.perf_counter(), time.process_time()\nimport boto3\n"
    "print(time.perf_counter() - wall, time.process_time() - cpu)\n"
)


def import_boto3(workdir: str) -> tuple[float, float]:
    """Seconds of wall clock and of CPU that ``import boto3`` takes."""
    proc = subprocess.run(
        [sys.executable, "-c", _BASELINE],
        env=lambda_like_env([LAYER]),
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"import boto3 failed:\n{proc.stderr.strip()}")
    wall, cpu = proc.stdout.split()
    return float(wall), float(cpu)


@dataclass(frozen=True)
class ColdStart:
    function: str
    import_ms: float
    init_ms: float
    first_ms: float
    waiting_ms: float  # wall clock not spent on this process's CPU: AWS (moto) answering, and load
    error: str | None
    status: int | None
    ratio: float  # median of (total / import boto3) over pairs run back to back
    cpu_ratio: float  # the same with CPU time: what load on this machine changes least
    boto3_ms: float
    primed: bool = False  # the handler registered a before-snapshot hook (SnapStart priming)

    @property
    def total_ms(self) -> float:
        return self.import_ms + self.init_ms + self.first_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per function (median)")
    parser.add_argument("--tracing", action="store_true", help="as with the stack's Tracing=Active")
    parser.add_argument(
        "--without-layer-bytecode",
        action="store_true",
        help="as deployed before make build compiled the layer: only the runtime's packages have .pyc",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also print the N costliest calls of each first event"
    )
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log

    from chorus_local.cloud import CloudConfig, LocalCloud

    with tempfile.TemporaryDirectory(prefix="chorus-cold-") as state:
        cloud = LocalCloud(
            CloudConfig(
                root=ROOT,
                state_dir=Path(state),
                api_port=0,
                aws_port=0,
                parameter_overrides={"LogLevel": "ERROR", "QuietHours": ""},
            )
        )
        cloud.start()
        # The story's metrics would fill the output; the measured children keep theirs (own env).
        metrics_before = os.environ.get("POWERTOOLS_METRICS_DISABLED")
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        try:
            first_events = record_first_events(cloud)
            return report(
                cloud,
                first_events,
                args.repeat,
                profile=args.profile,
                tracing=args.tracing,
                layer_bytecode=not args.without_layer_bytecode,
            )
        finally:
            cloud.stop()
            if metrics_before is None:
                os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
            else:
                os.environ["POWERTOOLS_METRICS_DISABLED"] = metrics_before


def record_first_events(cloud: LocalCloud) -> dict[str, Any]:
    """Runs the story and returns the first event each function was invoked with."""
    from chorus.snapstart import KEEP_ACTIVE_EVENT

    seen: dict[str, Any] = {}
    invoke = cloud.runtime.invoke

    def recording(spec: FunctionSpec, event: Any) -> Any:
        # The daily keep-active event (a KeepSnapshot schedule the clock fires) is no work to measure.
        if event != KEEP_ACTIVE_EVENT:
            seen.setdefault(spec.logical_id, json.loads(json.dumps(event, default=str)))
        return invoke(spec, event)

    cloud.runtime.invoke = recording  # type: ignore[method-assign]
    try:
        run_story(cloud)
    finally:
        cloud.runtime.invoke = invoke  # type: ignore[method-assign]
    return seen


def run_story(cloud: LocalCloud) -> None:
    from tests.support.local_cloud import activity_link, approval_form, upload

    from chorus.domain.content import content_id_for
    from chorus.domain.employee import employee_id_for

    upload(
        cloud,
        "employees",
        "cold.csv",
        f"email,name,timezone\ncold@example.com,Cold Start,{ZONE}\nleaving@example.com,Leaving Soon,{ZONE}\n",
    )
    ends = (cloud.clock.now() + timedelta(days=10)).date()
    upload(
        cloud,
        "content",
        "cold.csv",
        # A sentence, as a real post has: its "." makes the page's X counter look for URLs.
        f"id,title,url,text,ends_at\ncold,Cold,https://example.com/cold,We opened in Lyon. Come and see!,{ends}\n",
    )
    answer = requests.post(f"{cloud.api_url}/admin/digests", headers=admin(cloud), json={}, timeout=60)
    answer.raise_for_status()
    cloud.settle()

    employee, content = employee_id_for("cold@example.com"), content_id_for("cold", "", "")
    token = activity_link(cloud, employee, content, cloud.clock.now() + timedelta(days=2))
    requests.get(f"{cloud.api_url}/a/{token}", timeout=60).raise_for_status()
    body = approval_form(cloud, employee, content, network="sandbox", text_sandbox="Cold start", when="now")
    headers = {"content-type": "application/x-www-form-urlencoded", "origin": cloud.api_url}
    answer = requests.post(f"{cloud.api_url}/a/{token}", data=body, headers=headers, allow_redirects=False, timeout=60)
    if answer.status_code != 303:
        raise RuntimeError(f"the approval was refused: {answer.status_code} {answer.text[:300]}")
    cloud.scheduler.tick_to(cloud.clock.now() + timedelta(hours=1))  # publishes; the sweeper runs
    cloud.settle()

    requests.get(f"{cloud.api_url}/console/signin", timeout=60).raise_for_status()
    requests.post(f"{cloud.api_url}/admin/exports", headers=admin(cloud), json={}, timeout=60).raise_for_status()
    leaving = employee_id_for("leaving@example.com")
    requests.post(
        f"{cloud.api_url}/admin/employees/{leaving}/deactivate", headers=admin(cloud), json={}, timeout=60
    ).raise_for_status()
    cloud.settle()
    complaint = json.loads((ROOT / "events" / "email_feedback" / "complaint.json").read_text(encoding="utf-8"))
    cloud.runtime.invoke(cloud.functions["EmailFeedbackFunction"], complaint)
    # Slack is off on the local cloud: a click whose token is not one of ours starts the Slack
    # actions function, which refuses it (nothing recorded, Slack never called).
    click = json.loads((ROOT / "events" / "slack_actions" / "click.json").read_text(encoding="utf-8"))
    cloud.runtime.invoke(cloud.functions["SlackActionsFunction"], click)
    # Past next Monday's digest time: the weekly planner fires (and the daily census).
    cloud.scheduler.tick_to(cloud.clock.now() + timedelta(days=7))
    cloud.settle()


def admin(cloud: LocalCloud) -> dict[str, str]:
    """An admin's headers, minted now: the issuer reads the local clock, which the story moves."""
    token = cloud.issuer.issue({"sub": "bench", cloud.groups_claim: [cloud.admin_group]}, 600)
    return {"Authorization": f"Bearer {token}"}


# What the Lambda python3.13 runtime provides, compiled (tests/unit/test_packaging.py): the rest
# of what a function imports comes from the layer.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "dateutil", "six")


def runtime_only_bytecode(prefix: Path) -> Path:
    """A PYTHONPYCACHEPREFIX folder holding .pyc for the standard library and the runtime's
    packages only: a process using it compiles every layer module from source, as Lambda did
    before ``make build`` compiled the layer (sam build ships no .pyc, /opt is read-only)."""
    import importlib.util
    import sysconfig

    folders = [sysconfig.get_paths()["stdlib"]]
    for name in RUNTIME_PACKAGES:
        found = importlib.util.find_spec(name)
        if found is None or found.origin is None:
            raise RuntimeError(f"{name} is not installed")
        folders.append(str(Path(found.origin).parent) if found.submodule_search_locations else found.origin)
    skip = r"[/\\](test|tests|idlelib|tkinter|turtledemo|lib2to3)[/\\]"
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "-x", skip, *folders],
        env={**os.environ, "PYTHONPYCACHEPREFIX": str(prefix)},  # its workers read it too, not -X
        check=True,
        capture_output=True,
    )
    return prefix


def measure(
    cloud: LocalCloud,
    spec: FunctionSpec,
    event: Any,
    repeat: int,
    workdir: str,
    profile: int = 0,
    *,
    tracing: bool,
    bytecode_prefix: Path | None = None,
    snapstart: bool = False,
) -> ColdStart:
    """Without ``snapstart``, the whole cold start; with it, the SnapStart path: import, init and
    the before-snapshot hooks (the snapshot, paid when a version is published: ``init_ms``
    includes the priming), then what a restored environment runs: the after-restore hooks and
    the first event (``first_ms``), which alone the ratios compare to ``import boto3``."""
    from chorus_local.functions import LambdaContext

    module, _, attribute = spec.handler.rpartition(".")
    env = lambda_like_env([LAYER, spec.code_uri])
    env.update(cloud.runtime.lambda_environment(spec, LambdaContext(spec)))
    env.update(
        {
            "AWS_ENDPOINT_URL": cloud.aws_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "PYTHONPATH": os.pathsep.join(str(path) for path in (LAYER, spec.code_uri)),
            "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
        }
    )
    if bytecode_prefix is not None:
        env.update({"PYTHONPYCACHEPREFIX": str(bytecode_prefix), "PYTHONDONTWRITEBYTECODE": "1"})
    job = Path(workdir) / f"{spec.logical_id}{'-snapstart' if snapstart else ''}.json"
    job.write_text(
        json.dumps(
            {
                "module": module,
                "attribute": attribute,
                "function_name": spec.name,
                "arn": spec.arn,
                "memory": spec.memory,
                "event": event,
                "profile": profile,
                "snapstart": snapstart,
            }
        ),
        encoding="utf-8",
    )
    paid = slice(2, 3) if snapstart else slice(0, 3)  # after a restore: its hooks and the event
    runs: list[dict[str, Any]] = []
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    baselines: list[float] = []
    for _ in range(repeat):
        # Each run is paired with a baseline run just before it: on a busy machine, the load
        # that slows one slows the other, and their ratio stays meaningful.
        baseline_wall, baseline_cpu = import_boto3(workdir)
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(job)],
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{spec.logical_id} did not start:\n{proc.stderr.strip()[-2000:]}")
        if profile:
            print(f"--- {spec.logical_id}: where its first event's time goes\n{proc.stderr.strip()}")
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        if not run["entry"]:
            raise RuntimeError(f"{spec.logical_id}: its handler imports no entry point from chorus.bootstrap")
        runs.append(run)
        baselines.append(baseline_wall * 1000)
        ratios.append(sum(run["wall"][paid]) / baseline_wall)
        cpu_ratios.append(sum(run["cpu"][paid]) / baseline_cpu)

    def median_ms(figure: Callable[[dict[str, Any]], float]) -> float:
        return statistics.median(figure(run) for run in runs) * 1000

    return ColdStart(
        function=spec.logical_id,
        import_ms=median_ms(lambda run: run["wall"][0]),
        init_ms=median_ms(lambda run: run["wall"][1]),
        first_ms=median_ms(lambda run: run["wall"][2]),
        waiting_ms=median_ms(lambda run: sum(run["wall"][paid]) - sum(run["cpu"][paid])),
        error=next((run["error"] for run in runs if run["error"]), None),
        status=runs[-1]["status"],
        ratio=statistics.median(ratios),
        cpu_ratio=statistics.median(cpu_ratios),
        boto3_ms=statistics.median(baselines),
        primed=any(run["primed"] for run in runs),
    )


def report(
    cloud: LocalCloud,
    first_events: dict[str, Any],
    repeat: int,
    *,
    profile: int = 0,
    tracing: bool = False,
    layer_bytecode: bool = True,
) -> int:
    failed = False
    missing = sorted(set(cloud.functions) - set(first_events))
    with tempfile.TemporaryDirectory(prefix="chorus-cold-run-") as workdir:
        prefix = None if layer_bytecode else runtime_only_bytecode(Path(workdir) / "runtime-bytecode")
        print(
            f"Cold start per function with SnapStart=None (for reference, not checked), tracing "
            f"{'on' if tracing else 'off'}, "
            f"{'layer compiled (make build)' if layer_bytecode else 'layer NOT compiled (sam build alone)'}: "
            f"median of {repeat} fresh processes, {datetime.now(UTC):%Y-%m-%d}"
        )
        print(
            f"{'function':<24} {'import':>7} {'init':>7} {'1st event':>9} {'total':>7} {'waiting':>7} "
            f"{'boto3':>7} {'x boto3':>7} {'x CPU':>6} {'target':>6}  answer"
        )
        for logical_id in sorted(first_events):
            result = measure(
                cloud,
                cloud.functions[logical_id],
                first_events[logical_id],
                repeat,
                workdir,
                profile,
                tracing=tracing,
                bytecode_prefix=prefix,
            )
            failed |= not print_row(result, result.total_ms, checked=False)
        print(
            "\nWith SnapStart, as deployed (template.yaml, parameter SnapStart; the target is checked "
            "here): snapshot = import + init + the handler's before-snapshot priming, paid when a version "
            "is published; restored = what each cold start runs after Lambda's restore (after-restore "
            "hooks + the 1st event), compared to import boto3. primed no: the handler registers no priming"
        )
        print(
            f"{'function':<24} {'primed':>7} {'snapshot':>8} {'restored':>9} {'':>7} {'waiting':>7} "
            f"{'boto3':>7} {'x boto3':>7} {'x CPU':>6} {'target':>6}  answer"
        )
        for logical_id in sorted(first_events):
            result = measure(
                cloud,
                cloud.functions[logical_id],
                first_events[logical_id],
                repeat,
                workdir,
                tracing=tracing,
                bytecode_prefix=prefix,
                snapstart=True,
            )
            failed |= not print_row(result, None, checked=True)
    if missing:
        failed = True
        print(f"not reached by the story (no first event recorded): {', '.join(missing)}")
    print(
        f"target, per handler: what runs after the restore (with SnapStart=None, for reference: import "
        f"+ init + 1st event) <= {TARGET_RATIO} x import boto3 (wall clock); ms are medians; "
        "waiting = wall clock off this process's CPU (moto answering over loopback, and other load); "
        "x CPU = the ratio of CPU times, which a busy machine changes least"
    )
    print(
        "NOT MEASURED: the restore itself. Lambda reports it per cold start as REPORT's Restore Duration "
        "(resuming the snapshot, loading the runtime, running the after-restore hooks; Billed Restore "
        "Duration omits the resume) - AWS docs, 'Monitoring for Lambda SnapStart'. Here the restored part "
        "runs in the process that took the snapshot, its memory already resident; on Lambda the snapshot's "
        "pages are loaded on first touch, which slows the first event too. Read these rows as a floor."
    )
    verdict = "FAILED" if failed else "PASSED"
    print(f"{verdict}: every function's restored path within the target, every event handled")
    return 1 if failed else 0


def print_row(result: ColdStart, total_ms: float | None, *, checked: bool) -> bool:
    """One function's row (the whole cold start, or with ``total_ms`` None its SnapStart path).
    False when it failed its event or, ``checked``, missed the target: PASS or FAIL; a row not
    checked says only whether it is within the target or over it."""
    within = result.ratio <= TARGET_RATIO
    ok = result.error is None and (within or not checked)
    reference = "FAIL" if result.error else ("within" if within else "over")
    verdict = ("PASS" if ok else "FAIL") if checked else reference
    answer = result.error or (f"HTTP {result.status}" if result.status else "ok")
    if total_ms is None:
        figures = (
            f"{'yes' if result.primed else 'no':>7} {result.import_ms + result.init_ms:>8.1f} "
            f"{result.first_ms:>9.1f} {'':>7}"
        )
    else:
        figures = f"{result.import_ms:>7.1f} {result.init_ms:>7.1f} {result.first_ms:>9.1f} {total_ms:>7.1f}"
    print(
        f"{result.function:<24} {figures} {result.waiting_ms:>7.1f} {result.boto3_ms:>7.1f} {result.ratio:>7.2f} "
        f"{result.cpu_ratio:>6.2f} {TARGET_RATIO:>6.2f}  {verdict} {answer}"
    )
    return ok


if __name__ == "__main__":
    sys.exit(main())
