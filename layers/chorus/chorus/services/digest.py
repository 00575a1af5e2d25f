"""The weekly digest: plan who gets what (planner), then send each email once (sender)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from chorus import clock
from chorus.domain.content import Content, ContentStatus
from chorus.domain.digest import (
    BATCH_BODY_BUDGET,
    COMPANY_SLOT,
    EMPLOYEES_PER_BATCH,
    RUN_LIFETIME,
    UNZONED,
    DigestBatch,
    DigestRun,
    DigestTime,
    PageClaim,
    PageCounts,
    PlanPage,
    Recipient,
    Wave,
    activities_for,
    choices,
    due_waves,
    wave_tick,
)
from chorus.domain.disclosure import Disclosure, disclosed
from chorus.domain.employee import Employee, normalise_email
from chorus.domain.magic_links import (
    ME_LIFETIME,
    ME_SCOPE,
    UNSUBSCRIBE_LIFETIME,
    UNSUBSCRIBE_SCOPE,
    KeyRing,
    activity_link_expiry,
    activity_scope,
    sign_link,
)
from chorus.domain.scoring import week_key
from chorus.domain.timing import Week, overlaps, week_from_id, week_of
from chorus.errors import FieldProblem, InvalidInput, NotFound, StoreError
from chorus.messages.channel import Addressee, Channel, Digest, DigestItem
from chorus.messages.email import MessageParts, message_parts
from chorus.observability import DIGESTS_FAILED, DIGESTS_SENT, DIGESTS_SKIPPED, count, logger

ROSTER_PAGE_SIZE = 500
# Active items per listing Query: more than fit in DynamoDB's 1 MB page at any realistic size, so
# the 1 MB decides and a library of a few hundred active items is one read (the planner, every
# roster page; the console's preview, every request).
CONTENT_PAGE_SIZE = 1_000
# A page claim older than this passes to a duplicate of its message: longer than the plan
# queue's visibility timeout, so a message still being retried keeps its page.
PAGE_CLAIM_LIFETIME = timedelta(minutes=30)
# Digest markers outlive the week they stand for, then TTL removes them.
MARKER_LIFETIME = timedelta(days=60)
# Weeks of digest runs the console's history shows.
HISTORY_WEEKS = 12
# Links in a preview and in an admin's test copy: no token is minted, and .invalid never resolves
# (RFC 6761), so nothing in them opens an employee's page.
PREVIEW_LINKS_BASE = "https://preview.invalid"
INERT_PLACEHOLDER = "preview-only"
TEST_SUBJECT_TAG = "[TEST]"


class _Page[T](Protocol):
    @property
    def items(self) -> list[T]: ...
    @property
    def next_token(self) -> dict[str, Any] | None: ...


class Listings(Protocol):
    def list_active_content(self, limit: int, start: dict[str, Any] | None = None) -> _Page[Content]: ...
    def active_roster_page(
        self, limit: int, start: dict[str, Any] | None = None, *, wave: Wave | None = None
    ) -> _Page[Employee]: ...


class DigestZones(Protocol):
    def zones(self) -> frozenset[str]: ...


class BatchQueue(Protocol):
    def send_all(self, bodies: Sequence[str]) -> int: ...


class DigestMarks(Protocol):
    def claim_digest(self, employee_id: str, week_id: str, expires_at: datetime) -> bool: ...
    def release_digest(self, employee_id: str, week_id: str) -> None: ...


class SentCounts(Protocol):
    def add_sent(self, sent: dict[str, int], source_event: str) -> None: ...


class DigestRuns(Protocol):
    def record_request(self, week_id: str, now: datetime, expires_at: datetime) -> DigestRun: ...
    def record_waves(self, week_id: str, waves: list[str], expires_at: datetime) -> None: ...
    def claim_page(
        self,
        week_id: str,
        run_id: str,
        page: int,
        *,
        owner: str,
        stale_before: datetime,
        now: datetime,
        expires_at: datetime,
    ) -> PageClaim: ...
    def finish_page(
        self, week_id: str, run_id: str, page: int, counts: PageCounts, *, owner: str, now: datetime
    ) -> bool: ...
    def record_sends(
        self, week_id: str, *, sent: int, already_sent: int, failed: int, expires_at: datetime
    ) -> None: ...
    def run(self, week_id: str) -> DigestRun: ...
    def runs(self, week_ids: Sequence[str]) -> list[DigestRun]: ...


class Impacts(Protocol):
    def weekly_impacts(self, employee_ids: Sequence[str], week: str) -> dict[str, tuple[int, int]]: ...


class ContentReader(Protocol):
    def get_contents(self, content_ids: Sequence[str]) -> list[Content]: ...


class KeyRingSource(Protocol):
    def key_ring(self) -> KeyRing: ...


def _pages[T](fetch: Callable[[dict[str, Any] | None], _Page[T]]) -> Iterator[T]:
    token: dict[str, Any] | None = None
    while True:
        page = fetch(token)
        yield from page.items
        token = page.next_token
        if not token:
            return


@dataclass(frozen=True)
class PlanStarted:
    """What one request to send the week's digest did (queued its first roster page), and the
    week's run as it stood then: planning goes on page by page in the background."""

    week_id: str
    run_id: str
    week: DigestRun

    def as_json(self) -> dict[str, Any]:
        earlier = self.week.sent
        note = (
            "Planning started: the roster is read page by page in the background and each page "
            "queues its digests; GET /admin/digests shows the pages planned, the recipients queued "
            "and the digests sent as they grow. Each employee gets one digest a week"
        )
        note += (
            f": {earlier} already went out this week, and whoever already has it is skipped, not sent twice."
            if earlier
            else "."
        )
        return {
            "week_id": self.week_id,
            "run_id": self.run_id,
            "status": "planning",
            "week": self.week.as_json(),
            "note": note,
        }


@dataclass(frozen=True)
class PagePlanned:
    """What planning one roster page did (None fields: the page was planned already)."""

    claim: PageClaim
    counts: PageCounts | None = None
    batches: int = 0


@dataclass(frozen=True)
class WavesStarted:
    """What one tick of the wave schedule did: the waves started ("<zone> <slot>"), of those due."""

    tick: datetime
    waves: list[str]
    waves_due: int

    def as_json(self) -> dict[str, Any]:
        return {"tick": self.tick.isoformat(), "waves": self.waves, "waves_due": self.waves_due}


class Profiles(Protocol):
    def get_employee(self, employee_id: str) -> Employee: ...
    def set_digest_slot(self, employee: Employee, slot: str | None) -> None: ...


class DigestTimes:
    """The weekday and local time an employee gets their digest (/me): the company's
    (DigestSchedule) unless they chose another. The weekly marker still sends one digest a week
    whatever they choose and when: a later day the same week finds this week's marker."""

    def __init__(self, profiles: Profiles, company: DigestTime) -> None:
        self._profiles = profiles
        self.company = company

    def of(self, employee: Employee) -> DigestTime:
        return DigestTime.from_slot(employee.digest_slot) if employee.digest_slot else self.company

    def options(self) -> list[DigestTime]:
        """What the employee may choose: the choices, and the company's time if it is not one."""
        return sorted({*choices(), self.company}, key=lambda option: (option.weekday, option.at))

    def offers(self, chosen: DigestTime) -> bool:
        return chosen == self.company or chosen.is_choice()

    def choose(self, employee_id: str, chosen: DigestTime) -> None:
        """Stores their choice; the company's time is stored as no choice, so they follow it."""
        if not self.offers(chosen):
            raise InvalidInput(
                "not a digest time on offer", [FieldProblem("digest_time", "is a working day, 06:00 to 18:00")]
            )
        employee = self._profiles.get_employee(employee_id)
        slot = None if chosen == self.company else chosen.slot
        if slot != employee.digest_slot:
            self._profiles.set_digest_slot(employee, slot)
            logger.info("digest time chosen", employee_id=employee_id, slot=slot or "company")


class BatchBuilder:
    """Recipients into SQS bodies: a batch closes at EMPLOYEES_PER_BATCH recipients or before its
    body would pass BATCH_BODY_BUDGET bytes."""

    _ENVELOPE = 200  # the week fields and the JSON around the recipients

    def __init__(self, week: Week) -> None:
        self._week = week
        self._pending: list[Recipient] = []
        self._size = self._ENVELOPE
        self.bodies: list[str] = []

    def add(self, recipient: Recipient) -> None:
        size = len(recipient.model_dump_json().encode()) + 1
        if self._pending and (len(self._pending) == EMPLOYEES_PER_BATCH or self._size + size > BATCH_BODY_BUDGET):
            self.close()
        self._pending.append(recipient)
        self._size += size

    def close(self) -> None:
        if self._pending:
            batch = DigestBatch(
                week_id=self._week.week_id,
                week_start=self._week.start,
                week_end=self._week.end,
                recipients=self._pending,
            )
            self.bodies.append(batch.model_dump_json())
        self._pending = []
        self._size = self._ENVELOPE


class DigestPlanner:
    """Plans the week's digest one roster page per invocation.

    ``start`` counts the request and queues the first page's message; ``plan_page`` plans one
    page: the recipients' batches go to the digest queue, the next page's message to the plan
    queue. A page message planned twice sends nothing twice (the page claim, then the
    per-employee weekly marker), and one that fails midway is delivered again and resumes there.
    """

    def __init__(
        self,
        listings: Listings,
        queue: BatchQueue,
        plan_queue: BatchQueue,
        *,
        impacts: Impacts,
        runs: DigestRuns,
        timezone: str,
        digest_time: DigestTime,
        zones: DigestZones,
    ) -> None:
        self._digest_time = digest_time
        self._zones = zones
        self._listings = listings
        self._impacts = impacts
        self._queue = queue
        self._plan_queue = plan_queue
        self._runs = runs
        self._timezone = timezone

    def week(self, now: datetime, week_id: str | None = None) -> DigestRun:
        """A week's run (this week's by default): requests, planning, sent, skipped, failed."""
        return self._runs.run(week_id or week_of(now, self._timezone).week_id)

    def history(self, now: datetime, weeks: int = HISTORY_WEEKS) -> list[DigestRun]:
        """The runs of this week and the ``weeks - 1`` before it, newest first (weeks nobody
        asked for read as zeros): one read of ``weeks`` keys, whatever the roster's size."""
        this_week = week_of(now, self._timezone)
        # The middle of each week: its id whatever the zone's offset from UTC.
        middle = this_week.start + timedelta(days=3)
        week_ids = [week_of(middle - timedelta(weeks=back), self._timezone).week_id for back in range(weeks)]
        found = {run.week_id: run for run in self._runs.runs(week_ids)}
        return [found.get(week_id, DigestRun(week_id=week_id)) for week_id in week_ids]

    def start(self, now: datetime, run_id: str) -> PlanStarted:
        """Counts a request to send this week's digest and queues its first roster page.

        ``run_id`` names the request: a retried start with the same id plans nothing twice."""
        week = week_of(now, self._timezone)
        run = self._runs.record_request(week.week_id, now, week.end + RUN_LIFETIME)
        self._plan_queue.send_all([PlanPage(week_id=week.week_id, run_id=run_id, page=0).model_dump_json()])
        logger.info("digest planning started", week_id=week.week_id, run_id=run_id, sent_before=run.sent)
        return PlanStarted(week.week_id, run_id, run)

    def tick(self, scheduled: datetime) -> WavesStarted:
        """Starts the waves of this quarter hour: in each zone in use, the employees whose digest
        time (their own choice, or the company's DigestSchedule) it is there, local time. One run
        per wave, reading only its employees; employees indexed before the roster was sorted by
        zone go with DigestTimezone's company wave. A retried tick starts the same runs, whose
        pages are claimed once.

        Cost when nobody is due: one GetItem (the zone registry) and one Query of one item per
        wave that could be due (a zone in use whose local time is a choice, or the company's)."""
        tick = wave_tick(scheduled)
        due = due_waves(tick, self._zones.zones(), self._digest_time, self._timezone)
        # Most waves have nobody: a run started for them would cost a plan message, an
        # invocation and its writes; one Query of one item tells.
        waves = [wave for wave in due if self._listings.active_roster_page(1, None, wave=wave).items]
        by_week: dict[str, list[Wave]] = {}
        for wave in waves:
            by_week.setdefault(week_of(tick, self._zone_of(wave.zone)).week_id, []).append(wave)
        for week_id, week_waves in by_week.items():
            expires_at = week_from_id(week_id, self._timezone).end + RUN_LIFETIME
            self._runs.record_waves(week_id, [wave.label for wave in week_waves], expires_at)
            self._plan_queue.send_all(
                [
                    PlanPage(
                        week_id=week_id, run_id=wave.run_id, page=0, zone=wave.zone, slot=wave.slot
                    ).model_dump_json()
                    for wave in week_waves
                ]
            )
        if waves:
            logger.info("digest waves started", tick=tick.isoformat(), waves=[wave.label for wave in waves])
        return WavesStarted(tick, [wave.label for wave in waves], len(due))

    def _zone_of(self, wave_zone: str | None) -> str:
        return self._timezone if wave_zone in (None, UNZONED) else str(wave_zone)

    def plan_page(self, message: PlanPage, *, owner: str, now: datetime) -> PagePlanned:
        week = week_from_id(message.week_id, self._zone_of(message.zone))
        claim = self._runs.claim_page(
            message.week_id,
            message.run_id,
            message.page,
            owner=owner,
            stale_before=now - PAGE_CLAIM_LIFETIME,
            now=now,
            expires_at=week.end + RUN_LIFETIME,
        )
        if claim is not PageClaim.CLAIMED:
            logger.info(
                "roster page skipped",
                week_id=message.week_id,
                run_id=message.run_id,
                page=message.page,
                claim=claim.value,
            )
            return PagePlanned(claim)
        contents = week_contents(self._listings, week)
        wave = Wave(message.zone, message.slot or COMPANY_SLOT) if message.zone is not None else None
        roster = self._listings.active_roster_page(ROSTER_PAGE_SIZE, message.start, wave=wave)
        last_week = week_before(week)
        unsubscribed = 0
        nothing_to_share = 0
        chosen_for: list[tuple[Employee, list[Content]]] = []
        for employee in roster.items:
            if not employee.wants_digest():
                unsubscribed += 1
                continue
            chosen = activities_for(employee, contents, week)
            if not chosen:
                nothing_to_share += 1
                continue
            chosen_for.append((employee, chosen))
        recipients = len(chosen_for)
        impacts = self._impacts.weekly_impacts([employee.employee_id for employee, _ in chosen_for], last_week)
        builder = BatchBuilder(week)
        for employee, chosen in chosen_for:
            builder.add(_recipient(employee, chosen, impacts.get(employee.employee_id, (0, 0))))
        builder.close()
        if builder.bodies:
            self._queue.send_all(builder.bodies)
        if roster.next_token:
            following = message.model_copy(update={"page": message.page + 1, "start": roster.next_token})
            self._plan_queue.send_all([following.model_dump_json()])
        counts = PageCounts(
            employees=len(roster.items),
            recipients=recipients,
            unsubscribed=unsubscribed,
            nothing_to_share=nothing_to_share,
            last=roster.next_token is None,
        )
        self._runs.finish_page(message.week_id, message.run_id, message.page, counts, owner=owner, now=now)
        logger.info(
            "roster page planned",
            week_id=message.week_id,
            run_id=message.run_id,
            page=message.page,
            employees=counts.employees,
            recipients=recipients,
            batches=len(builder.bodies),
            contents=len(contents),
            unsubscribed=unsubscribed,
            nothing_to_share=nothing_to_share,
            last=counts.last,
        )
        return PagePlanned(claim, counts, len(builder.bodies))


def week_contents(listings: Listings, week: Week) -> list[Content]:
    """The active content whose window overlaps the week (one Query per MB of active items)."""
    return [
        content
        for content in _pages(lambda token: listings.list_active_content(CONTENT_PAGE_SIZE, token))
        if overlaps(content.starts_at, content.ends_at, week)
    ]


def week_before(week: Week) -> str:
    """The previous week's scoring key: its middle's ISO week, whatever the zone's offset from UTC."""
    return week_key(week.start - timedelta(days=4))


def _recipient(employee: Employee, chosen: list[Content], last_week_impact: tuple[int, int]) -> Recipient:
    points, clicks = last_week_impact
    return Recipient(
        last_week_points=points,
        last_week_clicks=clicks,
        employee_id=employee.employee_id,
        email=employee.email,
        name=employee.name,
        locale=employee.locale,
        timezone=employee.timezone,
        content_ids=[content.content_id for content in chosen],
        digest_channel=employee.digest_channel,
        slack_user_id=employee.slack_user_id,
        slack_checked_at=employee.slack_checked_at,
    )


class Pacer:
    """Spaces calls so this sender never exceeds its share of the SES send rate."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("the send rate must be positive")
        self._interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0

    def wait(self) -> None:
        now = self._clock()
        if now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self._interval


class SendFailed(Exception):
    """Some recipients of a batch could not be sent to; a redelivery retries only them."""


@dataclass(frozen=True)
class Links:
    base_url: str

    def activity(self, token: str) -> str:
        return f"{self.base_url}/a/{token}"

    def me(self, token: str) -> str:
        return f"{self.base_url}/me?t={token}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.base_url}/unsubscribe?t={token}"


class DigestSender:
    def __init__(
        self,
        marks: DigestMarks,
        channel: Channel,
        keys: KeyRingSource,
        pacer: Pacer,
        *,
        contents: ContentReader,
        runs: DigestRuns,
        links: Links,
        funnel: SentCounts,
        disclosure: Disclosure | None = None,
        marker_lifetime: timedelta = MARKER_LIFETIME,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._disclosure = disclosure or Disclosure({})
        self._marker_lifetime = marker_lifetime
        self._marks = marks
        self._contents = contents
        self._runs = runs
        self._funnel = funnel
        self._channel = channel
        self._keys = keys
        self._pacer = pacer
        self._links = links
        self._now = now

    def send_batch(self, batch: DigestBatch) -> int:
        """Sends each recipient's digest unless already sent this week; returns how many were sent.

        The batch carries content ids: the content is read here, once per batch (one
        BatchGetItem), and content retracted since planning is left out."""
        contents = {
            content.content_id: content
            for content in self._contents.get_contents(batch.content_ids())
            if content.status is ContentStatus.ACTIVE
        }
        sent = 0
        failures = 0
        already_sent = 0
        sent_per_content: dict[str, int] = {}
        for recipient in batch.recipients:
            if not any(content_id in contents for content_id in recipient.content_ids):
                logger.info("digest has nothing left to share", employee_id=recipient.employee_id)
                continue
            expires_at = batch.week_end + self._marker_lifetime
            if not self._marks.claim_digest(recipient.employee_id, batch.week_id, expires_at):
                logger.info("digest already sent", employee_id=recipient.employee_id, week_id=batch.week_id)
                already_sent += 1
                continue
            try:
                self._pacer.wait()
                self._channel.send_digest(self._digest(recipient, contents, batch.week_id))
            except Exception:
                # Undo the claim so the redelivered message sends this one; the others stay sent.
                self._marks.release_digest(recipient.employee_id, batch.week_id)
                logger.exception("digest not sent", employee_id=recipient.employee_id, week_id=batch.week_id)
                failures += 1
                continue
            sent += 1
            for content_id in recipient.content_ids:
                if content_id in contents:
                    sent_per_content[content_id] = sent_per_content.get(content_id, 0) + 1
        logger.info("digest batch done", week_id=batch.week_id, sent=sent, already_sent=already_sent, failed=failures)
        count({DIGESTS_SENT: sent, DIGESTS_SKIPPED: already_sent, DIGESTS_FAILED: failures})
        self._count(batch, sent=sent, already_sent=already_sent, failed=failures)
        self._count_funnel(batch, sent_per_content)
        if failures:
            raise SendFailed(f"{failures} of {len(batch.recipients)} digests failed")
        return sent

    def _count(self, batch: DigestBatch, *, sent: int, already_sent: int, failed: int) -> None:
        """The week's counters; a count that cannot be written is logged, the emails stay sent."""
        try:
            self._runs.record_sends(
                batch.week_id,
                sent=sent,
                already_sent=already_sent,
                failed=failed,
                expires_at=batch.week_end + RUN_LIFETIME,
            )
        except StoreError:
            logger.exception("digest counts not recorded", week_id=batch.week_id, sent=sent)

    def _count_funnel(self, batch: DigestBatch, sent_per_content: dict[str, int]) -> None:
        """The funnel's first step per item. Only digests this delivery sent (their weekly marker
        claimed here) are counted: a redelivered batch counts none twice."""
        if not sent_per_content:
            return
        try:
            self._funnel.add_sent(sent_per_content, f"{batch.week_id}:{batch.recipients[0].employee_id}")
        except StoreError:
            logger.exception("digest funnel counts not recorded", week_id=batch.week_id)

    def _digest(self, recipient: Recipient, contents: dict[str, Content], week_id: str) -> Digest:
        ring = self._keys.key_ring()
        now = self._now()

        def activity_link(content: Content) -> str:
            expiry = activity_link_expiry(now, content.ends_at)
            return self._links.activity(
                sign_link(ring, recipient.employee_id, activity_scope(content.content_id), expiry)
            )

        return build_digest(
            recipient,
            contents,
            activity_link=activity_link,
            me_link=self._links.me(sign_link(ring, recipient.employee_id, ME_SCOPE, now + ME_LIFETIME)),
            unsubscribe_link=self._links.unsubscribe(
                sign_link(ring, recipient.employee_id, UNSUBSCRIBE_SCOPE, now + UNSUBSCRIBE_LIFETIME)
            ),
            sent_at=now,
            disclosure=self._disclosure,
            week_id=week_id,
        )


def build_digest(
    recipient: Recipient,
    contents: dict[str, Content],
    *,
    activity_link: Callable[[Content], str],
    me_link: str,
    unsubscribe_link: str,
    sent_at: datetime,
    disclosure: Disclosure,
    week_id: str | None = None,
) -> Digest:
    """The digest of one recipient: the sender's (signed links) and the console's preview (inert
    links) are both this. Each text is quoted with the disclosure the approval page and Slack add:
    the email shows what is offered."""
    items = [
        DigestItem(
            content=content, link=activity_link(content), text=disclosed(content.text, recipient.locale, disclosure)
        )
        for content_id in recipient.content_ids
        if (content := contents.get(content_id)) is not None
    ]
    return Digest(
        to=Addressee(
            employee_id=recipient.employee_id,
            email=recipient.email,
            name=recipient.name,
            locale=recipient.locale,
            timezone=recipient.timezone,
            digest_channel=recipient.digest_channel,
            slack_user_id=recipient.slack_user_id,
            slack_checked_at=recipient.slack_checked_at,
        ),
        items=items,
        me_link=me_link,
        unsubscribe_link=unsubscribe_link,
        sent_at=sent_at,
        last_week_points=recipient.last_week_points,
        last_week_clicks=recipient.last_week_clicks,
        week_id=week_id,
    )


class EmployeeFinder(Protocol):
    def get_employee(self, employee_id: str) -> Employee: ...
    def employee_by_email(self, email: str) -> Employee | None: ...


class DigestEmail(Protocol):
    def digest_message(self, digest: Digest, *, subject_tag: str = "") -> bytes: ...
    def send_digest_copy(self, digest: Digest, *, subject_tag: str) -> None: ...


@dataclass(frozen=True)
class DigestPreview:
    """This week's digest as one employee would get it, with inert links."""

    employee: Employee
    week_id: str
    items: int
    message: MessageParts


class DigestPreviews:
    """This week's digest as a chosen employee gets it: chosen as the planner chooses, built and
    composed as the sender does, but with inert links (no token minted). A test copy goes to an
    admin's address: it claims no weekly marker and counts nothing in the week's run."""

    def __init__(
        self,
        employees: EmployeeFinder,
        listings: Listings,
        impacts: Impacts,
        email: DigestEmail,
        *,
        timezone: str,
        disclosure: Disclosure | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._employees = employees
        self._listings = listings
        self._impacts = impacts
        self._email = email
        self._timezone = timezone
        self._disclosure = disclosure or Disclosure({})
        self._now = now

    def find(self, who: str) -> Employee:
        """The employee named by id or by email address; NotFound for nobody, or an erased one."""
        who = who.strip()
        if not who:
            raise InvalidInput("whose digest?", [FieldProblem("employee", "an employee's email address or id")])
        employee = self._employees.employee_by_email(normalise_email(who)) if "@" in who else None
        if employee is None and "@" not in who:
            try:
                employee = self._employees.get_employee(who)
            except NotFound:
                employee = None
        if employee is None or employee.erased_at is not None:
            raise NotFound("no employee has that email address or id")
        return employee

    def _digest(self, employee: Employee) -> tuple[str, Digest]:
        now = self._now()
        week = week_of(now, self._timezone)
        chosen = activities_for(employee, week_contents(self._listings, week), week)
        impact = self._impacts.weekly_impacts([employee.employee_id], week_before(week)).get(employee.employee_id)
        links = Links(PREVIEW_LINKS_BASE)
        digest = build_digest(
            _recipient(employee, chosen, impact or (0, 0)),
            {content.content_id: content for content in chosen},
            activity_link=lambda _content: links.activity(INERT_PLACEHOLDER),
            me_link=links.me(INERT_PLACEHOLDER),
            unsubscribe_link=links.unsubscribe(INERT_PLACEHOLDER),
            sent_at=now,
            disclosure=self._disclosure,
        )
        return week.week_id, digest

    def preview(self, who: str) -> DigestPreview:
        employee = self.find(who)
        week_id, digest = self._digest(employee)
        message = message_parts(self._email.digest_message(digest))
        logger.info("digest previewed", employee_id=employee.employee_id, week_id=week_id, items=len(digest.items))
        return DigestPreview(employee, week_id, len(digest.items), message)

    def send_test(self, who: str, admin_email: str) -> str:
        """The preview's email, to ``admin_email``, its subject tagged as a test; returns its week."""
        if "@" not in admin_email:
            raise InvalidInput(
                "no address to send to", [FieldProblem("email", "your sign-in carries no email address")]
            )
        employee = self.find(who)
        week_id, digest = self._digest(employee)
        if not digest.items:
            raise InvalidInput(
                "nothing to send", [FieldProblem("employee", "has nothing to share this week: no digest goes out")]
            )
        copy = replace(digest, to=replace(digest.to, email=admin_email))
        self._email.send_digest_copy(copy, subject_tag=TEST_SUBJECT_TAG)
        logger.info("digest test sent", employee_id=employee.employee_id, week_id=week_id, items=len(digest.items))
        return week_id
