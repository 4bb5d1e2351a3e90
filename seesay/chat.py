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
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from seesay.config import Settings
from seesay.errors import EngineError, StoreError
from seesay.inference.engine import ChatEngine, GenerationParams, Message, Stream, ToolCall
from seesay.store import HistoryStore

if TYPE_CHECKING:
    from seesay.docs.grounding import Attachment
    from seesay.docs.grounding import Source as Cited
    from seesay.docs.library import Library
    from seesay.tools.base import Tool
    from seesay.tools.runner import Outcome, ToolRunner

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


def to_message(role: str, content: str, meta: dict[str, Any]) -> Message | None:
    """A saved message as the model sees it (None: nothing to send). Untrusted tool output is
    fenced here, at the point it enters the context, and stored as it was."""
    if role == "user":
        if meta.get("attachments"):
            from seesay.docs.grounding import Attachment, with_attachments

            attached = [Attachment.from_meta(a) for a in meta["attachments"]]
            return {"role": "user", "content": with_attachments(content, attached)}
        return {"role": "user", "content": content}
    if role == "system":
        return {"role": "system", "content": content}
    if role == "assistant":
        if meta.get("tool_calls"):
            return {"role": "assistant", "content": content, "tool_calls": meta["tool_calls"]}
        return {"role": "assistant", "content": content} if content else None
    if role == "tool":
        from seesay.tools.approvals import mark_untrusted

        text = mark_untrusted(content, str(meta.get("source", ""))) if meta.get("untrusted") else content
        return {
            "role": "tool",
            "content": text,
            "tool_call_id": str(meta.get("tool_call_id", "")),
            "name": str(meta.get("name", "")),
        }
    return None


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
        tools: ToolRunner | None = None,
        library: Library | None = None,
        use_library: bool = False,
    ) -> None:
        """``engine`` may come later (the window attaches the loaded one to each reply);
        ``memory``: earlier turns to continue from when nothing is saved; ``tools``: what the
        model may call (None: it only talks); ``library``: where attached long files are
        searched, and with ``use_library`` the folders every question is looked up in."""
        self.engine = engine
        self.settings = settings
        self.store = store if store is not None or not save else HistoryStore.open()
        self.conversation_id = conversation_id
        self.tools = tools
        self.library = library
        self.use_library = use_library
        self._sources: list[Cited] = []  # the passages the reply being written was given
        # (role, content, meta) of each turn, used when nothing is saved
        self._memory: list[tuple[str, str, dict[str, Any]]] = [(m["role"], m["content"], {}) for m in memory]

    @property
    def sources(self) -> list[Cited]:
        """The passages the last reply was given (numbered as it cites them)."""
        return list(self._sources)

    def _records(self) -> list[tuple[str, str, dict[str, Any]]]:
        if self.store is None or self.conversation_id is None:
            return list(self._memory)
        return [(m.role, m.content, m.meta) for m in self.store.messages(self.conversation_id)]

    def history(self) -> list[Message]:
        found = (to_message(role, content, meta) for role, content, meta in self._records())
        return [m for m in found if m is not None]

    def send(
        self,
        prompt: str,
        params: GenerationParams | None = None,
        source: Source = "typed",
        attachments: Sequence[Attachment] = (),
    ) -> Stream:
        """Record the user's message (with any files already read by ``grounding.attach``) and
        start the reply."""
        meta: dict[str, Any] = {"source": source}
        if attachments:
            meta["attachments"] = [a.to_meta() for a in attachments]
        self._add("user", prompt, meta)
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
            self._memory.append((role, content, meta))

    def regenerate(self, params: GenerationParams | None = None) -> Stream:
        """Answer the last user message again; the earlier answer stays as an alternative."""
        if self.store is not None and self.conversation_id is not None:
            users = [m for m in self.store.messages(self.conversation_id) if m.role == "user"]
            if users:
                self._require_engine()  # before the path moves, so a failure leaves it as it was
                self.store.continue_from(self.conversation_id, users[-1].id)
        else:
            while self._memory and self._memory[-1][0] != "user":
                self._memory.pop()
        return self._reply(params)

    def resend(
        self, message_id: int, prompt: str, params: GenerationParams | None = None, source: Source = "typed"
    ) -> Stream:
        """Send ``prompt`` in place of an earlier user message and answer it: a new branch
        beside that message, which is kept (with what followed it) as an alternative."""
        if self.store is None or self.conversation_id is None:
            raise StoreError("Only a saved conversation can be edited.")
        stored = next((m for m in self.store.messages(self.conversation_id) if m.id == message_id), None)
        if stored is None or stored.role != "user":
            raise StoreError("That message is no longer shown, so it cannot be edited.")
        self._require_engine()
        self.store.continue_from(self.conversation_id, stored.parent_id)
        meta = {**stored.meta, "source": source, "edited_from": message_id}
        self._add("user", prompt, meta)
        return self._reply(params)

    def show(self, message_id: int) -> None:
        """Switch to an alternative (or to the branch holding a message): what follows continues from it."""
        if self.store is None:
            raise StoreError("Only a saved conversation has alternatives.")
        self.conversation_id = self.store.show(message_id)

    def _require_engine(self) -> ChatEngine:
        if self.engine is None:
            raise EngineError("The model has not been loaded yet.")
        return self.engine

    def _reply(self, params: GenerationParams | None) -> Stream:
        params = params or GenerationParams.from_settings(self.settings.generation)
        engine = self._require_engine()
        self._sources = []
        searched = self._searched_files()
        if self.library is not None and (self.use_library or searched):
            from seesay.docs.grounding import find_sources

            request = next((c for r, c, _m in reversed(self._records()) if r == "user"), "")
            self._sources = find_sources(self.library, request, searched, self.use_library)
            if not self._sources:
                return Stream(lambda outer: self._nothing_found(engine))
        if self.tools is not None and self.settings.tools.enabled:
            return Stream(lambda outer: self._with_tools(outer, engine, params))
        inner = engine.stream(self._context(), params)
        return Stream(lambda outer: self._persist(inner, engine), wraps=inner)

    def _context(self, rule: str = "") -> list[Message]:
        from seesay.tools.approvals import UNTRUSTED_RULE

        system = self.settings.chat.system_prompt
        history = self.history()
        if self._sources or any(a for _r, _c, m in self._records() for a in m.get("attachments", [])):
            rule = UNTRUSTED_RULE
        if self._sources:
            from seesay.docs.grounding import sources_block

            last = max(i for i, m in enumerate(history) if m["role"] == "user")
            content = f"{sources_block(self._sources)}\n\n{history[last]['content']}"  # question last
            history[last] = {"role": "user", "content": content}
        if rule:
            system = f"{system}\n\n{rule}" if system.strip() else rule
        return with_system_prompt(history, system)

    def _searched_files(self) -> list[str]:
        """Files attached anywhere in this conversation that were too long to read whole."""
        return [
            str(a.get("path", ""))
            for role, _c, meta in self._records()
            if role == "user"
            for a in meta.get("attachments", [])
            if not a.get("whole")
        ]

    def _nothing_found(self, engine: ChatEngine) -> Iterator[str]:
        from seesay.docs.grounding import NOTHING_FOUND

        self._add("assistant", NOTHING_FOUND, {"model": engine.model_name, "sources": []})
        yield NOTHING_FOUND

    def _with_tools(self, outer: Stream, engine: ChatEngine, params: GenerationParams) -> Iterator[str]:
        """Replies and tool calls in turn until the model answers in words (or runs out of rounds)."""
        from seesay.tools.approvals import UNTRUSTED_RULE

        assert self.tools is not None
        tools = self.tools.toolbox.tools()
        if not getattr(engine, "native_tools", False):
            answered = yield from self._recognized(tools, engine)
            if answered:
                return
        specs = tuple(t.spec() for t in tools)
        for round_ in range(self.settings.tools.max_rounds + 1):
            last = round_ == self.settings.tools.max_rounds
            step = replace(params, tools=specs, tool_choice="none" if last else params.tool_choice)
            inner = engine.stream(self._context(UNTRUSTED_RULE), step)
            outer.follow(inner)
            yield from self._persist(inner, engine)
            if outer.cancelled or not inner.tool_calls:
                return
            self._run_calls(inner.tool_calls)

    def _recognized(self, tools: list[Tool], engine: ChatEngine) -> Generator[str, None, bool]:
        """For a model that cannot choose tools: calls read straight from the user's words.

        When they all succeed, their results are the answer (a model this small restates a
        figure wrongly more often than not); returns whether it answered.
        """
        from seesay.inference.tool_calls import new_call

        request = next((c for r, c, _m in reversed(self._records()) if r == "user"), "")
        calls: list[ToolCall] = []
        for tool in tools:
            if tool.recognize is None:
                continue
            try:
                arguments = tool.recognize(request)
            except Exception:  # a recognizer's bug means "not recognized", never a failed reply
                log.exception("%s could not read the request", tool.name)
                continue
            if arguments is not None:
                calls.append(new_call(tool.name, arguments))
        if not calls:
            return False
        self._add("assistant", "", {"tool_calls": calls, "model": engine.model_name, "recognized": True})
        outcomes = self._run_calls(calls)
        if any(o.result.is_error for o in outcomes):
            return False
        answer = "\n".join(o.result.content for o in outcomes)
        self._add(
            "assistant",
            answer,
            {"model": engine.model_name, "from_tools": [c["function"]["name"] for c in calls]},
        )
        yield answer
        return True

    def _run_calls(self, calls: list[ToolCall]) -> list[Outcome]:
        assert self.tools is not None
        records = self._records()
        user_texts = [c for r, c, _m in records if r == "user"]
        untrusted = [c for r, c, m in records if r == "tool" and m.get("untrusted")]
        outcomes: list[Outcome] = []
        for call in calls:
            outcome = self.tools.run(call, user_texts, untrusted)
            result = outcome.result
            self._add(
                "tool",
                result.content,
                {
                    "tool_call_id": call.get("id", ""),
                    "name": call.get("function", {}).get("name", ""),
                    "arguments": outcome.arguments,
                    "is_error": result.is_error,
                    "untrusted": result.untrusted,
                    "source": result.source,
                    "approval": outcome.approval,
                },
            )
            if result.untrusted:
                untrusted.append(result.content)
            outcomes.append(outcome)
        return outcomes

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
            if inner.tool_calls:
                meta["tool_calls"] = inner.tool_calls
            if self._sources and not inner.tool_calls:
                meta["sources"] = [source.to_meta() for source in self._sources]
            if writer is not None:
                writer.finish(status, meta)
            elif parts or inner.tool_calls:
                self._memory.append(("assistant", "".join(parts), meta))
