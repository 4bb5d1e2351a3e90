"""A conversation: history in the store, replies from an engine, saved as they stream.

The one layer every front end shares: the window, the terminal chat, the voice loop and
the API all record turns here (each with its source: typed, spoken or an image), apply
the custom instructions through :func:`with_system_prompt`, and answer images through
:func:`answer_image`, so "what was said" is recorded and answered the same way whichever
way it was said.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from seesay.config import Settings
from seesay.errors import EngineError
from seesay.inference.engine import ChatEngine, GenerationParams, Message, Stream
from seesay.store import HistoryStore

log = logging.getLogger(__name__)

TITLE_CHARS = 60
Source = Literal["typed", "voice", "image"]
IMAGE_QUESTION = "Describe this image. If it is a sketch or screenshot of a web page, list its parts."


def with_system_prompt(messages: list[Message], system_prompt: str) -> list[Message]:
    """Prepend the custom instructions unless the conversation brings its own."""
    if not system_prompt.strip() or any(m["role"] == "system" for m in messages):
        return list(messages)
    return [{"role": "system", "content": system_prompt}, *messages]


def answer_image(
    settings: Settings,
    image: bytes | Path,
    question: str = IMAGE_QUESTION,
    params: GenerationParams | None = None,
) -> Stream:
    """An image answered: by the vision-language model when one is configured, else with what
    the offline sketch reader finds in it (its elements and labels, and the page they make)."""
    from seesay.vision import vlm
    from seesay.vision.describe import describe_sketch

    model = vlm.for_settings(settings)
    if model is not None:
        return model.stream_answer(image, question or IMAGE_QUESTION, params)
    return describe_sketch(settings, image)


def title_from(prompt: str) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class ChatSession:
    def __init__(
        self,
        engine: ChatEngine | None,
        settings: Settings,
        store: HistoryStore | None = None,
        conversation_id: int | None = None,
        *,
        save: bool = True,
        memory: Sequence[Message] = (),
    ) -> None:
        """``engine`` may come later (the window attaches the loaded one to each reply);
        ``memory``: earlier turns to continue from when nothing is saved."""
        self.engine = engine
        self.settings = settings
        self.store = store if store is not None or not save else HistoryStore.open()
        self.conversation_id = conversation_id
        self._memory: list[Message] = list(memory)  # used when nothing is saved

    def history(self) -> list[Message]:
        if self.store is None or self.conversation_id is None:
            return list(self._memory)
        return [
            {"role": m.role, "content": m.content}  # type: ignore[typeddict-item]
            for m in self.store.messages(self.conversation_id)
            if m.role in ("user", "assistant") and (m.content or m.role == "user")
        ]

    def send(self, prompt: str, params: GenerationParams | None = None, source: Source = "typed") -> Stream:
        """Record the user's message and start the reply."""
        self._add("user", prompt, {"source": source})
        return self._reply(params)

    def record(self, prompt: str, answer: str, meta: dict) -> None:
        """A turn answered without the chat model (an image the vision path looked at)."""
        self._add("user", prompt, meta)
        self._add("assistant", answer, meta)

    def _add(self, role: str, content: str, meta: dict) -> None:
        if self.store is not None:
            if self.conversation_id is None:
                self.conversation_id = self.store.create_conversation(title_from(content))
            self.store.add_message(self.conversation_id, role, content, meta=meta)
        else:
            self._memory.append({"role": role, "content": content})  # type: ignore[typeddict-item]

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
        if self.engine is None:
            raise EngineError("The model has not been loaded yet.")
        engine = self.engine
        inner = engine.stream(messages, params)
        return Stream(lambda outer: self._persist(inner, engine), wraps=inner)

    def _persist(self, inner: Stream, engine: ChatEngine) -> Iterator[str]:
        writer = None
        if self.store is not None and self.conversation_id is not None:
            writer = self.store.begin_reply(self.conversation_id, meta={"model": engine.model_name})
        parts: list[str] = []
        status, error = "error", ""
        try:
            for delta in inner:
                parts.append(delta)
                if writer is not None:
                    writer.append(delta)
                yield delta
            status = "interrupted" if inner.cancelled else "complete"
        except (GeneratorExit, KeyboardInterrupt):  # the reader stopped listening: same as Stop
            status = "interrupted"
            raise
        except Exception as e:
            error = str(e)
            raise
        finally:
            stats = inner.stats
            stats.finished_at = stats.finished_at or time.perf_counter()
            meta = {
                "model": engine.model_name,
                "tokens": stats.completion_tokens,
                "tokens_per_s": round(stats.tokens_per_second, 2),
                "finish_reason": stats.finish_reason or status,
            }
            if stats.trim:
                meta["trimmed"] = stats.trim.describe()
            if error:
                meta["error"] = error
            if writer is not None:
                writer.finish(status, meta)
            elif parts:
                self._memory.append({"role": "assistant", "content": "".join(parts)})
