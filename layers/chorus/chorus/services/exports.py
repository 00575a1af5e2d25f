"""What every export shares, whatever it holds: the record (pending -> ready or failed, once), the
queue message naming it, the two files streamed to S3 as they are written, and the
status with presigned download links.

The producers (services/ledger_export.py, services/redemption_export.py, and the points report's
own in services/points_reports.py) only write rows. Producing an export twice (a redelivered
message) writes the same files to the same keys once more at most, and records them once.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Buffer, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Protocol, cast

from chorus import clock
from chorus.domain.points_report import Export, ExportFile, ExportKind, ExportRequest, ExportStatus, as_seen
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


class UploadStream(Protocol):
    size: int  # bytes written so far

    def write(self, data: Buffer, /) -> int: ...


class Files(Protocol):
    def upload_stream(self, key: str, content_type: str) -> AbstractContextManager[UploadStream]: ...
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
    """Streams the CSV and the JSON file to S3 as the rows are written (an export may be far larger
    than memory or /tmp): (the files as recorded, the rows written). If writing fails, neither
    file is left behind."""
    with ExitStack() as uploads:
        streams = {
            name: uploads.enter_context(files.upload_stream(targets[name][0], targets[name][1]))
            for name in ("csv", "json")
        }
        texts = {
            name: io.TextIOWrapper(cast("IO[bytes]", stream), encoding="utf-8", newline="")
            for name, stream in streams.items()
        }
        rows = write(texts["csv"], texts["json"])
        for text in texts.values():
            text.flush()
            text.detach()  # the upload completes when its block ends, not when the wrapper closes
    written = {
        name: ExportFile(key=targets[name][0], bytes=stream.size, filename=targets[name][2])
        for name, stream in streams.items()
    }
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
        export = as_seen(self._exports.get(export_id), self._now())
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
