"""A virtual clock that fires EventBridge Scheduler schedules (moto stores them, never runs them).

The clock starts at real time and only moves forward: ``now() = real now + offset``; ``POST
/_local/clock {"to": ...}`` (``chorus local tick``) grows the offset. The cloud installs it as
``chorus.clock``, so the functions, pages, link expiry, stream records and the sandbox feed all
read this time. A background thread checks every second for due occurrences of

* schedules stored in moto (``list_schedules`` + ``get_schedule``): ``at()``, ``rate()`` and
  ``cron()`` with ``ScheduleExpressionTimezone``, ``StartDate``/``EndDate`` and ``State``;
* schedules declared in the template as function events of ``Type: Schedule`` / ``ScheduleV2``.

Each schedule keeps a cursor (virtual time up to which it has been evaluated) so every
occurrence fires at most once; a schedule's cursor starts at its creation time translated to
virtual time. One-time ``at()`` schedules fire once when due (immediately if created in the
past) and are deleted when ``ActionAfterCompletion`` is ``DELETE``. Firing invokes the target
with async-invoke semantics (retries, then the function's OnFailure destination); SQS targets get
the input as a message.

A jump (``tick_to``) is time passing quickly, as EventBridge would see it:

* the clock stops at every one-time ``at()`` occurrence on the way, in time order, fires it and
  waits for the work it causes (queues, streams, async invocations) before going on. A post
  approved for Tuesday 10:00 is published with the clock at 10:00;
* a recurring schedule (``rate()`` or ``cron()``: the sweeper, the digest's quarter-hour tick)
  fires ONCE per jump, at its end, for its latest occurrence up to the target, as if it had been
  created just before that occurrence: the runs it missed are not caught up. Both repair or
  start whatever is due "now", so the missed runs would each have found what the latest finds,
  and a three-month jump over a quarter-hourly cron stays one run instead of ~9,000. Jump to
  the tick you mean to see (``chorus local tick --to 2026-11-30T08:00:00Z`` starts the digest of
  the zones whose 09:00 Monday that is); ``POST /admin/digests`` sends everyone's at once.

Schedules created with ``Input`` get EventBridge Scheduler's context attributes substituted
(``<aws.scheduler.scheduled-time>`` is the occurrence fired, ``<aws.scheduler.schedule-arn>``,
``<aws.scheduler.execution-id>``, ``<aws.scheduler.attempt-number>``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chorus_local.functions import FunctionRuntime
from chorus_local.invoker import AsyncInvoker
from chorus_local.log import get_logger
from chorus_local.problems import Problems
from chorus_local.schedules import (
    ScheduleExpression,
    ScheduleExpressionError,
    parse_schedule_expression,
)

logger = get_logger(__name__)

# Stops of one jump (each fires at least one one-time schedule): a bound against a runaway loop.
MAX_STOPS = 10_000
ClientFactory = Callable[[str], Any]


class VirtualClock:
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance_to(self, target: datetime) -> datetime:
        """Move forward to ``target`` (a time in the past leaves the clock where it is)."""
        if target.tzinfo is None:
            target = target.replace(tzinfo=UTC)
        with self._lock:
            current = self.now()
            if target > current:
                self._offset += target - current
                return target
            return current


def parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class Fired:
    schedule: str
    occurrence: str
    target: str
    ok: bool
    error: str | None = None
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScheduleSpec:
    key: str  # unique per schedule *instance* (a re-created schedule is a new one)
    label: str
    expression: ScheduleExpression
    target_arn: str
    event: Any
    anchor: datetime  # virtual creation time (or StartDate)
    end: datetime | None
    enabled: bool
    delete_after: bool
    group: str | None = None
    name: str | None = None
    target_kind: str = "lambda"


class ScheduleRunner:
    def __init__(  # noqa: PLR0917 - plain dependency injection
        self,
        clock: VirtualClock,
        client: ClientFactory,
        runtime: FunctionRuntime,
        invoker: AsyncInvoker,
        template_schedules: list[ScheduleSpec],
        poll_interval: float = 1.0,
        list_schedules: Callable[[], list[dict[str, Any]]] | None = None,
        problems: Problems | None = None,
    ) -> None:
        self.problems = problems or Problems()
        self.clock = clock
        self._client = client
        self._runtime = runtime
        self._invoker = invoker
        self._template = template_schedules
        self._poll_interval = poll_interval
        self._list_schedules = list_schedules or self._schedules_from_api
        self._cursors: dict[str, datetime] = {}
        self._fired_once: set[str] = set()
        self._anchors: dict[str, datetime] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.history: list[Fired] = []
        self.settle: Callable[[], object] = lambda: invoker.wait_idle(60)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="chorus-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._poll_interval):
            try:
                self.fire_due()
            except Exception as exc:  # keep ticking whatever a schedule does
                logger.exception("clock tick failed")
                self.problems.record("clock", f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ public

    def tick_to(self, target: datetime) -> tuple[datetime, list[Fired]]:
        """Move the clock to ``target``, stopping at each occurrence on the way (module docstring).

        Work already under way finishes first, at the time it started. After the last stop the
        clock reaches ``target`` and whatever became due there fires, repeatedly while fired
        functions create schedules for "now".
        """
        with self._lock:
            if target.tzinfo is None:
                target = target.replace(tzinfo=UTC)
            self.settle()
            fired: list[Fired] = []
            for _stop in range(MAX_STOPS):
                stop = self._next_stop(target)
                if stop is None:
                    break
                self.clock.advance_to(stop)
                fired.extend(self.fire_due(one_time_only=True))
                self.settle()
            else:
                logger.warning("too many stops in one jump", stops=MAX_STOPS, target=target.isoformat())
            now = self.clock.advance_to(target)
            for _round in range(10):
                batch = self.fire_due()
                self.settle()  # S3 events and queue batches the fired functions caused
                if not batch:
                    break
                fired.extend(batch)
            return now, fired

    def fire_due(self, *, one_time_only: bool = False) -> list[Fired]:
        """Fires what is due now: each one-time schedule once, each recurring one (unless
        ``one_time_only``) for its latest occurrence since it last fired."""
        with self._lock:
            now = self.clock.now()
            due: list[tuple[datetime, ScheduleSpec]] = []
            for spec in self._all_specs():
                if one_time_only and not spec.expression.one_time:
                    continue
                due.extend((moment, spec) for moment in self._due(spec, now))
            due.sort(key=lambda item: item[0])
            fired = [self._fire(spec, moment) for moment, spec in due]
            self.history.extend(fired)
            return fired

    # ------------------------------------------------------------------ internals

    def _due(self, spec: ScheduleSpec, now: datetime) -> list[datetime]:
        if spec.expression.one_time:
            if spec.key in self._fired_once or not spec.enabled:
                return []
            when = getattr(spec.expression, "when", None)
            if when is not None and when <= now:
                self._fired_once.add(spec.key)
                return [when]
            return []
        cursor = self._cursors.get(spec.key, spec.anchor)
        until = min(now, spec.end) if spec.end is not None else now
        self._cursors[spec.key] = max(cursor, now)
        if not spec.enabled or until <= cursor:
            return []
        latest = spec.expression.latest(cursor, until, spec.anchor)  # only the latest (module docstring)
        return [latest] if latest is not None else []

    def _all_specs(self) -> list[ScheduleSpec]:
        return [*self._template, *self._moto_schedules()]

    def _next_stop(self, target: datetime) -> datetime | None:
        """The earliest one-time ``at()`` occurrence not fired yet, up to ``target``."""
        now = self.clock.now()
        earliest: datetime | None = None
        for spec in self._all_specs():
            if not spec.enabled or not spec.expression.one_time or spec.key in self._fired_once:
                continue
            moment: datetime | None = getattr(spec.expression, "when", None)
            if moment is None or moment > target:
                continue
            moment = max(moment, now)  # due already (created for "now"): fires at this stop
            if earliest is None or moment < earliest:
                earliest = moment
        return earliest

    def _fire(self, spec: ScheduleSpec, moment: datetime) -> Fired:
        occurrence = moment.isoformat()
        result = Fired(schedule=spec.label, occurrence=occurrence, target=spec.target_arn.split(":")[-1], ok=True)
        service = spec.target_arn.split(":")[2] if spec.target_arn.count(":") >= 5 else ""
        if service == "lambda":
            function = self._runtime.by_name_or_arn(spec.target_arn)
            if function is None:
                result.ok, result.error = False, "unknown target function"
            else:
                result.target = function.name
                event = _with_context(spec.event, spec, moment)
                if isinstance(event, dict) and event.get("detail-type") == "Scheduled Event":
                    event = {**event, "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
                outcome = self._invoker.invoke_now(function, event)
                result.ok, result.error = outcome.ok, outcome.error
        elif service == "sqs":
            sqs = self._client("sqs")
            url = sqs.get_queue_url(QueueName=spec.target_arn.split(":")[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(_with_context(spec.event, spec, moment)))
        else:
            result.ok, result.error = False, f"unsupported target service {service or '?'}"
        if (
            spec.delete_after
            and spec.name is not None
            and (spec.expression.one_time or (spec.end is not None and self.clock.now() >= spec.end))
        ):
            try:
                self._client("scheduler").delete_schedule(Name=spec.name, GroupName=spec.group or "default")
                result.deleted = True
            except Exception:  # already deleted by the handler itself is fine
                logger.debug("schedule already gone", schedule=spec.label)
        logger.info("schedule fired", schedule=spec.label, target=result.target, ok=result.ok, deleted=result.deleted)
        return result

    def _moto_schedules(self) -> list[ScheduleSpec]:
        specs: list[ScheduleSpec] = []
        for detail in self._list_schedules():
            spec = self._from_moto(detail)
            if spec is not None:
                specs.append(spec)
        return specs

    def _schedules_from_api(self) -> list[dict[str, Any]]:
        """Every schedule via the Scheduler API (list, then get each for its target)."""
        scheduler = self._client("scheduler")
        summaries: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = scheduler.list_schedules(**({"NextToken": token} if token else {}))
            summaries.extend(page.get("Schedules", []))
            token = page.get("NextToken")
            if not token:
                break
        details: list[dict[str, Any]] = []
        for summary in summaries:
            group = summary.get("GroupName") or "default"
            try:
                details.append(scheduler.get_schedule(Name=summary["Name"], GroupName=group))
            except Exception:  # deleted between list and get
                logger.debug("schedule vanished", schedule=summary["Name"])
        return details

    def _from_moto(self, detail: dict[str, Any]) -> ScheduleSpec | None:
        group = detail.get("GroupName") or "default"
        name = str(detail["Name"])
        created = _as_datetime(detail.get("CreationDate")) or datetime.now(UTC)
        label = f"{group}/{name}"
        key = f"{label}@{created.timestamp()}"
        try:
            expression = parse_schedule_expression(
                str(detail["ScheduleExpression"]), detail.get("ScheduleExpressionTimezone") or "UTC"
            )
        except ScheduleExpressionError as exc:
            if key not in self._fired_once:
                self._fired_once.add(key)
                logger.warning("bad schedule expression", schedule=label, error=str(exc))
            return None
        target = detail.get("Target") or {}
        start = _as_datetime(detail.get("StartDate"))
        # Creation time in virtual time, fixed at first sight (later jumps must not move it).
        virtual_created = self._anchors.setdefault(key, created + self.clock.offset)
        anchor = max(virtual_created, start) if start else virtual_created
        return ScheduleSpec(
            key=key,
            label=label,
            expression=expression,
            target_arn=str(target.get("Arn", "")),
            event=_parse_input(target.get("Input")),
            anchor=anchor,
            end=_as_datetime(detail.get("EndDate")),
            enabled=detail.get("State", "ENABLED") == "ENABLED",
            delete_after=detail.get("ActionAfterCompletion") == "DELETE",
            group=group,
            name=name,
        )


def moto_backend_schedules(account_id: str, region: str) -> Callable[[], list[dict[str, Any]]]:
    """Read schedules straight from moto's in-process backend: one dict walk per tick instead of
    one HTTP call per schedule (hundreds of one-time publish schedules are normal)."""

    def read() -> list[dict[str, Any]]:
        from moto.scheduler.models import scheduler_backends

        backend = scheduler_backends[account_id][region]
        for _attempt in range(5):
            try:
                return [
                    schedule.to_dict()
                    for group in list(backend.schedule_groups.values())
                    for schedule in list(group.schedules.values())
                ]
            except RuntimeError:  # a schedule was added or deleted while we walked
                continue
        return []

    return read


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    return parse_instant(str(value))


def _with_context(event: Any, spec: ScheduleSpec, moment: datetime) -> Any:
    """The input with EventBridge Scheduler's context attributes filled in (in any string)."""
    arn = f"arn:aws:scheduler:::schedule/{spec.group or 'default'}/{spec.name or spec.label}"
    values = {
        "<aws.scheduler.scheduled-time>": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.schedule-arn>": arn,
        "<aws.scheduler.execution-id>": f"local-{spec.key}-{moment.timestamp():.0f}",
        "<aws.scheduler.attempt-number>": "1",
    }
    if isinstance(event, str):
        for placeholder, value in values.items():
            event = event.replace(placeholder, value)
        return event
    if isinstance(event, dict):
        return {key: _with_context(value, spec, moment) for key, value in event.items()}
    if isinstance(event, list):
        return [_with_context(value, spec, moment) for value in event]
    return event


def _parse_input(raw: Any) -> Any:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def template_schedules(runtime: FunctionRuntime, start: datetime, region: str, account_id: str) -> list[ScheduleSpec]:
    """Function events of Type Schedule (EventBridge rule) and ScheduleV2 (Scheduler)."""
    specs: list[ScheduleSpec] = []
    for function in runtime.specs.values():
        for event in function.events:
            props = event.properties
            if event.type == "Schedule":
                expression_text, timezone = str(props["Schedule"]), "UTC"
                enabled = props.get("Enabled", True) is not False and props.get("State", "ENABLED") == "ENABLED"
                rule_arn = f"arn:aws:events:{region}:{account_id}:rule/{function.name}-{event.name}"
                default_event: Any = {
                    "version": "0",
                    "id": "local",
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": account_id,
                    "time": "",
                    "region": region,
                    "resources": [rule_arn],
                    "detail": {},
                }
            elif event.type == "ScheduleV2":
                expression_text = str(props["ScheduleExpression"])
                timezone = str(props.get("ScheduleExpressionTimezone", "UTC"))
                enabled = props.get("State", "ENABLED") == "ENABLED"
                default_event = {}
            else:
                continue
            label = f"template/{function.logical_id}.{event.name}"
            try:
                expression = parse_schedule_expression(expression_text, timezone)
            except ScheduleExpressionError as exc:
                logger.warning("bad template schedule", schedule=label, error=str(exc))
                continue
            start_date = _as_datetime(props.get("StartDate"))
            specs.append(
                ScheduleSpec(
                    key=label,
                    label=label,
                    expression=expression,
                    target_arn=function.arn,
                    event=_parse_input(props["Input"]) if "Input" in props else default_event,
                    anchor=max(start, start_date) if start_date else start,
                    end=_as_datetime(props.get("EndDate")),
                    enabled=enabled,
                    delete_after=False,
                )
            )
    return specs
