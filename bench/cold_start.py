"""Cold start as Lambda pays it: import, init and the first handled event, per function.

    python -m bench.cold_start [--repeat 3] [--check]

The local cloud (infra/local: moto on a loopback port) runs one short story first: a roster and
a content item uploaded, a digest sent, the page opened, a post approved and published, a report
requested, an employee deactivated, a complaint received, the week's planner and the sweeper
fired by the clock. The first event each function receives is recorded. Then, for each function,
a fresh interpreter laid out like Lambda (the layer, then the function's folder on PYTHONPATH;
the function's resolved environment, tracing off as the template's default, or on with
``--tracing``; the AWS endpoint set to that moto) imports the handler and
hands it the recorded event, with a Lambda-like context. Three figures per function, each the
median of ``--repeat`` fresh processes:

- import: ``import <handler module>`` (what bench.import_time measures),
- first event: the handler's first call (settings parsed, clients built, models loaded, the
  event handled, including its AWS calls),
- total, and its ratio to ``import boto3`` alone in the same layout, run just before each
  measured process (the median of those pairs' ratios). Target: at most 1.5x.

What differs from Lambda, honestly: the AWS calls go to moto over loopback (about a millisecond
each, where AWS answers in a few); with ``--tracing`` the X-Ray SDK is loaded and patches
botocore as in Lambda, but its segments go to no daemon;
the replayed event finds the story's state already there, so handlers take their idempotent
path (already sent, already published), which builds the same clients and makes the same reads.
Exit status 0 unless ``--check`` is given and a function misses the target or fails its event.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

ROOT = Path(__file__).resolve().parents[1]
for folder in ("layers/chorus", "infra/local", "."):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

from bench.import_time import LAYER, lambda_like_env, time_import  # noqa: E402

if TYPE_CHECKING:
    from chorus_local.cloud import LocalCloud
    from chorus_local.functions import FunctionSpec

TARGET_RATIO = 1.5
ZONE = "Europe/Paris"

# The child: times the import and the first call, prints both (seconds) as JSON on its last line.
_CHILD = """
import json, sys, time, uuid
spec = json.load(open(sys.argv[1]))
t0 = time.perf_counter()
module = __import__(spec["module"], fromlist=["_"])
t1 = time.perf_counter()

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
try:
    answer = getattr(module, spec["attribute"])(spec["event"], Context())
except Exception as exc:
    answer, error = None, f"{type(exc).__name__}: {exc}"
t2 = time.perf_counter()
if profiler is not None:
    import pstats
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(spec["profile"])
status = answer.get("statusCode") if isinstance(answer, dict) else None
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "error": error, "status": status}))
"""


@dataclass(frozen=True)
class ColdStart:
    function: str
    import_ms: float
    first_ms: float
    error: str | None
    status: int | None
    ratio: float  # median of (total / import boto3) over pairs run back to back
    boto3_ms: float

    @property
    def total_ms(self) -> float:
        return self.import_ms + self.first_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per function (median)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if a function exceeds {TARGET_RATIO}x boto3")
    parser.add_argument("--tracing", action="store_true", help="as with the stack's Tracing=Active")
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
                cloud, first_events, args.repeat, check=args.check, profile=args.profile, tracing=args.tracing
            )
        finally:
            cloud.stop()
            if metrics_before is None:
                os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
            else:
                os.environ["POWERTOOLS_METRICS_DISABLED"] = metrics_before


def record_first_events(cloud: LocalCloud) -> dict[str, Any]:
    """Runs the story and returns the first event each function was invoked with."""
    seen: dict[str, Any] = {}
    invoke = cloud.runtime.invoke

    def recording(spec: FunctionSpec, event: Any) -> Any:
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
        f"id,title,url,text,ends_at\ncold,Cold,https://example.com/cold,Share me,{ends}\n",
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
    # Past next Monday's digest time: the weekly planner fires (and the daily census).
    cloud.scheduler.tick_to(cloud.clock.now() + timedelta(days=7))
    cloud.settle()


def admin(cloud: LocalCloud) -> dict[str, str]:
    """An admin's headers, minted now: the issuer reads the local clock, which the story moves."""
    token = cloud.issuer.issue({"sub": "bench", cloud.groups_claim: [cloud.admin_group]}, 600)
    return {"Authorization": f"Bearer {token}"}


def measure(
    cloud: LocalCloud, spec: FunctionSpec, event: Any, repeat: int, workdir: str, profile: int = 0, *, tracing: bool
) -> ColdStart:
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
    job = Path(workdir) / f"{spec.logical_id}.json"
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
            }
        ),
        encoding="utf-8",
    )
    runs: list[dict[str, Any]] = []
    ratios: list[float] = []
    baselines: list[float] = []
    for _ in range(repeat):
        # Each run is paired with a baseline run just before it: on a busy machine, the load
        # that slows one slows the other, and their ratio stays meaningful.
        baseline = time_import("boto3", [LAYER], 1, workdir).median_ms
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
        runs.append(run)
        baselines.append(baseline)
        ratios.append((run["import"] + run["first"]) * 1000 / baseline)
    return ColdStart(
        function=spec.logical_id,
        import_ms=statistics.median(run["import"] for run in runs) * 1000,
        first_ms=statistics.median(run["first"] for run in runs) * 1000,
        error=next((run["error"] for run in runs if run["error"]), None),
        status=runs[-1]["status"],
        ratio=statistics.median(ratios),
        boto3_ms=statistics.median(baselines),
    )


def report(
    cloud: LocalCloud,
    first_events: dict[str, Any],
    repeat: int,
    *,
    check: bool,
    profile: int = 0,
    tracing: bool = False,
) -> int:
    failed = False
    missing = sorted(set(cloud.functions) - set(first_events))
    with tempfile.TemporaryDirectory(prefix="chorus-cold-run-") as workdir:
        print(
            f"Cold start per function, tracing {'on' if tracing else 'off'}: "
            f"median of {repeat} fresh processes, {datetime.now(UTC):%Y-%m-%d}"
        )
        print(
            f"{'function':<24} {'import ms':>10} {'1st event':>10} {'total':>8} {'boto3 ms':>9} {'x boto3':>8}  answer"
        )
        for logical_id in sorted(first_events):
            result = measure(
                cloud, cloud.functions[logical_id], first_events[logical_id], repeat, workdir, profile, tracing=tracing
            )
            ratio = result.ratio
            ok = ratio <= TARGET_RATIO and result.error is None
            failed |= not ok
            answer = result.error or (f"HTTP {result.status}" if result.status else "ok")
            print(
                f"{logical_id:<24} {result.import_ms:>10.1f} {result.first_ms:>10.1f} {result.total_ms:>8.1f} "
                f"{result.boto3_ms:>9.1f} {ratio:>8.2f}  {'PASS' if ok else 'FAIL'} {answer}"
            )
    if missing:
        failed = True
        print(f"not reached by the story (no first event recorded): {', '.join(missing)}")
    print(f"target: total <= {TARGET_RATIO} x import boto3")
    return 1 if (check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
