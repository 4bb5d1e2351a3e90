"""Reading OpenAI ``chat.completion.chunk`` objects into text deltas and a stream's stats.

llama.cpp in this process and any remote OpenAI-compatible server both answer in this
shape, so both engines read it the same way: choice 0's content deltas, its tool calls
(streamed in pieces by index, joined here), its finish reason, and the usage the last
chunk brings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from seesay.inference.engine import Stream, ToolCall


class ChunkReader:
    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.stats = stream.stats
        self.finish: str | None = None
        self.usage: dict[str, Any] = {}
        self._calls: dict[int, ToolCall] = {}

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
            if isinstance(delta, dict) and isinstance(delta.get("tool_calls"), list):
                self._add_calls(delta["tool_calls"])
            self.finish = choice.get("finish_reason") or self.finish

    def _add_calls(self, pieces: list[Any]) -> None:
        for n, piece in enumerate(pieces):
            if not isinstance(piece, dict):
                continue
            index = piece.get("index", n)
            call = self._calls.setdefault(
                index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
            )
            call["id"] = piece.get("id") or call["id"]
            function = piece.get("function") or {}
            call["function"]["name"] += function.get("name") or ""
            call["function"]["arguments"] += function.get("arguments") or ""

    def done(self) -> None:
        """The reply ended normally: "length" when the token budget stopped it, else "stop"; the
        server's own token counts (the last usage seen) replace the ones counted here."""
        stats, usage = self.stats, self.usage
        stats.finish_reason = "length" if self.finish == "length" else "stop"
        if self._calls:
            self.stream.tool_calls = [
                {**c, "id": c["id"] or f"call_{i}"} for i, c in sorted(self._calls.items())
            ]
            stats.finish_reason = "tool_calls"
        stats.prompt_tokens = int(usage.get("prompt_tokens") or stats.prompt_tokens)
        stats.completion_tokens = int(usage.get("completion_tokens") or stats.completion_tokens)
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict):
            stats.cached_tokens = int(details.get("cached_tokens") or 0)
        stats.finished_at = time.perf_counter()
