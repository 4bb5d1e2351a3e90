"""The real engine as a test watches it: every stream it opens is kept, to follow or stop."""

from __future__ import annotations

from typing import Any


class Recording:
    """Wraps a real ChatEngine; ``streams`` are the streams opened through it, in order."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.streams: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def stream(self, messages: Any, params: Any = None) -> Any:
        self.streams.append(self.engine.stream(messages, params))
        return self.streams[-1]
