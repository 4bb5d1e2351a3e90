"""Connection limits for ``seesay serve``: a cap, and a deadline on every wait for the client.

Uvicorn times out idle keep-alive connections but waits forever for a request's head or
body: a few hundred half-open sockets, or one client that stops mid-upload, would hold
the server's memory and file descriptors indefinitely. :class:`GuardedH11Protocol`
adds the missing clocks to uvicorn's own h11 protocol (kept, not reimplemented, so its
parsing and flow control stay as they are): the head must arrive within
``server.read_timeout_s`` of the connection (or of its first byte after a keep-alive
pause), the body may pause at most as long between reads, and connections over the
cap are answered 503 and closed at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from seesay.config import ServerSettings
from seesay.server.errors import error_body

log = logging.getLogger(__name__)

KEEP_ALIVE_S = 5  # an idle connection between requests (uvicorn's own timer)


def _closing_response(status: int, reason: str, message: str, code: str, extra: str = "") -> bytes:
    """A whole HTTP response written straight to the socket, for when no request cycle exists."""
    body = json.dumps(error_body(status, message, code=code)).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"{extra}content-length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


_BUSY = _closing_response(
    503, "Service Unavailable", "Too many open connections; retry shortly.", "busy", "retry-after: 1\r\n"
)
_TIMEOUT = _closing_response(408, "Request Timeout", "The request did not arrive in time.", "request_timeout")


class GuardedH11Protocol(H11Protocol):
    """Uvicorn's h11 protocol with a connection cap and header/body read deadlines."""

    max_connections = 100
    read_timeout_s = 15.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._read_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            log.info("refusing a connection: %d are open (server.max_connections)", len(self.connections) - 1)
            transport.write(_BUSY)
            transport.close()
            return
        self._arm(self.read_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.IDLE:  # a head in progress: one deadline for all of it, not per byte
            if self._read_timer is None:
                self._arm(self.read_timeout_s)
        elif state is h11.SEND_BODY:
            self._arm(self.read_timeout_s)
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        self._disarm()  # from here uvicorn's keep-alive timer watches the idle connection
        super().on_response_complete()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _expired(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY and self.flow.read_paused:
            self._arm(self.read_timeout_s)  # we stopped reading (the app is busy), not the client
            return
        if state not in (h11.IDLE, h11.SEND_BODY):
            return
        log.info("closing a connection from %s: the request did not arrive in time", self.client)
        if state is h11.IDLE and (self.cycle is None or self.cycle.response_complete):
            self.transport.write(_TIMEOUT)
        self.transport.close()


def uvicorn_config(app: Any, host: str, port: int, server: ServerSettings, **options: Any) -> Any:
    """Uvicorn's config with our protocol (a class per server: uvicorn takes a class)."""
    import uvicorn

    guarded = type(
        "SeeSayH11Protocol",
        (GuardedH11Protocol,),
        {"max_connections": server.max_connections, "read_timeout_s": server.read_timeout_s},
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded,
        limit_concurrency=server.max_connections + 1,  # requests in flight; connections are capped above
        timeout_keep_alive=KEEP_ALIVE_S,
        **options,
    )
