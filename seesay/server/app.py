"""The FastAPI application: services, middleware and routes wired together.

:func:`create_app` takes ready-made core objects (an engine, a transcriber, a
synthesizer) or builds them from settings on first use, so tests can run the real app
in-process with a tiny model and ``seesay serve`` runs it with the configured ones.
Models load lazily on their own lane (see :mod:`seesay.server.limits`), never on the
event loop, and the chat model starts loading at startup so the first reply is quick.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from seesay import __version__
from seesay.config import Settings
from seesay.errors import ConfigError, SeeSayError
from seesay.inference.engine import ChatEngine
from seesay.server import errors
from seesay.server.limits import BodyLimitMiddleware, Lane
from seesay.server.security import AuthMiddleware

log = logging.getLogger(__name__)


class Services:
    """The core objects behind the routes, each created once and used from its lane only."""

    def __init__(
        self,
        settings: Settings,
        engine: ChatEngine | None = None,
        transcriber: Any = None,
        synthesizer: Any = None,
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._synthesizer = synthesizer
        self._transcribers: dict[str, Any] = {}
        if transcriber is not None:
            self._transcribers[settings.voice.language] = transcriber
        self._lock = threading.Lock()
        self._library: Any = None
        size = settings.server.queue_size
        self._chat_lane: Lane | None = None
        self.transcription_lane = Lane("transcription", size)
        self.speech_lane = Lane("speech", size)

    @property
    def library(self) -> Any:
        """The document library in the history's database, opened on the first search."""
        with self._lock:
            if self._library is None:
                from seesay.docs.library import Library
                from seesay.store import HistoryStore

                self._library = Library(HistoryStore.open())
            return self._library

    @property
    def engine(self) -> ChatEngine:
        with self._lock:
            if self._engine is None:
                from seesay.inference import create_engine

                self._engine = create_engine(self.settings)
            return self._engine

    @property
    def chat_lane(self) -> Lane:
        """As many workers as the chat engine generates replies at once (made with the engine)."""
        engine = self.engine
        with self._lock:
            if self._chat_lane is None:
                self._chat_lane = Lane("chat", self.settings.server.queue_size, max(1, engine.parallel))
            return self._chat_lane

    def transcriber(self, language: str | None) -> Any:
        """One transcriber per language asked for (a few at most), so requests never mutate a shared one."""
        lang = self.settings.voice.language if language is None else language
        with self._lock:
            if lang not in self._transcribers:
                if len(self._transcribers) >= 4:
                    self._transcribers.pop(next(iter(self._transcribers)))
                from seesay.audio.stt import create_transcriber

                voice = dataclasses.replace(self.settings.voice, language=lang)
                self._transcribers[lang] = create_transcriber(voice)
            return self._transcribers[lang]

    @property
    def synthesizer(self) -> Any:
        with self._lock:
            if self._synthesizer is None:
                from seesay.audio.tts import create_synthesizer

                self._synthesizer = create_synthesizer(self.settings.voice)
            return self._synthesizer

    def shutdown(self) -> None:
        for lane in (self._chat_lane, self.transcription_lane, self.speech_lane):
            if lane is not None:
                lane.shutdown()


def create_app(
    settings: Settings,
    engine: ChatEngine | None = None,
    *,
    transcriber: Any = None,
    synthesizer: Any = None,
    api_key: str | None = None,
    host: str | None = None,
    preload: bool = False,
) -> FastAPI:
    """The API app served on ``host`` (default ``server.host``).

    ``api_key`` None means no key: the caller checks that ``host`` is loopback.
    """
    from seesay.server.security import is_loopback

    loopback = is_loopback(settings.server.host if host is None else host)
    origins = tuple(o.strip() for o in settings.server.cors_origins.split(",") if o.strip())
    if "*" in origins:
        if api_key is None:
            raise ConfigError(
                "server.cors_origins: '*' would let every web site drive a server without a key; "
                "list the origins that may call it, or require the key."
            )
        log.warning("server.cors_origins is '*': every web site may call this API (with the key)")
    services = Services(settings, engine, transcriber, synthesizer)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if preload:
            try:
                lane = services.chat_lane
            except SeeSayError as e:  # reported again, as a 503, to each chat request
                log.warning("the chat model is unavailable: %s", e)
            else:
                lane.background(lambda: services.engine.load())
        yield
        # Lanes are left running: an app may be started more than once (tests), and at exit
        # uvicorn cancels open responses, which cancels their streams and frees the workers.

    app = FastAPI(
        title="SeeSay local API",
        version=__version__,
        lifespan=lifespan,
        description="OpenAI-compatible endpoints over SeeSay's local models.",
        docs_url=None,  # the interactive pages load their scripts from a CDN; /openapi.json stays
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)

    from seesay.server import audio, chat, documents, models

    app.include_router(models.router)
    app.include_router(chat.router)
    app.include_router(audio.router)
    app.include_router(documents.router)

    # Added last = outermost: CORS (when enabled) answers preflights before auth, then auth runs
    # before any body is read, then the size limit.
    app.add_middleware(BodyLimitMiddleware, limit=settings.server.max_body_mb * 1_000_000)
    app.add_middleware(AuthMiddleware, key=api_key, loopback=loopback, origins=origins)
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app
