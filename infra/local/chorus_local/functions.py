"""Functions from the template, invoked in-process like Lambda would.

Environment variables: each invocation sees exactly its own function's resolved variables
(``Globals.Function.Environment`` merged with the function's own, plus the variables Lambda
itself sets such as ``AWS_LAMBDA_FUNCTION_NAME``). ``os.environ`` is process-wide, so
invocations are serialized under one re-entrant lock: the variables are applied just before the
handler runs and the previous values restored right after. The alternative (the union of every
function's variables set once at start) would break as soon as two functions give the same
variable different values (``MAX_UPLOAD_BYTES``-style settings per function are expected), and
would let a function read a setting it is not given in AWS, hiding template mistakes. A local
cloud handles one developer's traffic, so serializing costs nothing noticeable.

Handlers are imported lazily (first invocation = cold start) from their CodeUri folder; the
layer folders and every CodeUri are put on ``sys.path`` once, like /opt/python and /var/task
(handler module names are unique by convention).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chorus_local.log import get_logger
from chorus_local.template import NO_VALUE, Stack, UnresolvableError, scalar_text

logger = get_logger(__name__)

Handler = Callable[[Any, Any], Any]

# Defaults Lambda applies when the template does not say otherwise.
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
DEFAULT_ASYNC_RETRIES = 2


@dataclass(frozen=True)
class FunctionEvent:
    name: str
    type: str
    properties: dict[str, Any]
    raw_properties: dict[str, Any]


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_uri: Path
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    events: list[FunctionEvent]
    layer_dirs: list[Path]
    event_invoke_config: dict[str, Any] = field(default_factory=dict)
    dead_letter_queue: dict[str, Any] | None = None

    @property
    def max_retry_attempts(self) -> int:
        return int(self.event_invoke_config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES))

    def destination(self, kind: str) -> dict[str, Any] | None:
        config = (self.event_invoke_config.get("DestinationConfig") or {}).get(kind)
        return dict(config) if config else None


class LambdaContext:
    """The attributes and method of the real Lambda context object that handlers use."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _merge_env(globals_fn: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(((globals_fn.get("Environment") or {}).get("Variables")) or {})
    merged.update(((props.get("Environment") or {}).get("Variables")) or {})
    return merged


def _event_properties(stack: Stack, body: dict[str, Any], *, lenient: bool) -> Any:
    """Before provisioning (lenient), attributes that only exist once resources are created (a
    table's StreamArn) cannot resolve yet: such an event keeps its raw properties for now."""
    try:
        return stack.resolve(body.get("Properties") or {})
    except UnresolvableError:
        if not lenient:
            raise
        return dict(body.get("Properties") or {})


def load_functions(stack: Stack, root: Path, *, with_environment: bool = True) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function of the template, with its environment resolved.

    ``with_environment=False`` is for the provisioner, which runs before values such as KMS
    key ids exist and needs only names, ARNs and events.
    """
    globals_fn = stack.globals_function()
    specs: dict[str, FunctionSpec] = {}
    for res in stack.by_type("AWS::Serverless::Function"):
        props = {**{k: v for k, v in globals_fn.items() if k != "Environment"}, **res.properties}
        env_raw = _merge_env(globals_fn, res.properties)
        environment: dict[str, str] = {}
        for key, raw in env_raw.items() if with_environment else ():
            value = stack.resolve(raw)
            if value is not NO_VALUE:
                environment[key] = scalar_text(value)
        layer_dirs: list[Path] = []
        for layer in props.get("Layers") or []:
            if isinstance(layer, dict) and "Ref" in layer:
                layer_res = stack.resources.get(str(layer["Ref"]))
                if layer_res is not None and layer_res.type == "AWS::Serverless::LayerVersion":
                    layer_dirs.append(root / str(stack.resolve(layer_res.properties["ContentUri"])))
        events = [
            FunctionEvent(
                name=event_name,
                type=str(body.get("Type")),
                properties=_event_properties(stack, body, lenient=not with_environment),
                raw_properties=dict(body.get("Properties") or {}),
            )
            for event_name, body in (res.properties.get("Events") or {}).items()
        ]
        specs[res.logical_id] = FunctionSpec(
            logical_id=res.logical_id,
            name=stack.physical_name(res.logical_id),
            arn=stack.arn(res.logical_id),
            code_uri=root / str(stack.resolve(props.get("CodeUri", "."))),
            handler=str(stack.resolve(props["Handler"])),
            timeout=int(stack.resolve(props.get("Timeout", DEFAULT_TIMEOUT))),
            memory=int(stack.resolve(props.get("MemorySize", DEFAULT_MEMORY))),
            environment=environment,
            events=events,
            layer_dirs=layer_dirs,
            event_invoke_config=stack.resolve(props.get("EventInvokeConfig") or {}),
            dead_letter_queue=stack.resolve(props["DeadLetterQueue"]) if "DeadLetterQueue" in props else None,
        )
    return specs


class FunctionRuntime:
    """Imports and invokes handlers in-process, one invocation at a time (see module docstring)."""

    def __init__(self, specs: Mapping[str, FunctionSpec], base_environment: Mapping[str, str]) -> None:
        self.specs = dict(specs)
        self._base_environment = dict(base_environment)
        self._lock = threading.RLock()
        self._handlers: dict[str, Handler] = {}
        self._overrides: dict[str, Handler] = {}

    # ------------------------------------------------------------------ lookup

    def by_name_or_arn(self, name_or_arn: str) -> FunctionSpec | None:
        name = name_or_arn
        if name.startswith("arn:"):
            parts = name.split(":")
            name = parts[6] if len(parts) > 6 else parts[-1]
        for spec in self.specs.values():
            if name in {spec.name, spec.logical_id}:
                return spec
        return None

    def override(self, logical_id: str, handler: Handler | None) -> None:
        """Test hook: replace a function's handler (``None`` restores the real one)."""
        if logical_id not in self.specs:
            raise KeyError(f"unknown function {logical_id}")
        if handler is None:
            self._overrides.pop(logical_id, None)
        else:
            self._overrides[logical_id] = handler

    def install_paths(self) -> None:
        wanted: list[str] = []
        for spec in self.specs.values():
            for folder in [*spec.layer_dirs, spec.code_uri]:
                text = str(folder.resolve())
                if text not in wanted:
                    wanted.append(text)
        for text in reversed(wanted):
            if text not in sys.path:
                sys.path.insert(0, text)

    def _handler(self, spec: FunctionSpec) -> Handler:
        if spec.logical_id in self._overrides:
            return self._overrides[spec.logical_id]
        if spec.logical_id not in self._handlers:
            module_name, _, attribute = spec.handler.rpartition(".")
            module = importlib.import_module(module_name)
            handler = getattr(module, attribute)
            if not callable(handler):
                raise TypeError(f"{spec.handler} is not callable")
            self._handlers[spec.logical_id] = handler
        return self._handlers[spec.logical_id]

    # ------------------------------------------------------------------ invoke

    def lambda_environment(self, spec: FunctionSpec, context: LambdaContext) -> dict[str, str]:
        env = {
            **self._base_environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
            "_HANDLER": spec.handler,
            "POWERTOOLS_TRACE_DISABLED": "true",
            **spec.environment,
        }
        return env

    @contextmanager
    def _environment(self, values: Mapping[str, str]) -> Iterator[None]:
        previous = {key: os.environ.get(key) for key in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for key, old in previous.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old

    def invoke(self, spec: FunctionSpec, event: Any) -> Any:
        """Run the handler with its own environment; exceptions propagate to the caller."""
        with self._lock:
            context = LambdaContext(spec)
            started = time.monotonic()
            outcome = "ok"
            with self._environment(self.lambda_environment(spec, context)):
                try:
                    return self._handler(spec)(event, context)
                except Exception:
                    outcome = "error"
                    raise
                finally:
                    elapsed_ms = int((time.monotonic() - started) * 1000)
                    logger.info(
                        "invoked",
                        function=spec.name,
                        request_id=context.aws_request_id,
                        outcome=outcome,
                        duration_ms=elapsed_ms,
                    )
                    if elapsed_ms > spec.timeout * 1000:
                        logger.warning("timeout exceeded", function=spec.name, timeout_s=spec.timeout)
