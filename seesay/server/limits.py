"""Back-pressure: body size limits, bounded queues and as many workers as a model runs at once.

Each model gets a :class:`Lane`: as many worker threads as it can serve together (the
chat engine's parallel slots: llama.cpp decodes those replies in one batch per step; one
for Whisper and the Piper voice, whose single session would only time-slice the cores),
taking jobs in arrival order (FIFO, which is fair), plus a bounded count of waiting jobs.
When that is full the caller gets 429 at once, with a ``Retry-After`` worked out from
the queue ahead and how long recent jobs took, instead of waiting behind an unbounded
backlog. Streaming replies hold their worker until they finish or the client goes away
(cancelling the stream frees it at the next token). The event loop itself never runs
model code, so ``/v1/models`` and the other lanes stay responsive while replies run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seesay.server.errors import APIError, error_body

log = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()


class Ticket:
    """A place in a lane's queue; released exactly once, whoever finishes first."""

    def __init__(self, lane: Lane) -> None:
        self._lane = lane
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._lane._release()


class Lane:
    """One model's worker threads with a bounded queue in front of them."""

    def __init__(self, name: str, queue_size: int, workers: int = 1) -> None:
        self.name = name
        self.queue_size = queue_size
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"seesay-{name}")
        self._pending = 0  # queued + running
        self._job_s = 2.0  # moving average of how long a job holds a worker (a guess until measured)
        self._running: dict[int, float] = {}  # job id → when a worker took it
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        return self._pending

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the queue ahead, drained by the workers.

        A job is assumed to take the recent average, or as long as the longest running one
        has already taken if that is more: until long replies finish, the average has not
        seen them, and a client told 2 s would come back to a queue that takes 35.
        """
        with self._lock:
            waiting = max(0, self._pending - self.workers)
            now = time.monotonic()
            job_s = max([self._job_s, *(now - t for t in self._running.values())])
            return max(1, math.ceil((waiting + 1) / self.workers * job_s))

    def reserve(self) -> Ticket:
        """Take a place in the queue or fail fast with 429 (before any response has started)."""
        with self._lock:
            full = self._pending >= self.workers + self.queue_size
            if not full:
                self._pending += 1
                return Ticket(self)
        raise APIError(
            429,
            f"The {self.name} model is busy ({self._pending} requests ahead); retry shortly.",
            code="queue_full",
            # Closed after the answer: a client waiting out Retry-After (often as long as the
            # server keeps an idle connection) would otherwise send its retry down a connection
            # the server is closing at that moment, and lose it.
            headers={"Retry-After": str(self.retry_after()), "Connection": "close"},
        )

    def _release(self) -> None:
        with self._lock:
            self._pending -= 1

    def _begin(self) -> float:
        started = time.monotonic()
        with self._lock:
            self._running[threading.get_ident()] = started
        return started

    def _timed(self, started: float) -> None:
        seconds = time.monotonic() - started
        with self._lock:
            self._running.pop(threading.get_ident(), None)
            self._job_s = 0.8 * self._job_s + 0.2 * seconds

    def background(self, fn: Callable[[], Any]) -> None:
        """Run housekeeping (loading the model at startup) on the worker, outside the queue count."""
        self._executor.submit(_logged, fn, self.name)

    async def run(self, ticket: Ticket, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the worker; the ticket is released when it has finished."""

        def job() -> T:
            started = self._begin()
            try:
                return fn()
            finally:
                self._timed(started)
                ticket.release()

        future = self._executor.submit(job)
        _release_if_dropped(future, ticket)
        return await asyncio.wrap_future(future)

    def stream(
        self, ticket: Ticket, produce: Callable[[], Iterator[T]], cancel: Callable[[], None]
    ) -> AsyncIterator[T]:
        """Iterate ``produce()`` on the worker and hand each item to the event loop.

        The worker pushes into an unbounded asyncio queue; items are small (text deltas,
        one sentence of audio) and the producer stops as soon as ``cancel`` is called, so
        a slow or vanished reader cannot pin the lane.
        """
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[Any] = asyncio.Queue()

        def job() -> None:
            started = self._begin()
            try:
                for item in produce():
                    loop.call_soon_threadsafe(items.put_nowait, item)
                loop.call_soon_threadsafe(items.put_nowait, _END)
            except BaseException as e:  # handed to the reader, which reports it in the stream
                loop.call_soon_threadsafe(items.put_nowait, _Failure(e))
            finally:
                self._timed(started)
                ticket.release()

        future = self._executor.submit(job)
        _release_if_dropped(future, ticket)

        async def read() -> AsyncIterator[T]:
            try:
                while True:
                    item = await items.get()
                    if item is _END:
                        return
                    if isinstance(item, _Failure):
                        raise item.error
                    yield item
            finally:
                if not future.done():
                    cancel()

        return read()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _release_if_dropped(future: Any, ticket: Ticket) -> None:
    """A job cancelled while still queued never runs its ``finally``; free its place here."""
    future.add_done_callback(lambda f: ticket.release() if f.cancelled() else None)


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _logged(fn: Callable[[], Any], name: str) -> None:
    try:
        fn()
    except Exception:
        log.exception("background job on the %s lane failed", name)


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for bodies over ``limit`` bytes, by Content-Length up front or by counting chunked uploads.

    Pure ASGI (no buffering) so an oversized upload is refused before it is read into
    memory, whatever route or parser would have consumed it.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(send)
                return
        seen = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to a half-read body is replaced by our 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):  # FastAPI may also turn it into a 400, which we replace
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        mb = self.limit / 1_000_000
        body = json.dumps(
            error_body(
                413,
                f"The request body is larger than the server's limit of {mb:g} MB (server.max_body_mb).",
                code="body_too_large",
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class CancellingStreamingResponse(StreamingResponse):
    """A streaming response that always runs ``on_close`` when it ends, however it ends.

    Starlette cancels the body task when the client disconnects; a body iterator that
    never started would then never run its own ``finally``. Hooking the response itself
    guarantees the model is told to stop (``Stream.cancel``) so the lane is freed.
    """

    def __init__(self, content: AsyncIterator[Any], *, on_close: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()
