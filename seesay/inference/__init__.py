"""Everything that produces text: one ChatEngine interface, local and remote engines."""

from __future__ import annotations

from seesay.config import Settings
from seesay.inference.engine import ChatEngine, GenerationParams, Message, Stream, StreamStats, TrimReport

__all__ = ["ChatEngine", "GenerationParams", "Message", "Stream", "StreamStats", "TrimReport",
           "create_engine"]


def create_engine(settings: Settings) -> ChatEngine:
    """The remote engine when a server URL is configured, else the local one (not loaded yet)."""
    if settings.remote.base_url:
        from seesay.inference.remote import RemoteEngine

        return RemoteEngine(settings.remote)
    from seesay.inference.local import LocalEngine

    return LocalEngine(settings)
