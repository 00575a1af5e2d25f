"""Points reports for admins at any company size.

* The summary and the team board answer synchronously from counters the scorer maintains
  (sharded per period) and the latest roster census: a fixed number of small reads, never the
  roster nor the board, and at most MAX_ROWS rows per dimension.
* The full report (every employee) is produced by the report function: the admin API records a
  pending export and queues its id; the function streams the board page by page into a CSV and a
  JSON file, uploads both to S3 and marks the export ready; the admin API then answers presigned
  download links. Producing an export twice (a redelivered message) writes the same files once
  more at most, and records them once.
* The census (active employees, overall and per group) is counted from the roster by the report
  function, daily and whenever a report finds none.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import IO, Any, Protocol

from chorus import clock
from chorus.domain.employee import Employee
from chorus.domain.participation import snapshot_groups
from chorus.domain.points_report import (
    COUNTERS,
    MAX_ROWS,
    Census,
    Export,
    ExportRequest,
    ExportStatus,
    ReportWriter,
    as_seen,
    counter_row,
    export_files,
    iso,
    rate,
    report_period,
)
from chorus.domain.rollup import TeamRollup
from chorus.domain.scoring import OVERALL, Period, period_keys
from chorus.errors import ChorusError
from chorus.observability import logger
from chorus.services.exports import ExportRecords, Files, Queue

# Roster items per census Query: more than fit DynamoDB's 1 MB page, which decides.
ROSTER_PAGE = 10_000


class Counters(Protocol):
    def stats(self, period_key: str) -> list[dict[str, Any]]: ...
    def board_pages(self, period_key: str, scope: str) -> Iterator[list[dict[str, Any]]]: ...


class TeamRollups(Protocol):
    def teams(self, period_key: str) -> TeamRollup | None: ...


class RosterPage(Protocol):
    @property
    def items(self) -> list[Employee]: ...
    @property
    def next_token(self) -> dict[str, Any] | None: ...


class Roster(Protocol):
    def active_roster_page(self, limit: int, start: dict[str, Any] | None = None) -> RosterPage: ...


class CensusKeeper(Protocol):
    def save(self, census: Census) -> None: ...
    def latest(self) -> Census | None: ...


class ParticipationHistory(Protocol):
    def record(
        self,
        month_key: str,
        participants: Mapping[str, int],
        *,
        active: Mapping[str, int] | None,
        counted_at: datetime,
    ) -> None: ...


class PointsReportService:
    def __init__(
        self,
        counters: Counters,
        census: CensusKeeper,
        exports: ExportRecords,
        *,
        files: Files | None = None,
        queue: Queue | None = None,
        roster: Roster | None = None,
        participation: ParticipationHistory | None = None,
        rollups: TeamRollups | None = None,
        download_ttl_seconds: int = 900,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._counters = counters
        self._census = census
        self._exports = exports
        self._files = files
        self._queue = queue
        self._roster = roster
        self._participation = participation
        self._rollups = rollups
        self._download_ttl = download_ttl_seconds
        self._now = now

    # ------------------------------------------------------------------ synchronous, bounded
    def summary(self, period: Period) -> dict[str, Any]:
        """Participation and counters per campaign and group (the per-employee rows are in exports)."""
        used = report_period(period)
        report, campaigns, groups = self._summary(period_keys(self._now())[used], used, self._census.latest())
        return {
            **report,
            "campaigns": campaigns[:MAX_ROWS],
            "campaigns_total": len(campaigns),
            "groups": groups[:MAX_ROWS],
            "groups_total": len(groups),
            "truncated": len(campaigns) > MAX_ROWS or len(groups) > MAX_ROWS,
        }

    def groups(self) -> list[str]:
        """The groups of the latest census (the roster's groups as the report function last
        counted them), for choosing a board: one read, never the roster."""
        census = self._census.latest()
        return sorted(census.groups) if census else []

    def team_board(self, period: Period) -> dict[str, Any]:
        """Teams ranked by points per active member, so large teams do not win by size.

        Points come from the report function's roll-up (one read, figures as of its run); until a
        roll-up of the period exists (a new stack, the first minutes of a month), or when it holds
        fewer teams than there are, from the scorer's shards themselves (exact, 8 reads)."""
        used = report_period(period)
        period_key = period_keys(self._now())[used]
        census = self._census.latest()
        members = census.groups if census else {}
        rollup = self._rollups.teams(period_key) if self._rollups else None
        points: dict[str, dict[str, Any]]
        if rollup is not None and len(rollup.teams) == rollup.teams_total:
            points = {team.group: team.model_dump() for team in rollup.teams}
            figures_as_of: str | None = iso(rollup.computed_at)
        else:
            stats = self._counters.stats(period_key)
            points = {str(row["name"]): row for row in stats if row["dimension"] == "group"}
            figures_as_of = None
        teams = []
        for group in sorted(set(points) | set(members)):
            row, count = points.get(group, {}), members.get(group)
            earned = int(row.get("points", 0))
            teams.append(
                {
                    "group": group,
                    "points": earned,
                    "participants": int(row.get("participants", 0)),
                    "members": count,
                    "average": round(earned / count, 2) if count else None,
                    "participation": rate(int(row.get("participants", 0)), count),
                }
            )
        teams.sort(key=_team_order)
        return {
            "period": used.value,
            "period_key": period_key,
            "members_counted_at": iso(census.counted_at) if census else None,
            # None: counted now from the scorer's counters; else the roll-up's time.
            "figures_as_of": figures_as_of,
            "teams": teams[:MAX_ROWS],
            "teams_total": len(teams),
            "truncated": len(teams) > MAX_ROWS,
        }

    def _summary(
        self, period_key: str, used: Period, census: Census | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        stats = self._counters.stats(period_key)
        company = next((row for row in stats if row["dimension"] == "company"), {})
        members = census.groups if census else {}

        def rows(dimension: str) -> list[dict[str, Any]]:
            found = []
            for row in stats:
                if row["dimension"] != dimension:
                    continue
                entry = counter_row(row["name"] or "(none)", row)
                if dimension == "group":
                    entry |= {"participants": int(row.get("participants", 0)), "members": members.get(entry["name"])}
                found.append(entry)
            return sorted(found, key=lambda row: (-row["points"], row["name"]))

        participants = int(company.get("participants", 0))
        active = census.active if census else None
        report = {
            "period": used.value,
            "period_key": period_key,
            "active_employees": active,
            "members_counted_at": iso(census.counted_at) if census else None,
            "participants": participants,
            "participation_rate": rate(participants, active),
            "totals": {counter: int(company.get(counter, 0)) for counter in COUNTERS},
        }
        return report, rows("campaign"), rows("group")

    # ------------------------------------------------------------------ exports
    def request_export(self, period: Period) -> Export:
        """Records a pending export and queues it for the report function."""
        assert self._queue is not None, "the admin API is wired with the report queue"
        used = report_period(period)
        now = self._now()
        export = Export(
            export_id=uuid.uuid4().hex,
            period=used,
            period_key=period_keys(now)[used],
            status=ExportStatus.PENDING,
            requested_at=now,
        )
        self._exports.create(export)
        try:
            # The message as before kinds existed: a report function not yet updated still reads it.
            self._queue.send_all([ExportRequest(export_id=export.export_id).model_dump_json(exclude_defaults=True)])
        except ChorusError:
            self._exports.finish(export.export_id, ExportStatus.FAILED, self._now())
            raise
        logger.info("report requested", export_id=export.export_id, period=used.value)
        return export

    def export_status(self, export_id: str) -> dict[str, Any]:
        export = as_seen(self._exports.get(export_id), self._now())
        answer: dict[str, Any] = {
            "id": export.export_id,
            "kind": export.kind.value,
            "status": export.status.value,
            "period": export.period.value if export.period is not None else None,
            "period_key": export.period_key,
            "requested_at": iso(export.requested_at),
        }
        if export.finished_at:
            answer["finished_at"] = iso(export.finished_at)
        if export.status is ExportStatus.FAILED:
            answer["message"] = "the report could not be produced; ask for it again (operators: ReportFailures queue)"
        if export.status is ExportStatus.READY:
            assert self._files is not None
            answer["employees"] = export.employees
            answer["files"] = {
                name: {
                    "url": self._files.presigned_get(file.key, self._download_ttl, file.filename),
                    "bytes": file.bytes,
                }
                for name, file in sorted(export.files.items())
            }
            answer["expires_in"] = self._download_ttl
        return answer

    # The points report as one producer of the shared ExportDesk (services/exports.py), which
    # produces each export once, streams its files and gives it up after the last attempt.
    def targets(self, export: Export) -> dict[str, tuple[str, str, str]]:
        assert export.period_key is not None, "a points report has its period"
        return export_files(export.export_id, export.period_key)

    def write(self, export: Export, csv_out: IO[str], json_out: IO[str]) -> int:
        """The summary, then every employee's row, one board page at a time: the rows written."""
        assert export.period is not None and export.period_key is not None, "a points report has its period"
        census = self._census.latest() or self.take_census()
        # The period of the request, not of today: a report asked on the 30th at 23:59 is that month's.
        report, campaigns, groups = self._summary(export.period_key, export.period, census)
        report["generated_at"] = iso(self._now())
        writer = ReportWriter(csv_out, json_out)
        writer.begin(report, campaigns, groups)
        for page in self._counters.board_pages(export.period_key, OVERALL):
            for row in page:
                writer.employee(
                    {
                        "employee_id": str(row["employee_id"]),
                        **counter_row(str(row.get("name", "")), {**row, "points": row["score"]}),
                    }
                )
        writer.end()
        return writer.employees

    # ------------------------------------------------------------------ census
    def _record_participation(self, census: Census) -> None:
        """This month's participation by group, against this census; and last month's participants
        once more (approvals after its last census), keeping the census of its own time."""
        if self._participation is None:
            return
        this_month = period_keys(census.counted_at)[Period.MONTH]
        last_month = period_keys(census.counted_at.replace(day=1) - timedelta(days=1))[Period.MONTH]
        for month_key, active in ((last_month, None), (this_month, census.groups)):
            participants = {
                str(row["name"]): int(row.get("participants", 0))
                for row in self._counters.stats(month_key)
                if row["dimension"] == "group"
            }
            kept = snapshot_groups(participants, active if active is not None else {})
            self._participation.record(
                month_key,
                {group: participants.get(group, 0) for group in kept},
                active=None if active is None else {group: active.get(group, 0) for group in kept},
                counted_at=census.counted_at,
            )

    def take_census(self) -> Census:
        """Counts active employees, overall and per group, one roster page at a time."""
        assert self._roster is not None, "the report function is wired with the roster"
        active, groups = 0, dict[str, int]()
        token: dict[str, Any] | None = None
        while True:
            page = self._roster.active_roster_page(ROSTER_PAGE, token)
            for employee in page.items:
                active += 1
                for group in employee.groups:
                    groups[group] = groups.get(group, 0) + 1
            token = page.next_token
            if not token:
                break
        census = Census(counted_at=self._now(), active=active, groups=groups)
        self._census.save(census)
        logger.info("census taken", active=active, groups=len(groups))
        self._record_participation(census)
        return census


def _team_order(team: dict[str, Any]) -> tuple[bool, float, int, str]:
    """Best average first; teams whose members are not counted yet last, by points."""
    average = team["average"]
    return (average is None, -float(average or 0), -int(team["points"]), str(team["group"]))
