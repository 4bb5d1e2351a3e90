"""What a tool is: a name, a JSON-schema of arguments, whether it changes anything, and a run.

A tool never raises for a bad call: the model reads the error and tries again, so a call that
cannot run comes back as a :class:`ToolResult` with ``is_error`` set. ``side_effects`` decides
whether the user is asked first; ``untrusted`` marks output written by someone other than the
user (a file, a web page, an MCP server, a program's output), which the model may read but
which must never steer a side-effecting call on its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seesay.errors import SeeSayError

MAX_RESULT_CHARS = 20_000


class ToolError(SeeSayError):
    """A tool call that cannot run; the message is shown to the model and the user."""


@dataclass(frozen=True)
class ToolResult:
    content: str
    is_error: bool = False
    untrusted: bool = True
    source: str = ""  # where the text came from, for the approval card: "file notes.txt"

    def clipped(self, limit: int = MAX_RESULT_CHARS) -> ToolResult:
        if len(self.content) <= limit:
            return self
        cut = len(self.content) - limit
        text = self.content[:limit] + f"\n… ({cut:,} more characters left out)"
        return ToolResult(text, self.is_error, self.untrusted, self.source)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: Mapping[str, Any]  # a JSON schema of type object
    run: Callable[[dict[str, Any]], ToolResult] = field(compare=False, repr=False)
    side_effects: bool = False
    origin: str = "built-in"  # "built-in" or "mcp:<server>"
    # For a model too small to choose tools (see seesay.inference.tool_calls): the call's
    # arguments read straight from the user's words when they plainly ask for this tool
    # ("What is 1234 * 5678?" for the calculator), else None.
    recognize: Callable[[str], dict[str, Any] | None] | None = field(default=None, compare=False, repr=False)

    def spec(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }

    def call(self, arguments: dict[str, Any]) -> ToolResult:
        """Run it; a ToolError (or any failure inside) becomes an error result, never an exception."""
        try:
            return self.run(arguments).clipped()
        except ToolError as e:
            return ToolResult(str(e), is_error=True, untrusted=False)
        except Exception as e:  # a tool's bug must not end the conversation
            return ToolResult(f"{self.name} failed: {type(e).__name__}: {e}", is_error=True, untrusted=False)


def parse_arguments(raw: str | Mapping[str, Any]) -> dict[str, Any]:
    """A call's arguments as a dict (OpenAI sends them as a JSON string)."""
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError as e:
        raise ToolError(f"The arguments are not valid JSON: {e.msg}") from e
    if not isinstance(value, dict):
        raise ToolError("The arguments must be a JSON object.")
    return value
