"""Who may call the API: a bearer key, loopback by default, nothing cross-origin.

The key is generated once with :func:`secrets.token_urlsafe` and kept in the user's
config dir with 0600 permissions (or taken from ``SEESAY_API_KEY``), so other users on
the machine and web pages in the browser cannot drive the models. Keys are compared
with :func:`secrets.compare_digest` so response timing reveals nothing about them.
Running without a key is allowed only on loopback. On a loopback bind the ``Host``
header must name loopback, key or not: otherwise a web page could reach the API
through DNS rebinding (the browser would think it is talking to the page's own host).
Browser requests from other origins are refused unless ``server.cors_origins`` lists
them, and a keyless server refuses the wildcard origin outright.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from seesay.config import ServerSettings
from seesay.errors import ConfigError
from seesay.paths import config_dir, private_dir, tighten
from seesay.server.errors import error_body

log = logging.getLogger(__name__)

ENV_KEY = "SEESAY_API_KEY"
KEY_FILE = "server-api-key"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


@dataclass(frozen=True)
class ApiKey:
    value: str
    source: str  # "environment (SEESAY_API_KEY)" or the file's path


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_path(server: ServerSettings) -> Path:
    return Path(server.api_key_file).expanduser() if server.api_key_file else config_dir() / KEY_FILE


def load_or_create_key(server: ServerSettings, env: dict[str, str] | None = None) -> ApiKey:
    """The key from the environment, else the key file, else a new key written to that file (0600)."""
    env = dict(os.environ) if env is None else env
    given = env.get(ENV_KEY, "").strip()
    if given:
        return ApiKey(given, f"environment ({ENV_KEY})")
    path = key_path(server)
    if path.exists():
        tighten(path)
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise ConfigError(f"server.api_key_file: {path} is empty; delete it to get a new key.")
        return ApiKey(value, str(path))
    private_dir(path.parent)
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another `seesay serve` made it a moment ago: use theirs
        return load_or_create_key(server, env)
    except OSError as e:
        raise ConfigError(f"server.api_key_file: cannot create {path}: {e.strerror or e}") from e
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    log.info("created a new API key in %s", path)
    return ApiKey(value, str(path))


def _host_of(header: bytes) -> str:
    text = header.decode("latin-1").strip()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _origin_of(scheme: str, host_header: bytes) -> str:
    return f"{scheme}://{host_header.decode('latin-1').strip().lower()}"


class AuthMiddleware:
    """Who may call, checked before any body is read (so 401/403 come before 413/422).

    In order: on a loopback bind the ``Host`` header must name loopback (DNS rebinding
    would otherwise let a web page reach us as its own site); a browser request from
    another origin is refused unless CORS allows that origin (a keyless server would
    otherwise take cross-site form posts, which need no preflight); then the bearer key.
    Clients that are not browsers send neither ``Origin`` nor ``Sec-Fetch-Site``.
    """

    def __init__(
        self, app: ASGIApp, key: str | None, *, loopback: bool = True, origins: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self._key = key.encode() if key else None
        self._loopback = loopback
        self._origins = frozenset(o.rstrip("/").lower() for o in origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _deny(send, *refusal)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        headers = dict(scope["headers"])
        host_header = headers.get(b"host", b"localhost")
        host = _host_of(host_header)
        if self._loopback and not is_loopback(host):
            return (
                403,
                f"Host {host!r} is not loopback; this server listens on loopback and only answers "
                "requests addressed to localhost.",
                "host_not_allowed",
            )
        origin = headers.get(b"origin")
        if origin is not None:
            given = origin.decode("latin-1").strip().rstrip("/").lower()
            own = _origin_of(scope.get("scheme", "http"), host_header)
            if given != own and given not in self._origins and "*" not in self._origins:
                return (
                    403,
                    f"Requests from the web page at {given!r} are refused; add its origin to "
                    "server.cors_origins to allow it.",
                    "cross_origin",
                )
        elif headers.get(b"sec-fetch-site", b"").lower() in (b"cross-site", b"same-site"):
            return 403, "Requests from other web sites are refused.", "cross_origin"
        if self._key is None:
            return None
        auth = headers.get(b"authorization", b"")
        scheme, _, token = auth.partition(b" ")
        if not auth:
            return (
                401,
                "Missing API key: send 'Authorization: Bearer <key>'. `seesay serve` "
                "prints where the key is stored.",
                "missing_api_key",
            )
        if scheme.lower() != b"bearer" or not secrets.compare_digest(token.strip(), self._key):
            return 401, "Incorrect API key.", "invalid_api_key"
        return None


async def _deny(send: Send, status: int, message: str, code: str) -> None:
    body = json.dumps(error_body(status, message, code=code)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="seesay"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
