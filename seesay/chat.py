"""A conversation: history in the store, replies from an engine, saved as they stream.

The GUI worker, the terminal chat and the voice loop all talk through this, so
"what was said" is recorded the same way whichever way it was said.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from seesay.config import Settings
from seesay.inference.context import with_system_prompt
from seesay.inference.engine import ChatEngine, GenerationParams, Message, Stream
from seesay.store import HistoryStore

log = logging.getLogger(__name__)

TITLE_CHARS = 60


def title_from(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class ChatSession:
    def __init__(self, engine: ChatEngine, settings: Settings, store: HistoryStore | None = None,
                 conversation_id: int | None = None, *, save: bool = True) -> None:
        self.engine = engine
        self.settings = settings
        self.store = store if store is not None or not save else HistoryStore.open()
        self.conversation_id = conversation_id
        self._memory: list[Message] = []  # used when nothing is saved

    def history(self) -> list[Message]:
        if self.store is None or self.conversation_id is None:
            return list(self._memory)
        return [{"role": m.role, "content": m.content}  # type: ignore[typeddict-item]
                for m in self.store.messages(self.conversation_id) if m.role in ("user", "assistant")
                and (m.content or m.role == "user")]

    def send(self, prompt: str, params: GenerationParams | None = None, meta: dict | None = None) -> Stream:
        """Record the user's message and start the reply."""
        if self.store is not None:
            if self.conversation_id is None:
                self.conversation_id = self.store.create_conversation(title_from(prompt))
            self.store.add_message(self.conversation_id, "user", prompt, meta=meta)
        else:
            self._memory.append({"role": "user", "content": prompt})
        return self._reply(params)

    def regenerate(self, params: GenerationParams | None = None) -> Stream:
        """Drop the replies after the last user message and answer it again."""
        if self.store is not None and self.conversation_id is not None:
            stored = self.store.messages(self.conversation_id)
            users = [m for m in stored if m.role == "user"]
            if users:
                after = [m for m in stored if m.id > users[-1].id]
                if after:
                    self.store.delete_messages_after(self.conversation_id, after[0].id)
        else:
            while self._memory and self._memory[-1]["role"] == "assistant":
                self._memory.pop()
        return self._reply(params)

    def _reply(self, params: GenerationParams | None) -> Stream:
        params = params or GenerationParams.from_settings(self.settings.generation)
        messages = with_system_prompt(self.history(), self.settings.chat.system_prompt)
        inner = self.engine.stream(messages, params)
        return Stream(lambda outer: self._persist(outer, inner), wraps=inner)

    def _persist(self, outer: Stream, inner: Stream) -> Iterator[str]:
        writer = None
        if self.store is not None and self.conversation_id is not None:
            writer = self.store.begin_reply(self.conversation_id, meta={"model": self.engine.model_name})
        parts: list[str] = []
        status, error = "error", ""
        try:
            for delta in inner:
                parts.append(delta)
                if writer is not None:
                    writer.append(delta)
                yield delta
            status = "interrupted" if inner.cancelled else "complete"
        except GeneratorExit:  # the reader stopped listening: same as Stop
            status = "interrupted"
            raise
        except Exception as e:
            error = str(e)
            raise
        finally:
            stats = inner.stats
            stats.finished_at = stats.finished_at or time.perf_counter()
            meta = {"model": self.engine.model_name, "tokens": stats.completion_tokens,
                    "tokens_per_s": round(stats.tokens_per_second, 2),
                    "finish_reason": stats.finish_reason or status}
            if stats.trim:
                meta["trimmed"] = stats.trim.describe()
            if error:
                meta["error"] = error
            if writer is not None:
                writer.finish(status, meta)
            elif parts:
                self._memory.append({"role": "assistant", "content": "".join(parts)})
