"""Request shapes for ``/v1/chat/completions``, as strict as OpenAI's where it matters.

Validation happens here, field by field, so a wrong type or range becomes a 422 that
names the field (``messages[0].content``, ``temperature``) before any model work.
Unknown fields are ignored, as OpenAI-compatible servers do, so newer clients keep
working; options this server cannot honour (``n`` > 1, tools) are refused by name.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate_at(value: Any, where: str) -> str | None:
    """Where in a decoded JSON value an unpaired UTF-16 surrogate (JSON ``"\\ud800"``) sits.

    JSON allows such escapes but they are not text: UTF-8 cannot encode them, so the
    tokenizer, the history and the voice would fail on them deep inside a reply.
    A decoded pair is one character, so any surrogate left over is a lone one.
    """
    if isinstance(value, str):
        return where if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and _SURROGATE.search(key):
            return where or "body"
        if isinstance(key, int):
            found = _surrogate_at(item, f"{where}[{key}]")
        else:
            found = _surrogate_at(item, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TextOnlyBody(_Lenient):
    """A request body: its text is checked once, up front, for what UTF-8 cannot carry."""

    @model_validator(mode="before")
    @classmethod
    def _text_only(cls, data: Any) -> Any:
        where = _surrogate_at(data, "")
        if where is not None:
            raise PydanticCustomError(
                "unpaired_surrogate",
                "{where} contains an unpaired UTF-16 surrogate (such as \\ud800), which is not text",
                {"where": where or "the request"},
            )
        return data


class ImageURL(_Lenient):
    url: str = Field(min_length=1, description="A data: URL (base64 PNG/JPEG/WebP); remote URLs are refused.")
    detail: Literal["auto", "low", "high"] | None = None


class TextPart(_Lenient):
    type: Literal["text"]
    text: str


class ImagePart(_Lenient):
    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class FunctionCall(_Lenient):
    name: str = Field(min_length=1, max_length=64)
    arguments: str = "{}"


class ToolCallIn(_Lenient):
    id: str = Field(min_length=1, max_length=128)
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = Field(None, max_length=128)
    tool_call_id: str | None = Field(None, max_length=128)

    @model_validator(mode="after")
    def _tool_answer_names_its_call(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a message with role tool needs the tool_call_id of the call it answers")
        return self


class FunctionDef(_Lenient):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Letters, digits, _ and -; at most 64.")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class ToolDef(_Lenient):
    type: Literal["function"]
    function: FunctionDef


class NamedFunction(_Lenient):
    name: str


class NamedToolChoice(_Lenient):
    type: Literal["function"]
    function: NamedFunction


class StreamOptions(_Lenient):
    include_usage: bool = False


class JSONSchemaFormat(_Lenient):
    name: str = Field("response", max_length=64)
    schema_: dict[str, Any] = Field(
        default_factory=dict, alias="schema", description="The JSON schema the reply must match."
    )
    strict: bool | None = None


class ResponseFormat(_Lenient):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format of type json_schema needs a json_schema object")
        return self

    def constraint(self) -> dict[str, Any] | None:
        """The schema to constrain the reply to: {} (any JSON object) for json_object, None for text."""
        if self.type == "json_object":
            return {}
        if self.type == "json_schema" and self.json_schema is not None:
            return self.json_schema.schema_
        return None


class ChatCompletionRequest(TextOnlyBody):
    model: str = Field("", description="Any name; the server answers with its loaded chat model.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=1024)
    max_tokens: int | None = Field(None, ge=1, le=32768)
    max_completion_tokens: int | None = Field(None, ge=1, le=32768)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    stop: str | Annotated[list[str], Field(max_length=4)] | None = Field(
        None, description="Up to 4 sequences that end the reply."
    )
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice per request is generated.")
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0, description="Accepted, not used.")
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0, description="Accepted, not used.")
    response_format: ResponseFormat | None = Field(
        None,
        description="json_object or json_schema: the reply is constrained to valid JSON (matching "
        "the schema) while it is generated.",
    )
    user: str | None = None
    tools: list[ToolDef] | None = Field(None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = Field(
        None, description="auto (the default with tools), none, required, or a named function."
    )
    parallel_tool_calls: bool | None = None

    @model_validator(mode="after")
    def _tool_choice_fits_tools(self) -> ChatCompletionRequest:
        names = {t.function.name for t in self.tools or []}
        choice = self.tool_choice
        if isinstance(choice, NamedToolChoice) and choice.function.name not in names:
            raise ValueError(f"tool_choice names {choice.function.name!r}, which is not in tools")
        if choice == "required" and not names:
            raise ValueError("tool_choice required needs a non-empty tools list")
        return self

    def stop_sequences(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        items = [self.stop] if isinstance(self.stop, str) else list(self.stop)
        return tuple(s for s in items if s)
