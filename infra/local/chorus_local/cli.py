"""The ``chorus`` command line: run the local cloud, mint admin tokens, move the clock, upload.

``chorus local up|down|status|tick|admin-token`` manage the local cloud; ``chorus upload`` and
``chorus report`` work against the local cloud by default (bucket and endpoint from
``/_local/health``) or against a deployed stack with ``--stack NAME`` (bucket from the stack's
outputs, real AWS credentials from the usual boto3 chain, or ``--profile``). ``chorus deactivate``
and ``chorus erase`` call the admin API (the local gateway with a minted token, or the stack's ApiUrl with ``--token``).
``chorus doctor --stack NAME`` checks a deployed stack, read-only (chorus_local.doctor).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import boto3
import requests
from botocore.exceptions import BotoCoreError, ClientError

from chorus import clock as chorus_clock
from chorus_local.cloud import (
    DEFAULT_API_PORT,
    DEFAULT_AWS_PORT,
    DEFAULT_STATE_DIR,
    STATE_FILE,
    CloudConfig,
    LocalCloud,
    find_project_root,
)
from chorus_local.log import configure

if TYPE_CHECKING:
    from chorus_local.doctor.run import DoctorClients

PID_FILE = "chorus-local.pid"
# `chorus local status`: 0 running and healthy, 1 not running, 2 running with problems.
EXIT_DEGRADED = 2
LOG_FILE = "chorus-local.log"
HTTP_TIMEOUT = 10


class CliError(Exception):
    """A user-facing failure: printed without a traceback, exit code 1 (or ``code``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


# ----------------------------------------------------------------------------- argument parsing


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chorus", description="Chorus developer tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    _local_commands(commands.add_parser("local", help="run the local cloud"))
    demo = commands.add_parser("demo", help="start the local cloud with sample data and send the digest")
    _cloud_args(demo, log_level="WARNING")
    _data_commands(commands)
    _doctor_args(commands.add_parser("doctor", help="check a deployed stack, read-only (README: deploy guide)"))
    return parser


def _cloud_args(parser: argparse.ArgumentParser, *, log_level: str) -> None:
    """What starting a local cloud takes (`local up`, `demo`)."""
    parser.add_argument("--api-port", type=int, default=_env_int("CHORUS_API_PORT", DEFAULT_API_PORT))
    parser.add_argument("--aws-port", type=int, default=_env_int("CHORUS_AWS_PORT", DEFAULT_AWS_PORT))
    parser.add_argument("--state-dir", type=Path, default=Path(DEFAULT_STATE_DIR))
    parser.add_argument("--project-dir", type=Path, default=None, help="folder holding template.yaml")
    parser.add_argument("--log-level", default=os.environ.get("CHORUS_LOG_LEVEL", log_level))
    parser.add_argument(
        "--parameter", "-p", action="append", default=[], metavar="NAME=VALUE", help="template parameter override"
    )


def _local_commands(local: argparse.ArgumentParser) -> None:
    local_commands = local.add_subparsers(dest="local_command", required=True)

    up = local_commands.add_parser("up", help="start the local cloud")
    _cloud_args(up, log_level="INFO")
    up.add_argument("--detach", action="store_true", help="run in the background and return")
    up.add_argument("--wait", type=float, default=90.0, help="seconds --detach waits for health")

    url = local_commands.add_parser("url", help="print the gateway's URL (or moto's, with --aws)")
    url.add_argument("--aws", action="store_true", help="moto's endpoint (AWS_ENDPOINT_URL) instead")
    _target_args(url, stack=False)

    for name, text in (("status", "show health"), ("down", "stop a detached local cloud")):
        sub = local_commands.add_parser(name, help=text)
        sub.add_argument("--state-dir", type=Path, default=Path(DEFAULT_STATE_DIR))
        if name == "status":
            sub.add_argument("--api-url", default=None)
        else:
            sub.add_argument("--timeout", type=float, default=30.0)

    tick = local_commands.add_parser("tick", help="advance the virtual clock and fire due schedules")
    tick.add_argument("--to", required=True, help="ISO 8601 instant, e.g. 2025-06-02T09:00:00+02:00")
    _target_args(tick, stack=False)

    token = local_commands.add_parser("admin-token", help="print a bearer token for the admin API")
    token.add_argument("--sub", default="local-admin")
    token.add_argument("--email", default="admin@example.com")
    token.add_argument("--group", action="append", default=None, help="repeatable; default: the admin group")
    _target_args(token, stack=False)


def _data_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands that work on the local cloud or, with --stack, a deployed one."""
    upload = commands.add_parser("upload", help="upload a content or employees file and print its report")
    upload.add_argument("kind", choices=["content", "employees"])
    upload.add_argument("file", type=Path)
    upload.add_argument("--timeout", type=float, default=60.0)
    _target_args(upload, stack=True)

    report = commands.add_parser("report", help="print the report of an upload")
    report.add_argument("key", help="upload key (uploads/...) or report key (reports/...)")
    _target_args(report, stack=True)

    deactivate = commands.add_parser(
        "deactivate", help="deactivate an employee: cancel their scheduled posts, delete their social tokens"
    )
    who = deactivate.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="the employee's email address")
    who.add_argument("--employee-id", help="the employee's id (e-...)")
    deactivate.add_argument(
        "--token",
        default=os.environ.get("CHORUS_ADMIN_TOKEN"),
        help="admin bearer token for --stack (default: $CHORUS_ADMIN_TOKEN); minted locally otherwise",
    )
    _target_args(deactivate, stack=True)

    erase = commands.add_parser(
        "erase",
        help="erase an employee (their request to be forgotten): withdraw everything, delete their data, "
        "keep the pseudonymised consent ledger",
    )
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="the employee's email address (never put in a URL)")
    who.add_argument("--employee-id", help="the employee's id (e-...)")
    erase.add_argument(
        "--token",
        default=os.environ.get("CHORUS_ADMIN_TOKEN"),
        help="admin bearer token for --stack (default: $CHORUS_ADMIN_TOKEN); minted locally otherwise",
    )
    _target_args(erase, stack=True)


def _doctor_args(doctor: argparse.ArgumentParser) -> None:
    doctor.add_argument("--stack", required=True, help="the deployed stack's name")
    doctor.add_argument("--region", default=None)
    doctor.add_argument("--profile", default=None, help="AWS profile (default: the usual boto3 chain)")
    doctor.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _target_args(parser: argparse.ArgumentParser, *, stack: bool) -> None:
    parser.add_argument("--api-url", default=None, help="local gateway URL (default: from the state dir)")
    parser.add_argument("--state-dir", type=Path, default=Path(DEFAULT_STATE_DIR))
    if stack:
        parser.add_argument("--stack", default=None, help="target a deployed stack instead of the local cloud")
        parser.add_argument("--region", default=None)
        parser.add_argument("--profile", default=None, help="AWS profile for --stack")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "local":
            handler = {
                "up": cmd_up,
                "status": cmd_status,
                "down": cmd_down,
                "tick": cmd_tick,
                "admin-token": cmd_admin_token,
                "url": cmd_url,
            }[args.local_command]
            return handler(args)
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "deactivate":
            return cmd_deactivate(args)
        if args.command == "erase":
            return cmd_erase(args)
        if args.command == "upload":
            return cmd_upload(args)
        if args.command == "doctor":
            return cmd_doctor(args)
        return cmd_report(args)
    except CliError as exc:
        print(f"chorus: {exc}", file=sys.stderr)
        return exc.code


# ----------------------------------------------------------------------------- local up / down


def _parameters(pairs: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise CliError(f"--parameter expects NAME=VALUE, got {pair!r}")
        result[name] = value
    return result


def _print_urls(api_url: str, aws_url: str) -> None:
    print("Chorus local cloud is up (`chorus local url` prints the gateway's URL for scripts)")
    print(f"  gateway : {api_url}")
    print(f"  index   : {api_url}/_local/")
    print(f"  outbox  : {api_url}/_local/outbox")
    print(f"  feed    : {api_url}/_local/feed")
    print(f"  health  : {api_url}/_local/health")
    print(f"  moto    : {aws_url}  (AWS_ENDPOINT_URL)")


def cmd_up(args: argparse.Namespace) -> int:
    root = (args.project_dir or find_project_root()).resolve()
    state_dir: Path = args.state_dir if args.state_dir.is_absolute() else (Path.cwd() / args.state_dir)
    if args.detach:
        return _up_detached(args, root, state_dir)
    return _run_foreground(args, root, state_dir)


def cmd_demo(args: argparse.Namespace) -> int:
    """The local cloud in the foreground, loaded with the sample roster and content, digest sent."""
    root = (args.project_dir or find_project_root()).resolve()
    state_dir: Path = args.state_dir if args.state_dir.is_absolute() else (Path.cwd() / args.state_dir)
    # Quiet function logs: the demo prints what matters; `chorus local up` keeps them at INFO.
    args.parameter = ["LogLevel=WARNING", *args.parameter]
    from chorus_local.demo import load_demo

    return _run_foreground(args, root, state_dir, on_ready=lambda cloud: load_demo(cloud, root))


def _run_foreground(
    args: argparse.Namespace, root: Path, state_dir: Path, on_ready: Callable[[LocalCloud], None] | None = None
) -> int:
    configure(args.log_level)
    cloud = LocalCloud(
        CloudConfig(
            root=root,
            state_dir=state_dir,
            api_port=args.api_port,
            aws_port=args.aws_port,
            parameter_overrides=_parameters(args.parameter),
        )
    )
    try:
        cloud.start()
    except OSError as exc:
        raise CliError(f"cannot start: {exc} (ports api={args.api_port}, aws={args.aws_port})") from exc
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    pid_file = state_dir / PID_FILE
    pid_file.write_text(str(os.getpid()), encoding="utf-8")
    try:
        _print_urls(cloud.api_url, cloud.aws_url)
        if on_ready is not None:
            on_ready(cloud)
        print("Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        cloud.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if pid_file.exists() and pid_file.read_text(encoding="utf-8").strip() == str(os.getpid()):
            pid_file.unlink()
    print("Chorus local cloud stopped.", flush=True)
    return 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")  # a zombie is dead for our purpose
    return not (status.exists() and "State:\tZ" in status.read_text(encoding="utf-8", errors="replace"))


def _is_chorus_process(pid: int) -> bool:
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():  # not Linux: trust the pid file
        return True
    return b"chorus" in cmdline.read_bytes()


def _read_pid(state_dir: Path) -> int | None:
    pid_file = state_dir / PID_FILE
    try:
        return int(pid_file.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _up_detached(args: argparse.Namespace, root: Path, state_dir: Path) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    existing = _read_pid(state_dir)
    if existing is not None and _pid_alive(existing) and _is_chorus_process(existing):
        raise CliError(f"already running (pid {existing}); run `chorus local down --state-dir {state_dir}` first")
    log_path = state_dir / LOG_FILE
    command = [
        sys.executable,
        "-m",
        "chorus_local",
        "local",
        "up",
        "--api-port",
        str(args.api_port),
        "--aws-port",
        str(args.aws_port),
        "--state-dir",
        str(state_dir),
        "--project-dir",
        str(root),
        "--log-level",
        args.log_level,
        *[f"--parameter={pair}" for pair in args.parameter],
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,
        )
    (state_dir / PID_FILE).write_text(str(process.pid), encoding="utf-8")
    api_url = f"http://127.0.0.1:{args.api_port}"
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CliError(f"local cloud exited with code {process.returncode}; log tail:\n{_log_tail(log_path)}")
        try:
            health = requests.get(f"{api_url}/_local/health", timeout=2).json()
        except (requests.RequestException, ValueError):
            time.sleep(0.3)
            continue
        _print_urls(health["urls"]["api"], health["urls"]["aws"])
        print(f"  pid     : {process.pid}  (log: {log_path})")
        return 0
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    raise CliError(f"local cloud not healthy after {args.wait:.0f}s; log tail:\n{_log_tail(log_path)}")


def cmd_down(args: argparse.Namespace) -> int:
    state_dir: Path = args.state_dir
    pid = _read_pid(state_dir)
    if pid is None or not _pid_alive(pid):
        print("not running")
        (state_dir / PID_FILE).unlink(missing_ok=True)
        return 0
    if not _is_chorus_process(pid):
        raise CliError(f"pid {pid} in {state_dir / PID_FILE} is not a chorus process; not touching it")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            (state_dir / PID_FILE).unlink(missing_ok=True)
            print(f"stopped (pid {pid})")
            return 0
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    (state_dir / PID_FILE).unlink(missing_ok=True)
    raise CliError(f"pid {pid} did not stop within {args.timeout:.0f}s; killed")


# ----------------------------------------------------------------------------- talking to the gateway


def resolve_api_url(args: argparse.Namespace) -> str:
    if getattr(args, "api_url", None):
        return str(args.api_url).rstrip("/")
    state = Path(args.state_dir) / STATE_FILE
    if state.exists():
        try:
            return str(json.loads(state.read_text(encoding="utf-8"))["api_url"]).rstrip("/")
        except (ValueError, KeyError):
            pass
    return f"http://127.0.0.1:{_env_int('CHORUS_API_PORT', DEFAULT_API_PORT)}"


def _get_health(api_url: str) -> dict[str, Any]:
    try:
        response = requests.get(f"{api_url}/_local/health", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        health: dict[str, Any] = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise CliError(f"local cloud not running at {api_url}") from exc
    return health


def cmd_status(args: argparse.Namespace) -> int:
    api_url = resolve_api_url(args)
    try:
        health = _get_health(api_url)
    except CliError:
        print(f"not running ({api_url})")
        return 1
    print(f"running: {api_url}  clock {health.get('clock')}")
    for name, url in (health.get("urls") or {}).items():
        print(f"  {name:8}: {url}")
    print("  resources:")
    for logical_id, name in (health.get("resources") or {}).items():
        print(f"    {logical_id}: {name}")
    problems = health.get("problems") or []
    if not problems:
        return 0
    print(f"PROBLEMS ({health.get('problems_total', len(problems))}, latest last):")
    for problem in problems:
        where = f"{problem.get('source')}" + (f" / {problem['function']}" if problem.get("function") else "")
        print(f"  {problem.get('at')}  {where}: {problem.get('error')}")
    return EXIT_DEGRADED


def cmd_url(args: argparse.Namespace) -> int:
    """The URL in use (whatever ports it was started on), so examples and scripts need no port."""
    health = _get_health(resolve_api_url(args))
    print(health["urls"]["aws" if args.aws else "api"])
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    api_url = resolve_api_url(args)
    try:
        response = requests.post(f"{api_url}/_local/clock", json={"to": args.to}, timeout=600)
    except requests.RequestException as exc:
        raise CliError(f"local cloud not running at {api_url}") from exc
    body = response.json()
    if response.status_code != 200:
        raise CliError(str(body.get("message", body)))
    print(f"clock: {body['now']}")
    fired = body.get("fired") or []
    if not fired:
        print("nothing fired")
    for item in fired:
        outcome = "ok" if item.get("ok") else f"FAILED ({item.get('error')})"
        deleted = " (deleted)" if item.get("deleted") else ""
        print(f"  {item.get('occurrence')}  {item.get('schedule')} -> {item.get('target')}: {outcome}{deleted}")
    return 0


def cmd_admin_token(args: argparse.Namespace) -> int:
    api_url = resolve_api_url(args)
    payload: dict[str, Any] = {"sub": args.sub, "email": args.email}
    if args.group:
        payload["groups"] = args.group
    try:
        response = requests.post(f"{api_url}/_local/token", json=payload, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise CliError(f"local cloud not running at {api_url}") from exc
    print(response.json()["token"])
    return 0


# ----------------------------------------------------------------------------- uploads and reports


@dataclass
class UploadTarget:
    bucket: str
    s3: Any
    # The target's time: the local cloud's virtual clock, or None for a deployed stack (real time).
    now: datetime | None = None


def aws_session(args: argparse.Namespace) -> boto3.Session:
    """The operator's own credentials: --profile, or the usual boto3 chain; --region, or theirs."""
    try:
        session = boto3.Session(profile_name=getattr(args, "profile", None), region_name=args.region)
    except BotoCoreError as exc:  # an unknown profile
        raise CliError(str(exc)) from exc
    if not session.region_name:
        raise CliError("no AWS region: pass --region, or set AWS_REGION or your profile's region")
    return session


def _stack_outputs(args: argparse.Namespace, session: boto3.Session) -> dict[str, str]:
    cloudformation = session.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=args.stack)["Stacks"]
    except Exception as exc:  # botocore raises many shapes; all mean "cannot read the stack"
        raise CliError(f"cannot describe stack {args.stack}: {exc}") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def resolve_target(args: argparse.Namespace) -> UploadTarget:
    if getattr(args, "stack", None):
        session = aws_session(args)
        outputs = _stack_outputs(args, session)
        if "UploadsBucketName" not in outputs:
            raise CliError(f"stack {args.stack} has no UploadsBucketName output")
        return UploadTarget(outputs["UploadsBucketName"], session.client("s3"))
    health = _get_health(resolve_api_url(args))
    bucket = (health.get("outputs") or {}).get("UploadsBucketName")
    if not bucket:
        raise CliError("the local cloud reports no UploadsBucketName output")
    s3 = boto3.client(
        "s3",
        endpoint_url=health["urls"]["aws"],
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
    )
    return UploadTarget(str(bucket), s3, now=datetime.fromisoformat(str(health["clock"])))


def upload_key(kind: str, file: Path, now: datetime | None = None) -> str:
    when = now or datetime.now(UTC)
    return f"uploads/{kind}/{when:%Y/%m/%d}/{file.name}"


def report_key(key: str) -> str:
    return key if key.startswith("reports/") else f"reports/{key}.json"


def cmd_upload(args: argparse.Namespace) -> int:
    file: Path = args.file
    if not file.is_file():
        raise CliError(f"no such file: {file}")
    target = resolve_target(args)
    key = upload_key(args.kind, file, target.now)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    target.s3.put_object(Bucket=target.bucket, Key=key, Body=file.read_bytes(), ContentType=content_type)
    uploaded_at = target.s3.head_object(Bucket=target.bucket, Key=key)["LastModified"]
    print(f"uploaded s3://{target.bucket}/{key}; waiting for the report...", flush=True)
    report = _wait_for_report(target, report_key(key), uploaded_at, args.timeout)
    if report is None:
        raise CliError(f"no report at {report_key(key)} after {args.timeout:.0f}s", code=2)
    return print_report(report)


def _wait_for_report(target: UploadTarget, key: str, not_before: datetime, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            obj = target.s3.get_object(Bucket=target.bucket, Key=key)
        except target.s3.exceptions.NoSuchKey:
            time.sleep(0.5)
            continue
        if obj["LastModified"] >= not_before:
            report: dict[str, Any] = json.loads(obj["Body"].read())
            return report
        time.sleep(0.5)
    return None


def cmd_report(args: argparse.Namespace) -> int:
    target = resolve_target(args)
    key = report_key(args.key)
    try:
        obj = target.s3.get_object(Bucket=target.bucket, Key=key)
    except target.s3.exceptions.NoSuchKey as exc:
        raise CliError(f"no report at s3://{target.bucket}/{key}") from exc
    return print_report(json.loads(obj["Body"].read()))


def format_report(report: dict[str, Any]) -> list[str]:
    kind, file_format = report.get("kind", "?"), report.get("format", "?")
    lines = [f"{report.get('key', '?')}: {report.get('status', '?')} ({kind}, {file_format})"]
    counts = report.get("counts") or {}
    order = ["rows", "accepted", "created", "updated", "unchanged", "rejected"]
    names = [name for name in order if name in counts] + [name for name in counts if name not in order]
    if names:
        lines.append(", ".join(f"{name} {counts[name]}" for name in names))
    errors = report.get("errors") or []
    if errors:
        lines.append("rejected rows:")
        for error in errors:
            field = error.get("field")
            where = f"line {error.get('line', '?')}" + (f", field {field}" if field else "")
            lines.append(f"  {where}: {error.get('reason', '')}")
    for title, key in (("file errors", "file_errors"), ("warnings", "warnings")):
        items = report.get(key) or []
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  {item.get('reason', item) if isinstance(item, dict) else item}" for item in items)
    return lines


def report_failed(report: dict[str, Any]) -> bool:
    counts = report.get("counts") or {}
    return bool(
        report.get("status") == "rejected"
        or int(counts.get("rejected") or 0) > 0
        or report.get("errors")
        or report.get("file_errors")
    )


def print_report(report: dict[str, Any]) -> int:
    for line in format_report(report):
        print(line)
    return 1 if report_failed(report) else 0


# ----------------------------------------------------------------------------- employees


def _admin_api(args: argparse.Namespace) -> tuple[str, str]:
    """The admin API's base URL and a bearer token: the stack's ApiUrl and ``--token``, or the
    local gateway and a token it mints."""
    if getattr(args, "stack", None):
        if not args.token:
            raise CliError("--stack needs an admin token: --token or $CHORUS_ADMIN_TOKEN")
        outputs = _stack_outputs(args, aws_session(args))
        if "ApiUrl" not in outputs:
            raise CliError(f"stack {args.stack} has no ApiUrl output")
        return outputs["ApiUrl"].rstrip("/"), str(args.token)
    api_url = resolve_api_url(args)
    if args.token:
        return api_url, str(args.token)
    try:
        response = requests.post(f"{api_url}/_local/token", json={"sub": "cli-admin"}, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise CliError(f"local cloud not running at {api_url}") from exc
    return api_url, str(response.json()["token"])


def _admin_post(api_url: str, token: str, path: str, payload: dict[str, Any] | None = None) -> requests.Response:
    try:
        return requests.post(
            f"{api_url}{path}", headers={"Authorization": f"Bearer {token}"}, json=payload, timeout=120
        )
    except requests.RequestException as exc:
        raise CliError(f"cannot reach the admin API at {api_url}: {exc}") from exc


def _body(response: requests.Response) -> dict[str, Any]:
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {"message": response.text[:200]}
    return body


def _employee_id(args: argparse.Namespace, api_url: str, token: str) -> str:
    """``--employee-id``, or who ``--email`` is now (asked of the API in a body, never a URL: an
    address that was erased and uploaded again is a new employee with another id)."""
    if args.employee_id:
        return str(args.employee_id)
    response = _admin_post(api_url, token, "/admin/employees/lookup", {"email": args.email})
    if response.status_code == 404:
        raise CliError("no employee has this address")
    if response.status_code != 200:
        raise CliError(f"lookup failed ({response.status_code}): {_body(response).get('message')}")
    return str(response.json()["employee_id"])


def _employee_action(args: argparse.Namespace, action: str, failing: str) -> tuple[str, dict[str, Any]]:
    """POST /admin/employees/{id}/<action> for the employee the arguments name: their id and the
    answer, or a CliError saying what ``failing`` failed and why."""
    api_url, token = _admin_api(args)
    employee_id = _employee_id(args, api_url, token)
    response = _admin_post(api_url, token, f"/admin/employees/{employee_id}/{action}")
    body = _body(response)
    if response.status_code == 404:
        raise CliError(f"no employee {employee_id}")
    if response.status_code != 200:
        raise CliError(f"{failing} failed ({response.status_code}): {body.get('message', body)}")
    return employee_id, body


def cmd_deactivate(args: argparse.Namespace) -> int:
    employee_id, body = _employee_action(args, "deactivate", "deactivation")
    state = "deactivated" if body.get("deactivated_now") else "already inactive"
    print(
        f"{employee_id}: {state}; {body.get('posts_cancelled', 0)} scheduled posts cancelled, "
        f"{body.get('connections_deleted', 0)} social connections deleted"
    )
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    employee_id, body = _employee_action(args, "erase", "erasure")
    state = "erased" if body.get("erased_now") else "already erased"
    print(
        f"{employee_id}: {state}; {body.get('posts_cancelled', 0)} scheduled posts cancelled, "
        f"{body.get('connections_deleted', 0)} social connections deleted, "
        f"{body.get('uploads_deleted', 0)} roster files deleted, "
        f"{body.get('records_pseudonymised', 0)} consent records pseudonymised, "
        f"{body.get('items_deleted', 0)} items deleted"
    )
    if body.get("posts_in_flight"):
        print(
            f"{body['posts_in_flight']} post(s) were being published: run this command again in a few minutes "
            "to pseudonymise them"
        )
    return 0


# ----------------------------------------------------------------------------- doctor


def cmd_doctor(args: argparse.Namespace) -> int:
    # The doctor's checks import the application package's network adapters: only this command pays for them.
    from chorus_local.doctor.run import DoctorClients

    return doctor_report(args, DoctorClients.from_session(aws_session(args)))


def doctor_report(
    args: argparse.Namespace, clients: DoctorClients, now: Callable[[], datetime] = chorus_clock.now
) -> int:
    """Prints the report; 1 when a check failed or the stack cannot be read."""
    from chorus_local.doctor.render import render_json, render_table
    from chorus_local.doctor.run import run_doctor
    from chorus_local.doctor.stack import StackNotFound

    try:
        report = run_doctor(clients, args.stack, now=now)
    except StackNotFound as exc:
        raise CliError(str(exc)) from exc
    except (ClientError, BotoCoreError) as exc:  # no credentials, no network: nothing could be checked
        raise CliError(f"cannot reach AWS: {exc}") from exc
    print(render_json(report) if args.json else render_table(report))
    return report.exit_code
