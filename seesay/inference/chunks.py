"""Reading OpenAI ``chat.completion.chunk`` objects into text deltas and a stream's stats.

llama.cpp in this process and any remote OpenAI-compatible server both answer in this
shape, so both engines read it the same way: choice 0's content deltas, its finish reason,
and the usage the last chunk brings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from seesay.inference.engine import StreamStats


class ChunkReader:
    def __init__(self, stats: StreamStats) -> None:
        self.stats = stats
        self.finish: str | None = None
        self.usage: dict[str, Any] = {}

    def deltas(self, chunk: dict[str, Any]) -> Iterator[str]:
        """The text in ``chunk`` (counted as it comes), noting its usage and finish reason."""
        stats = self.stats
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(content, str) and content:
                if stats.first_token_at is None:
                    stats.first_token_at = time.perf_counter()
                stats.completion_tokens += 1
                yield content
            self.finish = choice.get("finish_reason") or self.finish

    def done(self) -> None:
        """The reply ended normally: "length" when the token budget stopped it, else "stop"; the
        server's own token counts (the last usage seen) replace the ones counted here."""
        stats, usage = self.stats, self.usage
        stats.finish_reason = "length" if self.finish == "length" else "stop"
        stats.prompt_tokens = int(usage.get("prompt_tokens") or stats.prompt_tokens)
        stats.completion_tokens = int(usage.get("completion_tokens") or stats.completion_tokens)
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict):
            stats.cached_tokens = int(details.get("cached_tokens") or 0)
        stats.finished_at = time.perf_counter()
