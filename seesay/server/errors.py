"""Every failure leaves the server as OpenAI's error JSON, never as a stack trace.

Clients written for OpenAI (the official SDKs, editors) read ``error.message`` and the
status code to decide what to show and whether to retry, so every path out — our own
checks, FastAPI's validation, Starlette's 404/405, unexpected bugs — goes through
:func:`error_response`. Unexpected exceptions are logged in full here and answered
with a generic message, so nothing about the machine leaks to the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from seesay.errors import AudioError, ConfigError, InputError, ModelError, SeeSayError, VisionError

log = logging.getLogger(__name__)

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "server_error",
}


class APIError(Exception):
    """An error a route raises on purpose, with the status and OpenAI fields to answer with."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = dict(headers or {})


def error_body(status: int, message: str, *, param: str | None = None, code: str | None = None) -> dict:
    return {
        "error": {
            "message": message,
            "type": _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error"),
            "param": param,
            "code": code,
        }
    }


def error_response(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, message, param=param, code=code), status_code=status, headers=dict(headers or {})
    )


def status_for(error: SeeSayError) -> int:
    """Bad input is the caller's to fix (400); a model that cannot run is ours (503 / 500)."""
    if isinstance(error, InputError | AudioError | VisionError):
        return 400
    if isinstance(error, ModelError | ConfigError):
        return 503
    return 500  # EngineError and anything else: generation failed on our side


def _field_name(loc: Sequence[Any]) -> str:
    """``("body", "messages", 0, "content")`` → ``messages[0].content`` (what OpenAI calls param)."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "form")]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p in ("str", "list[...]") or "[" in str(p) or str(p).startswith("function-"):
            continue  # pydantic's union-branch labels, not fields the caller wrote
        else:
            out += f".{p}" if out else str(p)
    return out


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "The request is invalid.", None
    first = errors[0]
    if first.get("type") == "json_invalid":
        return f"The request body is not valid JSON: {first.get('msg', 'parse error')}.", None
    field = _field_name(first.get("loc", ()))
    msg = str(first.get("msg", "invalid value"))
    if not field:
        return f"The request body is invalid: {msg}.", None
    more = f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"Invalid value for '{field}': {msg}{more}.", field


def install(app: FastAPI) -> None:
    """Route every kind of failure through :func:`error_response`."""

    @app.exception_handler(APIError)
    async def _api(_request: Request, exc: APIError) -> JSONResponse:
        return error_response(exc.status, exc.message, param=exc.param, code=exc.code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, field = _validation_message(exc)
        return error_response(422, message, param=field, code="invalid_value")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404:
            detail = "No such endpoint; see /v1/models, /v1/chat/completions, /v1/audio/*."
        return error_response(exc.status_code, detail, headers=exc.headers)

    @app.exception_handler(SeeSayError)
    async def _core(_request: Request, exc: SeeSayError) -> JSONResponse:
        status = status_for(exc)
        if status >= 500:
            log.error("request failed: %s", exc)
        return error_response(status, str(exc))

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error while serving a request")
        return error_response(
            500, "The server hit an internal error; details are in its log.", code="internal_error"
        )
