"""MCP servers as tools: every configured server's tools join the model's tool list.

The callers are synchronous (the Qt worker threads, the terminal, the HTTP server's threads)
while the MCP SDK is async and built on anyio task groups, so one :class:`McpHub` owns a
private asyncio loop on a daemon thread. Each server lives there as one supervisor task that
connects, publishes the server's tools and then waits for the connection to end; a tool call
hops onto that loop and its caller waits for the answer with the server's timeout.

An MCP server is someone else's program: it may fail to start, crash in the middle of a call,
hang, or vanish. None of that may reach a caller as an exception or take the app down, so
each failure becomes a :class:`ToolResult` with ``is_error`` set, a server's tools leave the
list while it is down, and the supervisor restarts it (stdio) or reconnects (HTTP) with
growing pauses, so its tools come back by themselves once it works again. A connection's end
is noticed as it happens (the transport's read stream reaching its end), not at the next call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import logging
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO, TypeVar

import anyio
import httpx2
from mcp import Client, StdioServerParameters, stdio_client
from mcp import types as mcp_types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage

from seesay import __version__
from seesay.errors import ConfigError
from seesay.tools.base import Tool, ToolResult

log = logging.getLogger(__name__)

_T = TypeVar("_T")

DEFAULT_TIMEOUT_S = 30.0
# Starting a server may take longer than one call (npx and uvx fetch packages on a first run).
_MIN_START_S = 30.0
_BACKOFF_FIRST_S = 1.0
_BACKOFF_MAX_S = 30.0
# A connection that lasted this long was healthy: the next failure starts the pauses over.
_STABLE_S = 60.0
# How long a caller waits past the server's timeout for the loop itself to answer.
_CALL_GRACE_S = 2.0
_CLOSE_TIMEOUT_S = 10.0
# Within close(): how long connections get to end politely before they are cut.
_POLITE_CLOSE_S = 3.0
_MAX_NAME = 64
_MAX_PAGES = 50
_CLIENT_INFO = mcp_types.Implementation(name="seesay", version=__version__)


# --- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """One MCP server: a program run over stdio (``command``) or an HTTP endpoint (``url``)."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    disabled: bool = False

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r} needs either a command or a url")

    @property
    def where(self) -> str:
        """The program or address, for messages."""
        return self.url or " ".join([self.command or "", *self.args]).strip()


def load_servers(path: Path) -> list[ServerConfig]:
    """The servers in a JSON file of the common ``{"mcpServers": {...}}`` form; none if it is missing.

    Each entry has either ``command`` (with optional ``args``, ``env``, ``cwd``) or ``url``
    (with optional ``headers``), and optionally ``timeout`` (seconds) and ``disabled``. A
    relative ``cwd`` is taken from the file's folder.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"The MCP server list {path} cannot be read: {e}") from e
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"The MCP server list {path} is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
        ) from e
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers"), dict):
        raise ConfigError(
            f'The MCP server list {path} must be a JSON object with an "mcpServers" object in it.'
        )
    return [_parse_server(path, name, entry) for name, entry in data["mcpServers"].items()]


def _parse_server(path: Path, name: str, entry: Any) -> ServerConfig:
    def bad(problem: str) -> ConfigError:
        return ConfigError(f"The MCP server list {path}: server {name!r} {problem}")

    if not name.strip():
        raise ConfigError(f"The MCP server list {path} has a server with an empty name.")
    if not isinstance(entry, dict):
        raise bad("must be a JSON object.")
    command, url = entry.get("command"), entry.get("url")
    if (command is None) == (url is None):
        raise bad('needs either "command" (a program to run) or "url" (an HTTP address), not both.')
    kind = entry.get("type")
    if kind is not None and kind not in ("stdio", "http", "streamable-http", "streamableHttp"):
        raise bad(f'has "type": {kind!r}; only stdio and streamable HTTP servers are supported.')
    if command is not None and (not isinstance(command, str) or not command.strip()):
        raise bad('has a "command" that is not a non-empty string.')
    if url is not None and (not isinstance(url, str) or not re.match(r"https?://", url)):
        raise bad('has a "url" that does not start with http:// or https://.')
    args = entry.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise bad('has "args" that are not a list of strings.')
    cwd = entry.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise bad('has a "cwd" that is not a string.')
    if cwd:
        cwd = str(path.parent / Path(cwd).expanduser())
    timeout = entry.get("timeout", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf:
        raise bad('has a "timeout" that is not a positive number of seconds.')
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise bad('has a "disabled" that is not true or false.')
    return ServerConfig(
        name=name,
        command=command,
        args=tuple(args),
        env=_string_map(entry.get("env"), "env", bad),
        cwd=cwd or None,
        url=url,
        headers=_string_map(entry.get("headers"), "headers", bad),
        timeout_s=float(timeout),
        disabled=disabled,
    )


def _string_map(value: Any, key: str, bad: Callable[[str], ConfigError]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad(f'has "{key}" that is not an object of strings.')
    return dict(value)


# --- the hub -------------------------------------------------------------------------------


class McpHub:
    """Connects the configured MCP servers in the background and offers their tools.

    Every method is safe to call from any thread but the hub's own; none raises because a
    server misbehaves. ``close()`` ends every session and child process.
    """

    def __init__(self, configs: Sequence[ServerConfig]) -> None:
        self._servers = [_Server(config, self._submit) for config in configs]
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._closed = False

    def __enter__(self) -> McpHub:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Connect every enabled server in the background; returns at once."""
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            enabled = [s for s in self._servers if not s.config.disabled]
            if not enabled:
                return
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._thread = threading.Thread(
                target=self._run_loop, args=(loop,), name="seesay-mcp", daemon=True
            )
            self._thread.start()
        for server in enabled:
            server.set_state("starting")
            loop.call_soon_threadsafe(self._launch, server)

    def tools(self) -> list[Tool]:
        """The tools of the servers connected now (a name offered twice is kept once)."""
        seen: set[str] = set()
        tools: list[Tool] = []
        for server in self._servers:
            for tool in server.tools():
                if tool.name not in seen:
                    seen.add(tool.name)
                    tools.append(tool)
        return tools

    def status(self) -> dict[str, str]:
        """Each server's state: "connected (3 tools)", "starting", "stopped: …" or "failed: …"."""
        return {server.config.name: server.status() for server in self._servers}

    def refresh(self) -> None:
        """Retry the servers that are down now, and list the connected ones' tools again."""
        loop = self._loop
        if loop is None or self._closed:
            return
        for server in self._servers:
            with suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(server.refresh)

    def close(self, timeout_s: float = _CLOSE_TIMEOUT_S) -> None:
        """End every session and child process; waits at most about ``timeout_s``. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        for server in self._servers:
            server.closing = True
        if loop is not None and thread is not None:
            self._stop_loop(loop, thread, timeout_s)
        for server in self._servers:
            if not server.config.disabled:
                server.set_down("stopped: the app closed the connection", quiet=True)

    def _stop_loop(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread, timeout_s: float) -> None:
        if threading.current_thread() is thread:
            loop.stop()  # the tasks left are cancelled as the loop winds down
            return
        done = asyncio.run_coroutine_threadsafe(self._shutdown(timeout_s), loop)
        try:
            done.result(timeout_s + 1)
        except Exception as e:
            log.warning("MCP servers did not all stop within %g s: %s", timeout_s, e)
        with suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(_POLITE_CLOSE_S + 1)

    # -- on the hub's loop --

    def _run_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            try:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=_POLITE_CLOSE_S))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def _launch(self, server: _Server) -> None:
        if not server.closing:
            self._tasks.append(asyncio.get_running_loop().create_task(server.supervise()))

    async def _shutdown(self, timeout_s: float) -> None:
        for server in self._servers:
            server.stop(polite=True)
        tasks = [t for t in self._tasks if not t.done()]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=min(_POLITE_CLOSE_S, timeout_s / 2))
        if pending:
            for server in self._servers:
                server.stop(polite=False)
            _, pending = await asyncio.wait(pending, timeout=max(timeout_s - _POLITE_CLOSE_S - 0.5, 0.5))
        for task in pending:
            task.cancel()

    def _submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T] | None:
        """Run ``coro`` on the hub's loop; None when the hub is not running."""
        loop = self._loop
        if loop is None or self._closed or threading.current_thread() is self._thread:
            coro.close()
            return None
        try:
            return asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError:  # the loop closed meanwhile
            coro.close()
            return None


# --- one server ------------------------------------------------------------------------------


_Submit = Callable[[Coroutine[Any, Any, ToolResult]], "concurrent.futures.Future[ToolResult] | None"]


class _Server:
    """One server's connection, supervised: connect, publish the tools, wait, restart."""

    def __init__(self, config: ServerConfig, submit: _Submit) -> None:
        self.config = config
        self.closing = False
        self.state = "disabled" if config.disabled else "not started"
        self._submit = submit
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._tools: list[Tool] = []
        self._failures = 0
        self._last_logged = ""
        # Loop-side only: the attempt in progress, what ends it, and what cuts a pause short.
        self._scope: anyio.CancelScope | None = None
        self._lost: anyio.Event | None = None
        self._wake: anyio.Event | None = None
        self._relists: set[asyncio.Task[None]] = set()

    @property
    def name(self) -> str:
        return self.config.name

    def tools(self) -> list[Tool]:
        with self._lock:
            return list(self._tools)

    def status(self) -> str:
        with self._lock:
            return self.state

    def set_state(self, state: str) -> None:
        with self._lock:
            self.state = state

    def set_down(self, state: str, *, next_step: str = "", quiet: bool = False) -> None:
        """Withdraw the tools and record why (callable from any thread); a reason is logged once."""
        with self._lock:
            self._client = None
            self._tools = []
            self.state = f"{state} ({next_step})" if next_step else state
        if quiet:
            return
        if state != self._last_logged:
            log.warning("MCP server %r %s", self.name, state)
        else:
            log.debug("MCP server %r still %s", self.name, state)
        self._last_logged = state

    # -- supervision (the hub's loop) --

    async def supervise(self) -> None:
        while not self.closing:
            began = time.monotonic()
            connected, reason = await self._attempt()
            if self.closing:
                break
            if connected and time.monotonic() - began >= _STABLE_S:
                self._failures = 0
            delay = min(_BACKOFF_MAX_S, _BACKOFF_FIRST_S * 2**self._failures)
            self._failures += 1
            retry = "restarting" if self.config.command else "reconnecting"
            self.set_down(
                f"{'stopped' if connected else 'failed'}: {reason}", next_step=f"{retry} in {delay:g} s"
            )
            await self._pause(delay)
        self.set_down("stopped: the app closed the connection", quiet=True)

    async def _attempt(self) -> tuple[bool, str]:
        """One connection from start to end: (whether it connected, why it ended)."""
        config = self.config
        self.set_state("starting")
        tail = _StderrTail(config.name) if config.command else None
        self._lost = lost = anyio.Event()
        start_limit = max(config.timeout_s, _MIN_START_S)
        self._scope = scope = anyio.CancelScope(deadline=anyio.current_time() + start_limit)
        connected, reason = False, ""
        try:
            with scope:
                transport = self._transport(tail)
                async with Client(transport, cache=None, client_info=_CLIENT_INFO) as client:
                    listing = await _list_tools(client)
                    scope.deadline = math.inf
                    connected = True
                    self._publish(client, listing)
                    await lost.wait()
        except Exception as e:  # an ExceptionGroup from the SDK's task groups too
            reason = _describe(e, config, started=connected)
            log.debug("MCP server %r ended", self.name, exc_info=True)
        except BaseExceptionGroup as e:  # a crash mixed with a cancellation
            if self.closing:
                return connected, "closed"
            reason = _describe(e, config, started=connected)
        finally:
            self._scope = self._lost = None
            if tail is not None:
                tail.close_writer()
        if not reason:
            if scope.cancelled_caught and not connected:
                reason = f"no answer within {start_limit:g} s"
            else:
                reason = self._lost_reason()
        if not connected and tail is not None and (line := tail.last_line()):
            reason = f"{reason}; it said: {line}"
        return connected, reason

    def _lost_reason(self) -> str:
        state = self.status()
        if state.startswith("stopped: "):
            return state.removeprefix("stopped: ")
        return "the connection ended"

    @asynccontextmanager
    async def _transport(self, tail: _StderrTail | None) -> AsyncIterator[Any]:
        """The SDK transport with its read stream watched, so a connection's end is seen at once."""
        config = self.config
        if config.url is not None:
            timeout = httpx2.Timeout(config.timeout_s, read=300.0)
            async with (
                httpx2.AsyncClient(headers=dict(config.headers), timeout=timeout) as http,
                streamable_http_client(config.url, http_client=http) as (read, write),
            ):
                yield _WatchedReadStream(read, self._on_read_end), write
            return
        assert config.command is not None and tail is not None
        params = StdioServerParameters(
            command=config.command, args=list(config.args), env=dict(config.env) or None, cwd=config.cwd
        )
        try:
            async with stdio_client(params, errlog=tail.writer) as (read, write):
                tail.close_writer()  # the child holds its own copy; EOF then means the child is gone
                yield _WatchedReadStream(read, self._on_read_end), write
        finally:
            tail.close_writer()

    def _on_read_end(self) -> None:
        if self.closing:
            return
        with self._lock:
            connected = self._client is not None
        if connected:
            what = "the server process ended" if self.config.command else "the server closed the connection"
            self.set_down(f"stopped: {what}")
        if self._lost is not None:
            self._lost.set()

    def _publish(self, client: Client, listing: list[mcp_types.Tool]) -> None:
        tools = _make_tools(self.name, listing, self._run_tool)
        count = f"{len(tools)} tool{'' if len(tools) == 1 else 's'}"
        with self._lock:
            self._client, self._tools = client, tools
            self.state = f"connected ({count})"
        self._last_logged = ""
        log.info("MCP server %r connected (%s): %s", self.name, self.config.where, count)

    async def _pause(self, delay: float) -> None:
        self._wake = wake = anyio.Event()
        with anyio.move_on_after(delay):
            await wake.wait()
        self._wake = None

    def refresh(self) -> None:
        """Loop-side: retry now if down, list the tools again if connected."""
        self._failures = 0
        if self._wake is not None:
            self._wake.set()
            return
        with self._lock:
            client = self._client
        if client is not None:
            task = asyncio.get_running_loop().create_task(self._relist(client))
            self._relists.add(task)
            task.add_done_callback(self._relists.discard)

    async def _relist(self, client: Client) -> None:
        try:
            with anyio.fail_after(self.config.timeout_s):
                listing = await _list_tools(client)
        except Exception as e:
            log.warning(
                "MCP server %r: listing its tools again failed: %s", self.name, _describe(e, self.config)
            )
            return
        with self._lock:
            current = self._client is client
        if current:
            self._publish(client, listing)

    def stop(self, *, polite: bool) -> None:
        """Loop-side: end the connection; politely lets it close its session, else it is cut."""
        self.closing = True
        with self._lock:
            connected = self._client is not None
        if self._wake is not None:
            self._wake.set()
        if self._lost is not None:
            self._lost.set()
        if (not polite or not connected) and self._scope is not None:
            self._scope.cancel()  # a start-up is cut short either way: there is no session to end yet
        if not polite:
            for task in self._relists:
                task.cancel()

    # -- calls --

    def _run_tool(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        """Caller-side: run ``tool`` on the hub's loop and wait for it, at most the server's timeout."""
        future = self._submit(self._call(tool, arguments))
        if future is None:
            return _failure(f"The MCP server '{self.name}' is not available: the tool connection is closed.")
        limit = self.config.timeout_s
        try:
            return future.result(limit + _CALL_GRACE_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return self._timed_out(tool)
        except concurrent.futures.CancelledError:
            return _failure(f"The call of '{tool}' on the MCP server '{self.name}' was cancelled.")

    async def _call(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        with self._lock:
            client, state = self._client, self.state
        if client is None:
            return _failure(f"The MCP server '{self.name}' is not connected ({state}); '{tool}' did not run.")
        try:
            result = await client.call_tool(tool, arguments, read_timeout_seconds=self.config.timeout_s)
        except MCPError as e:
            if e.code == mcp_types.REQUEST_TIMEOUT:
                return self._timed_out(tool)
            if e.code == mcp_types.CONNECTION_CLOSED or e.message == "Session terminated":
                self._connection_failed(client)
                again = "restarted" if self.config.command else "reconnected"
                return _failure(
                    f"The MCP server '{self.name}' stopped while running '{tool}', so the call did not "
                    f"finish. It is being {again}; try again in a moment."
                )
            return ToolResult(
                f"The MCP server '{self.name}' could not run '{tool}': {e.message}",
                is_error=True,
                untrusted=True,
                source=f"MCP server {self.name}",
            )
        except Exception as e:  # a malformed answer, a transport fault
            return _failure(
                f"The MCP server '{self.name}' failed running '{tool}': {_describe(e, self.config)}"
            )
        return ToolResult(
            _result_text(result), is_error=result.is_error, untrusted=True, source=f"MCP server {self.name}"
        )

    def _connection_failed(self, client: Client) -> None:
        """Loop-side: a call found the connection gone (an HTTP server says so only then)."""
        with self._lock:
            current = self._client is client
        if current and not self.closing:
            self.set_down("stopped: the connection failed during a call")
            if self._lost is not None:
                self._lost.set()

    def _timed_out(self, tool: str) -> ToolResult:
        return _failure(
            f"The MCP server '{self.name}' did not answer '{tool}' within {self.config.timeout_s:g} s; "
            "the call was abandoned."
        )


# --- helpers ---------------------------------------------------------------------------------


class _WatchedReadStream:
    """A transport's read stream that reports its end (the server exited or hung up)."""

    def __init__(self, inner: Any, on_end: Callable[[], None]) -> None:
        self._inner = inner
        self._on_end = on_end

    @property
    def last_context(self) -> Any:  # the SDK reads the sender's context from here when present
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        try:
            item: SessionMessage | Exception = await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._on_end()
            raise
        return item

    def __aiter__(self) -> _WatchedReadStream:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _WatchedReadStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class _StderrTail:
    """A stdio server's stderr: logged at debug level, its last lines kept to explain a failed start."""

    def __init__(self, server: str) -> None:
        read_fd, write_fd = os.pipe()
        self.writer: TextIO = os.fdopen(write_fd, "w")
        self._server = server
        self._lines: deque[str] = deque(maxlen=20)
        reader = os.fdopen(read_fd, encoding="utf-8", errors="replace")
        self._thread = threading.Thread(
            target=self._pump, args=(reader,), name="seesay-mcp-stderr", daemon=True
        )
        self._thread.start()

    def _pump(self, reader: TextIO) -> None:
        with reader:
            for raw in reader:
                line = raw.rstrip()
                if line:
                    self._lines.append(line)
                    log.debug("MCP server %r: %s", self._server, line)

    def close_writer(self) -> None:
        with suppress(OSError):
            self.writer.close()

    def last_line(self, wait_s: float = 0.3) -> str:
        self._thread.join(wait_s)  # the child has gone: let the last lines arrive
        return self._lines[-1][:300] if self._lines else ""


async def _list_tools(client: Client) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _make_tools(
    server: str, listing: Sequence[mcp_types.Tool], run: Callable[[str, dict[str, Any]], ToolResult]
) -> list[Tool]:
    tools: list[Tool] = []
    taken: set[str] = set()
    for spec in listing:
        name = _tool_name(server, spec.name, taken)
        taken.add(name)
        schema = dict(spec.input_schema)
        schema.setdefault("type", "object")
        read_only = spec.annotations is not None and spec.annotations.read_only_hint is True
        title = spec.title or (spec.annotations.title if spec.annotations else None)
        tools.append(
            Tool(
                name=name,
                description=spec.description
                or title
                or f"The tool {spec.name!r} of the MCP server {server!r}.",
                parameters=schema,
                run=functools.partial(run, spec.name),
                side_effects=not read_only,
                origin=f"mcp:{server}",
            )
        )
    return tools


def _tool_name(server: str, tool: str, taken: set[str]) -> str:
    """``<server>__<tool>`` in the characters and length tool names allow, unique among ``taken``."""
    base = re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")[:_MAX_NAME]
    name, n = base, 2
    while name in taken:
        suffix = f"_{n}"
        name, n = base[: _MAX_NAME - len(suffix)] + suffix, n + 1
    return name


def _result_text(result: mcp_types.CallToolResult) -> str:
    parts = [_block_text(block) for block in result.content]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts) if parts else "(no output)"


def _block_text(block: mcp_types.ContentBlock) -> str:
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        return f"[{block.type}: {block.mime_type}, {_size(block.data)}]"
    if isinstance(block, mcp_types.ResourceLink):
        return f"[resource link: {block.name} <{block.uri}>]"
    if isinstance(block, mcp_types.EmbeddedResource):
        contents = block.resource
        if isinstance(contents, mcp_types.TextResourceContents):
            return f"[resource {contents.uri}]\n{contents.text}"
        return f"[resource {contents.uri}: {contents.mime_type or 'binary'}, {_size(contents.blob)}]"
    return f"[{getattr(block, 'type', 'unknown')} content]"


def _size(base64_text: str) -> str:
    size = len(base64_text) * 3 // 4
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


def _failure(message: str) -> ToolResult:
    return ToolResult(message, is_error=True, untrusted=False)


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _describe(error: BaseException, config: ServerConfig, *, started: bool = True) -> str:
    """Why a connection failed, in words for the status line."""
    cancelled = anyio.get_cancelled_exc_class()
    leaves = [e for e in _leaves(error) if not isinstance(e, cancelled)] or [error]
    # The root cause over its echo: a transport fault closes the session, which the handshake then reports.
    leaves.sort(key=lambda e: isinstance(e, MCPError) and e.code == mcp_types.CONNECTION_CLOSED)
    e = leaves[0]
    if isinstance(e, FileNotFoundError) and config.command:
        if config.cwd and e.filename == config.cwd:
            return f"the folder {config.cwd} does not exist"
        return f"cannot run {config.command!r}: no such program"
    if isinstance(e, PermissionError) and config.command:
        return f"cannot run {config.command!r}: permission denied"
    if isinstance(e, httpx2.ConnectError):
        return f"cannot reach {config.url}"
    if isinstance(e, httpx2.TimeoutException):
        return f"{config.url} did not answer in time"
    if isinstance(e, httpx2.HTTPError):
        return f"HTTP error from {config.url}: {e}"
    if isinstance(e, MCPError):
        if e.code == mcp_types.CONNECTION_CLOSED:
            if config.command:
                return "the server process ended" + ("" if started else " during start-up")
            return "the server closed the connection"
        if e.code == mcp_types.REQUEST_TIMEOUT:
            return "the server did not answer in time"
        return f"the server answered with an error: {e.message}"
    if isinstance(e, OSError):
        return e.strerror or str(e) or type(e).__name__
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
