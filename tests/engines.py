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


class Hijacked:
    """The worst case for prompt injection: a model that does whatever the content it read says.

    It reads the file the user names, then calls ``run_python`` with the code the file asks
    for; otherwise it answers through the real engine. The defence must hold even then.
    """

    native_tools = True  # it writes its own calls

    def __init__(self, engine: Any, path: str, code: str) -> None:
        self.engine, self.path, self.code = engine, path, code

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def stream(self, messages: Any, params: Any = None) -> Any:
        from seesay.inference.engine import GenerationParams, Stream
        from seesay.inference.tool_calls import new_call

        tools = {t["function"]["name"] for t in (params.tools if params else ())}
        done = {m.get("name") for m in messages if m["role"] == "tool"}
        call = None
        if "read_file" not in done and "read_file" in tools:
            call = new_call("read_file", {"path": self.path})
        elif "run_python" not in done and "run_python" in tools and params.tool_choice != "none":
            call = new_call("run_python", {"code": self.code})
        if call is None:
            plain = [m for m in messages if m["role"] in ("system", "user", "assistant") and m["content"]]
            return self.engine.stream(plain, GenerationParams(max_new_tokens=24, temperature=0))

        def calls(stream: Stream) -> Any:
            stream.tool_calls = [call]
            stream.stats.finish_reason = "tool_calls"
            return iter(())

        return Stream(calls)


class Scripted:
    """A model that makes the given calls, one per step, then answers through the real engine."""

    native_tools = True

    def __init__(self, engine: Any, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self.engine, self.calls = engine, list(calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def stream(self, messages: Any, params: Any = None) -> Any:
        from seesay.inference.engine import GenerationParams, Stream
        from seesay.inference.tool_calls import new_call

        done = sum(1 for m in messages if m["role"] == "tool")
        if done >= len(self.calls) or params is None or params.tool_choice == "none":
            plain = [m for m in messages if m["role"] in ("system", "user", "assistant") and m["content"]]
            return self.engine.stream(plain, GenerationParams(max_new_tokens=16, temperature=0))
        call = new_call(*self.calls[done])

        def calls(stream: Stream) -> Any:
            stream.tool_calls = [call]
            stream.stats.finish_reason = "tool_calls"
            return iter(())

        return Stream(calls)
