"""Images in chat: data URLs in, the vision path out (the VLM when configured, else the sketch pipeline).

The server never fetches a remote image URL: it would turn a local assistant into a
request forwarder for whoever can reach it. Images arrive inline as ``data:`` URLs
(what the official client sends for local files) and go through the same intake
(size limits, format checks) as a file dropped into the window.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections import Counter
from collections.abc import Iterator

from seesay.config import Settings
from seesay.inference.engine import GenerationParams, Stream
from seesay.server.errors import APIError

log = logging.getLogger(__name__)

DEFAULT_QUESTION = "Turn this sketch into a web page."


def decode_data_url(url: str, param: str) -> bytes:
    """The bytes of a base64 ``data:image/...`` URL; anything else is a 400 naming ``param``."""
    if not url.startswith("data:"):
        raise APIError(400, "Only inline images (data: URLs) are accepted; this local server does not "
                            "fetch remote URLs.", param=param, code="unsupported_image_url")
    header, sep, payload = url.partition(",")
    if not sep or ";base64" not in header:
        raise APIError(400, "The image data URL must be base64-encoded (data:image/png;base64,...).",
                       param=param, code="invalid_image_url")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise APIError(400, "The image data URL is not valid base64.", param=param,
                       code="invalid_image_url") from None
    if not data:
        raise APIError(400, "The image data URL is empty.", param=param, code="invalid_image_url")
    return data


def vision_stream(settings: Settings, image: bytes, question: str, params: GenerationParams) -> Stream:
    """A stream over the vision path; all model work happens when it is iterated (on the chat lane)."""
    from seesay.vision import vlm

    model = vlm.for_settings(settings)
    if model is not None:
        return model.stream_answer(image, question or DEFAULT_QUESTION, params)
    return Stream(lambda stream: _sketch_reply(stream, settings, image))


def _sketch_reply(stream: Stream, settings: Settings, image: bytes) -> Iterator[str]:
    """The offline pipeline: what it found in the sketch, then the page, as one reply."""
    from seesay.vision.pipeline import sketch_to_page

    result = sketch_to_page(image, settings)
    stream.stats.first_token_at = time.perf_counter()
    kinds = Counter(e.type for e in result.layout.elements)
    found = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in kinds.most_common()) or "nothing"
    labels = [t for t in (e.text for e in result.layout.elements) if t][:12]
    lines = [f"I read the sketch ({result.layout.width}×{result.layout.height} px) and found {found}."]
    if labels:
        lines.append("Labels: " + ", ".join(f'"{t}"' for t in labels) + ".")
    lines.extend(f"Note: {n}" for n in result.notes[:3])
    lines.append("Here is the page it describes:\n\n```html\n" + result.html.strip() + "\n```")
    text = "\n".join(lines)
    stream.stats.completion_tokens = max(1, len(text) // 4)  # approximate: no tokenizer on this path
    stream.stats.finish_reason = "stop"
    for line in text.splitlines(keepends=True):
        if stream.cancelled:
            stream.stats.finish_reason = "cancelled"
            return
        yield line
