"""``POST /v1/chat/completions``: OpenAI chat requests onto ``ChatEngine.stream`` and back.

Text goes to the chat engine, an image in the last user message to the vision path;
both are :class:`~seesay.inference.engine.Stream` objects, so one code path serves
them plainly or as server-sent ``chat.completion.chunk`` events ending in ``[DONE]``.
A client that goes away cancels its stream, which stops the model at the next token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from seesay.chat import answer_image, with_system_prompt
from seesay.config import Settings
from seesay.errors import SeeSayError
from seesay.inference.engine import GenerationParams, Message, Stream
from seesay.server.chat_schema import ChatCompletionRequest, NamedToolChoice, TextPart
from seesay.server.errors import error_body, status_for
from seesay.server.limits import CancellingStreamingResponse, Lane, Ticket
from seesay.server.vision import decode_data_url
from seesay.tools.approvals import UNTRUSTED_RULE, mark_untrusted

log = logging.getLogger(__name__)

router = APIRouter(tags=["chat"])


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> Any:
    """Generate one reply; ``stream: true`` answers with SSE chunks as tokens arrive."""
    services = request.app.state.services
    settings: Settings = services.settings
    params = generation_params(body, settings)
    messages, image, question = convert_messages(body, settings)
    if image is not None:
        stream = answer_image(settings, image, question, params)
        model = settings.vision.vlm_model.strip() or "seesay-sketch"
    else:
        engine = services.engine
        stream = engine.stream(messages, params)
        model = engine.model_name
    lane: Lane = services.chat_lane
    ticket = lane.reserve()
    reply_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        deltas = lane.stream(ticket, lambda: iter(stream), stream.cancel)
        return CancellingStreamingResponse(
            _sse(deltas, stream, reply_id, model, include_usage),
            on_close=stream.cancel,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    text = await _complete(request, lane, ticket, stream)
    return JSONResponse(
        {
            "id": reply_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": text if text or not stream.tool_calls else None,
                        "refusal": None,
                        **({"tool_calls": stream.tool_calls} if stream.tool_calls else {}),
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason(stream),
                }
            ],
            "usage": usage(stream),
        }
    )


def generation_params(body: ChatCompletionRequest, settings: Settings) -> GenerationParams:
    """The request's options over the user's generation settings (the same defaults as the window)."""
    base = GenerationParams.from_settings(settings.generation)
    choice = body.tool_choice
    return GenerationParams(
        tools=tuple(t.model_dump(exclude_none=True) for t in body.tools or ()),
        tool_choice=choice.model_dump() if isinstance(choice, NamedToolChoice) else (choice or "auto"),
        parallel_tool_calls=body.parallel_tool_calls is not False,
        max_new_tokens=body.max_completion_tokens or body.max_tokens or base.max_new_tokens,
        temperature=base.temperature if body.temperature is None else body.temperature,
        top_p=base.top_p if body.top_p is None else max(0.01, body.top_p),
        top_k=base.top_k,
        repetition_penalty=base.repetition_penalty,
        seed=base.seed if body.seed is None else body.seed % 2**31,
        stop=body.stop_sequences(),
        json_schema=body.response_format.constraint() if body.response_format else None,
    )


def convert_messages(
    body: ChatCompletionRequest, settings: Settings
) -> tuple[list[Message], bytes | None, str]:
    """Plain messages for the engine, plus the image (and its question) when the last user turn has one.

    Images in earlier turns are left out: the models here answer about one image at a time.
    The user's custom instructions are sent first unless the request brings its own system message.
    What a tool returned is the client's, not the user's words: it is fenced as untrusted, and the
    model told never to follow instructions inside it (the client approves any call it runs).
    """
    out: list[Message] = []
    image: bytes | None = None
    image_turn = -1
    for i, m in enumerate(body.messages):
        if m.content is None or isinstance(m.content, str):
            text = m.content or ""
        else:
            texts = []
            for j, part in enumerate(m.content):
                if isinstance(part, TextPart):
                    texts.append(part.text)
                elif m.role == "user":
                    image = decode_data_url(part.image_url.url, f"messages[{i}].content[{j}].image_url.url")
                    image_turn = i
            text = "\n".join(texts)
        role = "system" if m.role in ("system", "developer") else m.role
        message: Message = {"role": role, "content": text}  # type: ignore[typeddict-item]
        if m.role == "tool":
            message = {
                "role": "tool",
                "content": mark_untrusted(text, f"tool {m.name or ''}".strip()),
                "tool_call_id": m.tool_call_id or "",
            }
            if m.name:
                message["name"] = m.name
        if m.tool_calls:
            message["tool_calls"] = [c.model_dump() for c in m.tool_calls]  # type: ignore[misc]
        out.append(message)
    last_user = max((i for i, m in enumerate(body.messages) if m.role == "user"), default=-1)
    if image is not None and image_turn == last_user:
        return out, image, out[last_user]["content"].strip()
    messages = with_system_prompt(out, settings.chat.system_prompt)
    return (_with_rule(messages) if any(m["role"] == "tool" for m in out) else messages), None, ""


def _with_rule(messages: list[Message]) -> list[Message]:
    """The untrusted-content rule at the end of the system message (a new one when there is none)."""
    for i, m in enumerate(messages):
        if m["role"] == "system":
            messages[i] = {"role": "system", "content": f"{m['content']}\n\n{UNTRUSTED_RULE}"}
            return messages
    return [{"role": "system", "content": UNTRUSTED_RULE}, *messages]


def finish_reason(stream: Stream) -> str:
    if stream.stats.finish_reason == "tool_calls" and stream.tool_calls:
        return "tool_calls"
    return "length" if stream.stats.finish_reason == "length" else "stop"


def usage(stream: Stream) -> dict[str, int]:
    p, c = stream.stats.prompt_tokens, stream.stats.completion_tokens
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


async def _complete(request: Request, lane: Lane, ticket: Ticket, stream: Stream) -> str:
    """Run the whole reply on the lane, cancelling it if the client hangs up while it waits."""
    task = asyncio.ensure_future(lane.run(ticket, stream.text))
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=0.5)
            if not task.done() and await request.is_disconnected():
                stream.cancel()
    except asyncio.CancelledError:
        stream.cancel()
        raise
    return task.result()


async def _sse(
    deltas: AsyncIterator[str], stream: Stream, reply_id: str, model: str, include_usage: bool
) -> AsyncIterator[str]:
    created = int(time.time())
    base: dict[str, Any] = {
        "id": reply_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": None,
    }
    if include_usage:
        base["usage"] = None  # OpenAI sends null usage on every chunk but the last

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return _event(
            {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        )

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for delta in deltas:
            yield chunk({"content": delta})
    except SeeSayError as e:
        log.warning("streamed reply failed: %s", e)
        yield _event(error_body(status_for(e), str(e)))
        yield "data: [DONE]\n\n"
        return
    except Exception:
        log.exception("streamed reply failed")
        yield _event(error_body(500, "The server hit an internal error; details are in its log."))
        yield "data: [DONE]\n\n"
        return
    if stream.tool_calls:
        yield chunk({"tool_calls": [{"index": i, **call} for i, call in enumerate(stream.tool_calls)]})
    yield chunk({}, finish_reason(stream))
    if include_usage:
        yield _event({**base, "choices": [], "usage": usage(stream)})
    yield "data: [DONE]\n\n"


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
