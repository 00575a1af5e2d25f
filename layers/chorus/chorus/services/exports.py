"""What every export shares, whatever it holds: the record (pending -> ready or failed, once), the
queue message naming it, the two files written to temporary files and uploaded to S3, and the
status with presigned download links.

The producers (services/ledger_export.py, services/redemption_export.py, and the points report's
own in services/points_reports.py) only write rows. Producing an export twice (a redelivered
message) writes the same files to the same keys once more at most, and records them once.
"""

from __future__ import annotations

import io
import tempfile
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Protocol

from chorus import clock
from chorus.domain.points_report import Export, ExportFile, ExportKind, ExportRequest, ExportStatus
from chorus.errors import ChorusError, InvalidInput
from chorus.observability import logger

# Writes the rows to the CSV and the JSON text streams, and answers how many it wrote.
RowsWriter = Callable[[IO[str], IO[str]], int]


class ExportRecords(Protocol):
    def create(self, export: Export) -> None: ...
    def get(self, export_id: str) -> Export: ...
    def finish(
        self,
        export_id: str,
        status: ExportStatus,
        finished_at: datetime,
        *,
        employees: int = 0,
        files: dict[str, ExportFile] | None = None,
    ) -> bool: ...


class Files(Protocol):
    def put_file(self, key: str, body: IO[bytes], content_type: str) -> None: ...
    def presigned_get(self, key: str, expires_in: int, filename: str) -> str: ...


class Queue(Protocol):
    def send_all(self, bodies: Sequence[str]) -> int: ...


class ExportProducer(Protocol):
    def targets(self, export: Export) -> dict[str, tuple[str, str, str]]:
        """format -> (S3 key, content type, download file name)."""
        ...

    def write(self, export: Export, csv_out: IO[str], json_out: IO[str]) -> int: ...


def write_files(
    files: Files, targets: Mapping[str, tuple[str, str, str]], write: RowsWriter
) -> tuple[dict[str, ExportFile], int]:
    """Writes the CSV and the JSON file to temporary files (an export may be far larger than
    memory), then uploads both: (the files as recorded, the rows written)."""
    with tempfile.TemporaryFile() as csv_file, tempfile.TemporaryFile() as json_file:
        csv_text = io.TextIOWrapper(csv_file, encoding="utf-8", newline="")
        json_text = io.TextIOWrapper(json_file, encoding="utf-8", newline="")
        rows = write(csv_text, json_text)
        written: dict[str, ExportFile] = {}
        for name, text in (("csv", csv_text), ("json", json_text)):
            text.flush()
            binary = text.detach()
            size = binary.tell()
            binary.seek(0)
            key, content_type, filename = targets[name]
            files.put_file(key, binary, content_type)
            written[name] = ExportFile(key=key, bytes=size, filename=filename)
    return written, rows


@dataclass(frozen=True)
class Download:
    name: str
    filename: str
    url: str
    bytes: int


@dataclass(frozen=True)
class ExportView:
    """An export as its status page shows it; links only once it is ready."""

    export: Export
    downloads: tuple[Download, ...]
    expires_in: int


class ExportDesk:
    def __init__(
        self,
        exports: ExportRecords,
        *,
        files: Files | None = None,
        queue: Queue | None = None,
        producers: Mapping[ExportKind, ExportProducer] | None = None,
        download_ttl_seconds: int = 900,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self._exports = exports
        self._files = files
        self._queue = queue
        self._producers = dict(producers or {})
        self._download_ttl = download_ttl_seconds
        self._now = now

    def request(self, kind: ExportKind, criteria: Mapping[str, str] | None = None) -> Export:
        """Records a pending export and queues it for the report function; if it cannot be
        queued, the record says failed (nothing waits for ever)."""
        assert self._queue is not None, "the console and the admin API are wired with the report queue"
        if kind is ExportKind.POINTS:
            raise InvalidInput("points reports are asked for with their period (PointsReportService)")
        export = Export(
            export_id=uuid.uuid4().hex,
            kind=kind,
            criteria=dict(criteria or {}),
            status=ExportStatus.PENDING,
            requested_at=self._now(),
        )
        self._exports.create(export)
        try:
            self._queue.send_all([ExportRequest(export_id=export.export_id, kind=kind).model_dump_json()])
        except ChorusError:
            self._exports.finish(export.export_id, ExportStatus.FAILED, self._now())
            raise
        logger.info("export requested", export_id=export.export_id, kind=kind.value)
        return export

    def today(self) -> date:
        """Today in UTC, the last day a ledger export by days may end on."""
        return self._now().astimezone(UTC).date()

    def view(self, export_id: str) -> ExportView:
        export = self._exports.get(export_id)
        if export.status is not ExportStatus.READY:
            return ExportView(export=export, downloads=(), expires_in=0)
        assert self._files is not None, "the status page is wired with the exports bucket"
        downloads = tuple(
            Download(
                name=name,
                filename=file.filename,
                url=self._files.presigned_get(file.key, self._download_ttl, file.filename),
                bytes=file.bytes,
            )
            for name, file in sorted(export.files.items())
        )
        return ExportView(export=export, downloads=downloads, expires_in=self._download_ttl)

    def produce(self, export_id: str) -> Export:
        """Writes the export's files and marks it ready; an export already finished is left as is."""
        assert self._files is not None
        export = self._exports.get(export_id)
        if export.status is not ExportStatus.PENDING:
            logger.info("export already produced", export_id=export_id, status=export.status.value)
            return export
        producer = self._producers[export.kind]
        written, rows = write_files(
            self._files, producer.targets(export), lambda csv_out, json_out: producer.write(export, csv_out, json_out)
        )
        self._exports.finish(export_id, ExportStatus.READY, self._now(), employees=rows, files=written)
        logger.info("export produced", export_id=export_id, kind=export.kind.value, rows=rows)
        return self._exports.get(export_id)

    def give_up(self, export_id: str) -> None:
        """The last attempt failed: the admin sees it, instead of an export pending for ever."""
        if self._exports.finish(export_id, ExportStatus.FAILED, self._now()):
            logger.error("export could not be produced", export_id=export_id)
