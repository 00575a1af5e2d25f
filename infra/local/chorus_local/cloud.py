"""The local cloud: moto server + provisioning + function runtime + gateway + S3 router + clock.

Everything runs in one process on 127.0.0.1. ``start()`` binds both ports first (so a busy port
fails fast and clearly), provisions the template's resources in moto, then starts serving;
``stop()`` undoes everything (threads joined, ports freed, moto reset, patched moto functions
and environment variables restored), so tests can start and stop clouds repeatedly.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from chorus import clock as chorus_clock
from chorus_local.auth import LocalIssuer
from chorus_local.clock import ScheduleRunner, VirtualClock, moto_backend_schedules, template_schedules
from chorus_local.console_login import CONSOLE_CLIENT_ID, ConsoleLogins, demo_admin
from chorus_local.functions import FunctionRuntime, FunctionSpec, Handler, load_functions
from chorus_local.gateway import GatewayApp, gateway_server
from chorus_local.http_api import Route, routes_from_template
from chorus_local.invoker import AsyncInvoker
from chorus_local.log import get_logger
from chorus_local.problems import Problems
from chorus_local.provision import Provisioner
from chorus_local.s3_events import S3NotificationHook
from chorus_local.server import ThreadedServer
from chorus_local.sqs_events import SqsPoller
from chorus_local.sqs_events import mappings_from_functions as sqs_mappings
from chorus_local.streams import MotoStreams, StreamPoller
from chorus_local.streams import mappings_from_functions as stream_mappings
from chorus_local.template import Stack, load_template

logger = get_logger(__name__)

HOST = "127.0.0.1"
DEFAULT_API_PORT = 3000
DEFAULT_AWS_PORT = 4566
DEFAULT_STATE_DIR = ".chorus-local"
STATE_FILE = "cloud.json"
KEY_FILE = "jwt-key.pem"


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder (from ``start`` upwards) holding template.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "template.yaml").is_file():
            return folder
    package_root = Path(__file__).resolve().parents[3]
    if (package_root / "template.yaml").is_file():
        return package_root
    raise FileNotFoundError("template.yaml not found in this folder or its parents")


@dataclass
class CloudConfig:
    root: Path
    state_dir: Path
    api_port: int = DEFAULT_API_PORT
    aws_port: int = DEFAULT_AWS_PORT
    host: str = HOST
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    poll_interval: float = 1.0
    retry_delay: float = 0.2

    @property
    def template_path(self) -> Path:
        return self.root / "template.yaml"


_DYNAMODB_TARGETS = ("DynamoDB_20120810.", "DynamoDBStreams_20120810.")


class OneDynamoDBRequestAtATime:
    """Runs moto's DynamoDB and DynamoDB Streams requests one at a time.

    moto applies a transaction's writes one by one and, when one fails, puts back a copy of the
    table taken before: a request served meanwhile could read writes that never happened (a
    stream record of a cancelled transaction) or have its own write undone by the rollback. In
    DynamoDB a transaction is atomic; serializing gives the same guarantee, at no cost that
    matters for one developer's traffic.
    """

    def __init__(self, app: Any, lock: threading.RLock) -> None:
        self._app = app
        self._lock = lock

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(_DYNAMODB_TARGETS):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))


def moto_server(host: str, port: int, dynamodb_lock: threading.RLock) -> ThreadedServer:
    """moto's werkzeug app, bound in the caller's thread (ThreadedMotoServer binds in its own
    thread and would hang on a busy port)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    app = OneDynamoDBRequestAtATime(DomainDispatcherApplication(create_backend_app), dynamodb_lock)
    return ThreadedServer(app, host, port, name="chorus-moto", request_handler=MotoRequestHandler)


def reset_moto() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


# Template parameters that differ on the local cloud: the sandbox network is offered, so the
# whole story (approve -> publish -> feed) works without a social account. Flags override them.
LOCAL_PARAMETER_DEFAULTS = {"SandboxEnabled": "true"}


class LocalCloud:
    def __init__(self, config: CloudConfig) -> None:
        self.config = config
        self.stack = Stack(
            load_template(config.template_path),
            parameter_overrides={**LOCAL_PARAMETER_DEFAULTS, **config.parameter_overrides},
        )
        self.clock = VirtualClock()
        self.problems = Problems()
        # Held by moto's DynamoDB requests and by the stream reads: see OneDynamoDBRequestAtATime.
        self.dynamodb_lock = threading.RLock()
        self.streams = MotoStreams(self.stack.account_id, self.stack.region, self.dynamodb_lock)
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._saved_env: dict[str, str | None] = {}
        self._moto: ThreadedServer | None = None
        self._gateway: ThreadedServer | None = None
        self._hook: S3NotificationHook | None = None
        self.resources: dict[str, str] = {}
        self.ses_identities: list[str] = []
        self.routes: list[Route] = []
        self.functions: dict[str, FunctionSpec] = {}
        self.runtime: FunctionRuntime
        self.invoker: AsyncInvoker
        self.scheduler: ScheduleRunner
        self.sqs_poller: SqsPoller
        self.stream_poller: StreamPoller
        self.issuer: LocalIssuer
        self.started = False

    # ------------------------------------------------------------------ properties

    @property
    def api_port(self) -> int:
        assert self._gateway is not None
        return self._gateway.port

    @property
    def aws_port(self) -> int:
        assert self._moto is not None
        return self._moto.port

    @property
    def api_url(self) -> str:
        return f"http://{self.config.host}:{self.api_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.config.host}:{self.aws_port}"

    @property
    def admin_group(self) -> str:
        return str(self.stack.parameters.get("AdminGroup", "chorus-admins"))

    @property
    def groups_claim(self) -> str:
        return str(self.stack.parameters.get("GroupsClaim", "cognito:groups"))

    def client(self, service: str) -> Any:
        """A boto3 client for the local moto endpoint (cached; boto3 clients are thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.aws_url,
                    region_name=self.stack.region,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
                    config=Config(retries={"max_attempts": 2, "mode": "standard"}),
                )
            return self._clients[service]

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        config = self.config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        # Bind both ports first: a busy port fails here, before anything else happens.
        self._moto = moto_server(config.host, config.aws_port, self.dynamodb_lock)
        try:
            self._gateway = gateway_server(GatewayApp(self), config.host, config.api_port)
        except OSError:
            self._moto.stop()
            self._moto = None
            raise
        self._set_process_environment()
        # The functions run in this process: they read time from the virtual clock, so
        # `chorus local tick` moves pages, link expiry, schedules and the feed together.
        chorus_clock.install(self.clock.now)
        try:
            self._start_services()
        except BaseException:
            self.stop()
            raise
        self.started = True
        self._write_state()
        logger.info("local cloud up", api=self.api_url, aws=self.aws_url, functions=len(self.functions))

    def _start_services(self) -> None:
        assert self._moto is not None and self._gateway is not None
        reset_moto()
        self._moto.start()
        self.issuer = LocalIssuer(self.config.state_dir / KEY_FILE, issuer=f"{self.api_url}/_local")
        self.console_logins = ConsoleLogins(
            demo_admin(self.config.state_dir),
            redirect_uri=f"{self.api_url}/console/callback",
            claims=lambda: {"sub": "local-console-admin", self.groups_claim: [self.admin_group]},
            issue=self.issuer.issue,
        )
        self.stack.set_attribute("HttpApi", "ApiEndpoint", self.api_url)
        preliminary = load_functions(self.stack, self.config.root, with_environment=False)
        self.resources = Provisioner(self.stack, self.client, preliminary).provision()
        self.functions = load_functions(self.stack, self.config.root)
        for spec in self.functions.values():
            spec.environment = {key: self.localize(value) for key, value in spec.environment.items()}
            # Deployed, the web function builds its OAuth callback URL from the API id API Gateway
            # writes into each request; this gateway's URL is no execute-api name, so the local
            # cloud sets it as PublicBaseUrl, as an operator does for a custom domain.
            if spec.environment.get("PUBLIC_BASE_URL") == "":
                spec.environment["PUBLIC_BASE_URL"] = self.api_url
            # The console signs in with this cloud's issuer (as the admin API trusts it), its own client.
            if "OIDC_ISSUER" in spec.environment:
                spec.environment.update(
                    {"OIDC_ISSUER": self.issuer.issuer, "OIDC_CLIENT_ID": CONSOLE_CLIENT_ID, "COGNITO_USER_POOL_ID": ""}
                )
        self._verify_senders()
        self.runtime = FunctionRuntime(
            self.functions, {"AWS_REGION": self.stack.region, "AWS_DEFAULT_REGION": self.stack.region}
        )
        self.runtime.install_paths()
        self.routes = routes_from_template(self.stack, self.functions).routes
        self.invoker = AsyncInvoker(self.runtime, self.client, retry_delay=self.config.retry_delay)
        self.invoker.start()
        self._hook = S3NotificationHook(self.runtime.by_name_or_arn, self._route_s3_event)
        self._hook.install()
        self.sqs_poller = SqsPoller(
            self.runtime,
            self.client,
            sqs_mappings(self.functions),
            self.stack.region,
            poll_interval=self.config.poll_interval,
            problems=self.problems,
        )
        self.sqs_poller.start()
        self.stream_poller = StreamPoller(
            self.runtime,
            self.client,
            self.streams,
            stream_mappings(self.functions),
            self.stack.region,
            poll_interval=self.config.poll_interval,
            problems=self.problems,
            clock_offset=lambda: self.clock.offset,
        )
        self.stream_poller.start()
        self.scheduler = ScheduleRunner(
            self.clock,
            self.client,
            self.runtime,
            self.invoker,
            template_schedules(self.runtime, self.clock.now(), self.stack.region, self.stack.account_id),
            poll_interval=self.config.poll_interval,
            list_schedules=moto_backend_schedules(self.stack.account_id, self.stack.region),
            problems=self.problems,
        )
        self.scheduler.settle = self.settle
        self.scheduler.start()
        self._gateway.start()

    def stop(self) -> None:
        """Stop every thread, free both ports, reset moto, restore patches and environment."""
        if getattr(self, "scheduler", None) is not None:
            self.scheduler.stop()
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if getattr(self, "stream_poller", None) is not None:
            self.stream_poller.stop()
        if getattr(self, "sqs_poller", None) is not None:
            self.sqs_poller.stop()
        if getattr(self, "invoker", None) is not None:
            self.invoker.stop()
        if self._hook is not None:
            self._hook.uninstall()
            self._hook = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
            reset_moto()
        self._restore_process_environment()
        chorus_clock.install(None)
        state = self.config.state_dir / STATE_FILE
        if self.started and state.exists():
            state.unlink()
        self.started = False
        logger.info("local cloud down")

    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _set_process_environment(self) -> None:
        values = {
            "AWS_ENDPOINT_URL": f"http://{self.config.host}:{self._moto.port if self._moto else 0}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.stack.region,
            "AWS_REGION": self.stack.region,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
        for key in [*values, "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"]:
            self._saved_env.setdefault(key, os.environ.get(key))
        for key in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"):
            os.environ.pop(key, None)
        os.environ.update(values)

    def _restore_process_environment(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def _write_state(self) -> None:
        state = {
            "pid": os.getpid(),
            "api_url": self.api_url,
            "aws_url": self.aws_url,
            "api_port": self.api_port,
            "aws_port": self.aws_port,
        }
        (self.config.state_dir / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")

    # ------------------------------------------------------------------ routing helpers

    def localize(self, value: str) -> str:
        """Point the deployed API URL (``https://<api id>.execute-api...``) at the gateway."""
        for res in self.stack.by_type("AWS::Serverless::HttpApi"):
            deployed = (
                f"https://{self.stack.physical_name(res.logical_id)}.execute-api.{self.stack.region}.amazonaws.com"
            )
            value = value.replace(deployed, self.api_url)
        return value

    def _verify_senders(self) -> None:
        """Verify in moto SES every sender address the functions are configured with.

        Deployed stacks verify their identity outside the template (DNS, a confirmation mail);
        locally, any function variable whose name ends in ``_EMAIL`` and holds an address is
        verified so the functions can send.
        """
        addresses = {
            value
            for spec in self.functions.values()
            for key, value in spec.environment.items()
            if key.endswith("_EMAIL") and re.fullmatch(r"[^@\s]+@[^@\s]+", value)
        }
        for address in sorted(addresses):
            self.client("sesv2").create_email_identity(EmailIdentity=address)
        self.ses_identities = sorted(addresses)

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until queued async invocations, stream records and mapped SQS queues are drained
        (each may cause more of the others: a queue's function writes, its records are scored)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            remaining = max(0.1, deadline - time.monotonic())
            if (
                self.invoker.wait_idle(remaining)
                and self.sqs_poller.wait_idle(remaining)
                and self.stream_poller.drain(remaining)
                and self.invoker.wait_idle(0.1)
                and self.sqs_poller.wait_idle(0.1)
            ):
                return True
        return False

    def _route_s3_event(self, spec: FunctionSpec, event: dict[str, Any]) -> None:
        self.invoker.submit(spec, event, source="s3")

    def override_handler(self, logical_id: str, handler: Handler | None) -> None:
        """Test hook: make a function run ``handler`` instead of its code (None restores it)."""
        self.runtime.override(logical_id, handler)

    # ------------------------------------------------------------------ pages

    def outputs(self) -> dict[str, str]:
        outputs = {key: self.localize(value) for key, value in self.stack.outputs().items()}
        outputs["ApiUrl"] = self.api_url
        return outputs

    def health(self) -> dict[str, Any]:
        problems = self.problems.recent()
        return {
            "status": "degraded" if problems else "ok",
            "problems": problems,
            "problems_total": self.problems.total,
            "clock": self.clock.now().isoformat(),
            "ports": {"api": self.api_port, "aws": self.aws_port},
            "urls": {
                "api": self.api_url,
                "aws": self.aws_url,
                "outbox": f"{self.api_url}/_local/outbox",
                "health": f"{self.api_url}/_local/health",
                "issuer": self.issuer.issuer,
            },
            "resources": dict(self.resources),
            "functions": {spec.logical_id: spec.name for spec in self.functions.values()},
            "routes": [
                {"route": r.route_key, "function": r.function.name, "authorizer": r.authorizer} for r in self.routes
            ],
            "outputs": self.outputs(),
            "ses_identities": self.ses_identities,
            "admin": {"group": self.admin_group, "groups_claim": self.groups_claim, "audience": self.issuer.audience},
        }

    def index_context(self) -> dict[str, Any]:
        return {
            "routes": self.routes,
            "resources": self.resources,
            "aws_url": self.aws_url,
            "clock": self.clock.now().isoformat(),
        }
