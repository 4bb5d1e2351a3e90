"""Images in chat: data URLs in, answered by :func:`seesay.chat.answer_image` like a dropped image.

The server never fetches a remote image URL: it would turn a local assistant into a
request forwarder for whoever can reach it. Images arrive inline as ``data:`` URLs
(what the official client sends for local files) and go through the same intake
(size limits, format checks) as a file dropped into the window.
"""

from __future__ import annotations

import base64
import binascii

from seesay.server.errors import APIError


def decode_data_url(url: str, param: str) -> bytes:
    """The bytes of a base64 ``data:image/...`` URL; anything else is a 400 naming ``param``."""
    if not url.startswith("data:"):
        raise APIError(
            400,
            "Only inline images (data: URLs) are accepted; this local server does not fetch remote URLs.",
            param=param,
            code="unsupported_image_url",
        )
    header, sep, payload = url.partition(",")
    if not sep or ";base64" not in header:
        raise APIError(
            400,
            "The image data URL must be base64-encoded (data:image/png;base64,...).",
            param=param,
            code="invalid_image_url",
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise APIError(
            400, "The image data URL is not valid base64.", param=param, code="invalid_image_url"
        ) from None
    if not data:
        raise APIError(400, "The image data URL is empty.", param=param, code="invalid_image_url")
    return data
