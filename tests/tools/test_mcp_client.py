"""The MCP hub against real server processes (tests/tools/mcp_server.py), over stdio and HTTP:
tools listed, calls answered, and a crash, a hang, a missing program or a bad file never
reaching the caller as an exception."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from seesay.errors import ConfigError
from seesay.tools.base import Tool
from seesay.tools.mcp_client import McpHub, ServerConfig, load_servers

SERVER = Path(__file__).with_name("mcp_server.py")
CRASH_MARKER_ENV = "SEESAY_TEST_MCP_CRASH_MARKER"
TIMEOUT_S = 2.0


def stdio_server(name: str = "local", marker: Path | None = None) -> ServerConfig:
    env = {CRASH_MARKER_ENV: str(marker)} if marker else {}
    args = (str(SERVER), "--label", name)
    return ServerConfig(name, command=sys.executable, args=args, env=env, timeout_s=TIMEOUT_S)


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def connected(hub: McpHub, name: str) -> bool:
    return hub.status()[name].startswith("connected")


def server_processes(*labels: str) -> list[psutil.Process]:
    """Our children running the test server under these labels, and any zombie (not reaped)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                found.append(child)
                continue
            args = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if str(SERVER) in args and "--label" in args and args[args.index("--label") + 1] in labels:
            found.append(child)
    return found


def tool(hub: McpHub, name: str) -> Tool:
    return next(t for t in hub.tools() if t.name == name)


@pytest.fixture(scope="module")
def hub() -> Iterator[McpHub]:
    with McpHub([stdio_server()]) as hub:
        wait_for(lambda: connected(hub, "local"), "the stdio server to connect")
        yield hub


# --- the server list -----------------------------------------------------------------------


def test_load_servers_reads_the_common_format(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "files": {"command": "npx", "args": ["-y", "server"], "env": {"K": "v"}, "cwd": "srv"},
                    "web": {"url": "http://127.0.0.1:9000/mcp", "headers": {"Authorization": "Bearer x"}},
                    "off": {"command": "x", "disabled": True, "timeout": 5},
                }
            }
        )
    )
    files, web, off = load_servers(path)
    assert files == ServerConfig(
        "files", command="npx", args=("-y", "server"), env={"K": "v"}, cwd=str(tmp_path / "srv")
    )
    assert web.url == "http://127.0.0.1:9000/mcp" and web.command is None
    assert web.headers == {"Authorization": "Bearer x"}
    assert off.disabled and off.timeout_s == 5.0
    assert load_servers(tmp_path / "missing.json") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"mcpServers": {"a": {"command": "x",}}}', "not valid JSON"),
        ('{"servers": {}}', '"mcpServers"'),
        ('{"mcpServers": {"a": {"command": "x", "url": "http://h/mcp"}}}', "not both"),
        ('{"mcpServers": {"a": {"command": "x", "args": "-v"}}}', '"args"'),
        ('{"mcpServers": {"a": {"url": "ftp://h"}}}', '"url"'),
        ('{"mcpServers": {"a": {"command": "x", "env": {"K": 1}}}}', '"env"'),
        ('{"mcpServers": {"a": {"command": "x", "timeout": -1}}}', '"timeout"'),
    ],
)
def test_a_malformed_server_list_is_a_config_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_servers(path)
    assert str(path) in str(error.value) and problem in str(error.value)


# --- a stdio server ------------------------------------------------------------------------


def test_tools_are_listed_with_names_and_side_effects(hub: McpHub) -> None:
    tools = {t.name: t for t in hub.tools()}
    assert set(tools) == {"local__add", "local__echo", "local__write_note", "local__crash", "local__hang"}
    assert {name for name, t in tools.items() if t.side_effects} == {
        "local__write_note",
        "local__crash",
        "local__hang",
    }
    add = tools["local__add"]
    assert add.origin == "mcp:local" and add.description == "Add two integers."
    assert add.parameters["type"] == "object" and set(add.parameters["properties"]) == {"a", "b"}
    assert hub.status() == {"local": "connected (5 tools)"}


def test_a_call_returns_the_servers_answer_as_untrusted_text(hub: McpHub) -> None:
    result = tool(hub, "local__add").call({"a": 2, "b": 3})
    assert result.content == "5" and not result.is_error
    assert result.untrusted and result.source == "MCP server local"
    bad = tool(hub, "local__add").call({"a": "two"})
    assert bad.is_error and "validation error" in bad.content


def test_a_hanging_call_times_out_and_the_server_still_serves(hub: McpHub) -> None:
    began = time.monotonic()
    result = tool(hub, "local__hang").call({})
    took = time.monotonic() - began
    assert result.is_error and not result.untrusted
    assert "did not answer 'hang' within 2 s" in result.content
    assert TIMEOUT_S - 0.1 < took < TIMEOUT_S + 2  # the hub's own bound: the timeout plus 2 s of grace
    assert tool(hub, "local__add").call({"a": 2, "b": 3}).content == "5"


def test_a_crash_mid_call_withdraws_the_tools_and_the_server_comes_back(tmp_path: Path) -> None:
    marker = tmp_path / "crash-now"
    marker.touch()
    with McpHub([stdio_server("flaky", marker)]) as hub:
        wait_for(lambda: connected(hub, "flaky"), "the server to connect")
        (first,) = server_processes("flaky")
        crash = tool(hub, "flaky__crash")

        result = crash.call({})
        assert result.is_error and not result.untrusted
        assert "The MCP server 'flaky' stopped while running 'crash'" in result.content
        assert hub.tools() == []
        assert hub.status()["flaky"].startswith("stopped: the server process ended")
        wait_for(lambda: not first.is_running(), "the crashed server to be reaped", timeout_s=5)

        marker.unlink()
        wait_for(lambda: connected(hub, "flaky"), "the server to be restarted")
        assert len(hub.tools()) == 5
        assert crash.call({}).content == "still running"  # a tool taken before the crash works again
        (second,) = server_processes("flaky")
        assert second.pid != first.pid


# --- a streamable HTTP server --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, str(SERVER), "--http", str(port)])

    def listening() -> bool:
        assert process.poll() is None, "the HTTP test server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_for(listening, "the HTTP test server to listen")
    return process


def test_an_http_server_works_and_is_reconnected_after_a_restart() -> None:
    port = free_port()
    process = http_server(port)
    try:
        config = ServerConfig(
            "web", url=f"http://127.0.0.1:{port}/mcp", headers={"X-Test": "1"}, timeout_s=TIMEOUT_S
        )
        with McpHub([config]) as hub:
            wait_for(lambda: connected(hub, "web"), "the HTTP server to connect")
            add = tool(hub, "web__add")
            assert add.call({"a": 2, "b": 3}).content == "5"
            assert not tool(hub, "web__echo").side_effects

            process.terminate()
            process.wait(10)
            gone = add.call({"a": 2, "b": 3})
            assert gone.is_error and "The MCP server 'web' stopped while running 'add'" in gone.content
            assert hub.tools() == [] and hub.status()["web"].startswith("stopped")

            process = http_server(port)
            wait_for(lambda: connected(hub, "web"), "the HTTP server to reconnect")
            assert add.call({"a": 20, "b": 22}).content == "42"
    finally:
        process.terminate()
        process.wait(10)


# --- failures that must not reach the caller -----------------------------------------------


def test_a_missing_program_is_reported_not_raised() -> None:
    missing = ServerConfig("ghost", command="/nonexistent/seesay-no-such-mcp-server")
    off = ServerConfig("off", command=sys.executable, disabled=True)
    with McpHub([missing, off]) as hub:
        wait_for(lambda: hub.status()["ghost"].startswith("failed: "), "the start to fail")
        assert "no such program" in hub.status()["ghost"]
        assert hub.status()["off"] == "disabled"
        assert hub.tools() == []
        hub.refresh()  # retries at once; still no exception
        wait_for(lambda: hub.status()["ghost"].startswith("failed: "), "the retry to fail")


def hub_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before and t.name.startswith("seesay-mcp")]


def test_close_ends_every_server_process_in_bounded_time() -> None:
    before = set(threading.enumerate())
    hub = McpHub([stdio_server("one"), stdio_server("two")])
    hub.start()
    wait_for(lambda: connected(hub, "one") and connected(hub, "two"), "both servers to connect")
    assert len(server_processes("one", "two")) == 2
    add = tool(hub, "one__add")
    began = time.monotonic()
    hub.close()
    hub.close()
    assert time.monotonic() - began < 10
    assert server_processes("one", "two") == []
    wait_for(lambda: not hub_threads(before), "the hub's threads to end", timeout_s=3)
    assert hub.tools() == []
    assert all(s.startswith("stopped") for s in hub.status().values())
    late = add.call({"a": 1, "b": 1})  # a tool taken before close answers, it does not raise
    assert late.is_error and "not available" in late.content
