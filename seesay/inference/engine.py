"""The one interface every text producer goes through: GUI, CLI, voice loop and server.

``engine.stream(messages, params)`` returns a :class:`Stream`: iterate it for text
deltas, call ``cancel()`` from any thread to stop at the next token, read ``stats``
when it is done. Keeping cancellation on the stream (not the engine) lets a caller
stop exactly the reply it started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Protocol, TypedDict, runtime_checkable

from seesay.config import GenerationSettings

Role = Literal["system", "user", "assistant", "tool"]


class ToolCall(TypedDict):
    """One call the model asked for, in OpenAI's shape (``arguments`` is a JSON string)."""

    id: str
    type: Literal["function"]
    function: dict[str, str]  # {"name": ..., "arguments": "{...}"}


class Message(TypedDict):
    role: Role
    content: str
    # An assistant message that calls tools, and the answer to one call (role "tool").
    tool_calls: NotRequired[list[ToolCall]]
    tool_call_id: NotRequired[str]
    name: NotRequired[str]


Progress = Callable[[float, str], None]
"""Called with a fraction in [0, 1] and a short description while a model loads."""


_DEFAULTS = GenerationSettings()  # declared once, with their help text, in seesay.config


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = _DEFAULTS.max_new_tokens
    temperature: float = _DEFAULTS.temperature
    top_p: float = _DEFAULTS.top_p
    top_k: int = _DEFAULTS.top_k
    repetition_penalty: float = _DEFAULTS.repetition_penalty
    seed: int = _DEFAULTS.seed
    stop: tuple[str, ...] = ()
    # Constrained output: the reply is JSON matching this schema ({} for any JSON object) or
    # text matching this grammar (GBNF or Lark); at most one of the two.
    json_schema: Mapping[str, Any] | None = None
    grammar: str | None = None
    # Tools the model may call (OpenAI ``tools`` entries). A reply that calls them yields no
    # text: its calls are in ``Stream.tool_calls`` and its finish reason is "tool_calls".
    # ``tool_choice``: "auto", "none", "required" or {"type": "function", "function": {"name": …}}.
    tools: tuple[Mapping[str, Any], ...] = ()
    tool_choice: str | Mapping[str, Any] = "auto"
    parallel_tool_calls: bool = True

    def __post_init__(self) -> None:
        if self.json_schema is not None and self.grammar is not None:
            raise ValueError("json_schema and grammar cannot be combined; pass one of them")

    @property
    def calls_tools(self) -> bool:
        return bool(self.tools) and self.tool_choice != "none"

    @classmethod
    def from_settings(cls, s: GenerationSettings) -> GenerationParams:
        return cls(
            max_new_tokens=s.max_new_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k,
            repetition_penalty=s.repetition_penalty,
            seed=s.seed,
        )

    @property
    def greedy(self) -> bool:
        # Below this, dividing logits by the temperature overflows to inf: it is argmax anyway.
        return self.temperature < 1e-4


@dataclass
class TrimReport:
    """What was left out so the prompt fits the model's context window."""

    dropped_messages: int = 0
    truncated_chars: int = 0

    def __bool__(self) -> bool:
        return bool(self.dropped_messages or self.truncated_chars)

    def describe(self) -> str:
        parts = []
        if self.dropped_messages:
            n = self.dropped_messages
            parts.append(f"{n} earlier message{'s' if n != 1 else ''} left out")
        if self.truncated_chars:
            parts.append(f"your message was cut by {self.truncated_chars:,} characters")
        return "To fit the model's context window: " + "; ".join(parts) + "."


FinishReason = Literal["stop", "length", "cancelled", "error", "tool_calls"]


@dataclass
class StreamStats:
    prompt_tokens: int = 0
    cached_tokens: int = 0  # of the prompt, reused from an earlier request instead of computed again
    completion_tokens: int = 0
    started: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    finished_at: float | None = None
    finish_reason: FinishReason | None = None
    trim: TrimReport = field(default_factory=TrimReport)

    @property
    def time_to_first_token(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.started

    @property
    def tokens_per_second(self) -> float:
        if self.first_token_at is None or self.completion_tokens < 2:
            return 0.0
        end = self.finished_at or time.perf_counter()
        return (self.completion_tokens - 1) / max(end - self.first_token_at, 1e-9)


class Stream:
    """An iterator of text deltas with a thread-safe ``cancel()``."""

    def __init__(self, deltas: Callable[[Stream], Iterator[str]], *, wraps: Stream | None = None) -> None:
        """``wraps``: an inner stream whose stats this one shares and which it cancels."""
        self.stats: StreamStats = wraps.stats if wraps is not None else StreamStats()
        self._inner = wraps
        self._cancel = threading.Event()
        self._source = deltas
        self._iter: Iterator[str] | None = None
        self.tool_calls: list[ToolCall] = []  # filled, when the reply calls tools, by its end

    def cancel(self) -> None:
        self._cancel.set()
        if self._inner is not None:
            self._inner.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def follow(self, inner: Stream) -> None:
        """Make ``inner`` (not started yet) the one this stream's cancel stops and whose stats it
        shows: for a reply made of several engine calls in turn (tool calls, then the answer)."""
        inner.stats = self.stats
        self._inner = inner
        if self.cancelled:
            inner.cancel()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._iter is None:
            self._iter = self._source(self)
        try:
            return next(self._iter)
        except StopIteration:
            self.stats.finished_at = self.stats.finished_at or time.perf_counter()
            raise

    def text(self) -> str:
        """Drain the stream and return the whole reply."""
        return "".join(self)


@runtime_checkable
class ChatEngine(Protocol):
    """Something that turns a conversation into a streamed reply."""

    @property
    def model_name(self) -> str: ...

    @property
    def device(self) -> str: ...

    @property
    def parallel(self) -> int:
        """How many replies it generates at once; more wait their turn inside ``stream``."""

    def load(self, progress: Progress | None = None) -> None:
        """Make the engine ready (load weights, check the server); safe to call twice."""

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None) -> Stream:
        """Start a reply; nothing runs until the stream is iterated."""
