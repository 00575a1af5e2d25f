"""A werkzeug WSGI server on its own thread: bound in the caller's thread (so a busy port fails
at once, not in the background), stopped cleanly."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class ThreadedServer:
    def __init__(
        self, app: Any, host: str, port: int, *, name: str, request_handler: type[WSGIRequestHandler] | None = None
    ) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=request_handler)
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() blocks forever if serve_forever never ran
            self._server.shutdown()
            self._thread.join(10)
            self._thread = None
        self._server.server_close()
