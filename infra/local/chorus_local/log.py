"""Structured (key=value) logging for the local cloud.

One logger factory for every module: ``get_logger(__name__).info("invoked", function=name)``.
Field values are rendered ``key=value`` (quoted when they contain spaces). Nothing here ever
receives an Authorization header, a token or a query string: callers pass paths, not URLs.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

_FIELDS = "chorus_fields"


def _render(value: object) -> str:
    text = str(value)
    if not text or any(ch in text for ch in ' "=\n\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    """``time level=INFO logger=x msg=... k=v`` lines."""

    def format(self, record: logging.LogRecord) -> str:
        when = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        parts = [
            f"{when}.{int(record.msecs):03d}",
            f"level={record.levelname}",
            f"logger={record.name}",
            f"msg={_render(record.getMessage())}",
        ]
        fields: dict[str, Any] = getattr(record, _FIELDS, {})
        parts.extend(f"{key}={_render(value)}" for key, value in fields.items())
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class StructLogger:
    """A thin wrapper over a stdlib logger that takes key=value fields as keyword arguments."""

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def _log(self, level: int, message: str, fields: dict[str, Any], exc_info: bool = False) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, "%s", message, extra={_FIELDS: fields}, exc_info=exc_info)

    def debug(self, message: str, **fields: Any) -> None:
        self._log(logging.DEBUG, message, fields)

    def info(self, message: str, **fields: Any) -> None:
        self._log(logging.INFO, message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        self._log(logging.WARNING, message, fields)

    def error(self, message: str, **fields: Any) -> None:
        self._log(logging.ERROR, message, fields)

    def exception(self, message: str, **fields: Any) -> None:
        self._log(logging.ERROR, message, fields, exc_info=True)


def get_logger(name: str) -> StructLogger:
    return StructLogger(name)


def configure(level: str = "INFO") -> None:
    """Send chorus_local logs to stderr as key=value lines; silence per-request server logs.

    werkzeug's request log prints full request lines (query strings included, which may carry
    magic-link tokens or presigned-URL signatures), so it is raised to WARNING; the gateway logs
    its own access line with the path only. So are requests-oauthlib's and oauthlib's, which
    print token bodies at DEBUG.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger("chorus_local")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # requests-oauthlib and oauthlib log token responses at DEBUG (the local connect flow uses them).
    for name in ("requests_oauthlib", "oauthlib"):
        logging.getLogger(name).setLevel(logging.WARNING)
