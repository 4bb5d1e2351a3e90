"""A small MCP server for the client tests: two read-only tools, one that writes, one that
crashes the process and one that never answers.

Run as ``python mcp_server.py`` it serves over stdio; ``python mcp_server.py --http PORT``
serves streamable HTTP on 127.0.0.1:PORT at ``/mcp``. ``crash()`` ends the process only
while the file named by ``SEESAY_TEST_MCP_CRASH_MARKER`` exists, so a test can make one
run crash and the restarted one behave. Written with the SDK's ``MCPServer`` (FastMCP's name
since mcp 2).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

CRASH_MARKER_ENV = "SEESAY_TEST_MCP_CRASH_MARKER"
READ_ONLY = ToolAnnotations(read_only_hint=True)

server = MCPServer("seesay-test", log_level="WARNING")


@server.tool(description="Add two integers.", annotations=READ_ONLY)
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="Return the text unchanged.", annotations=READ_ONLY)
def echo(text: str) -> str:
    return text


@server.tool(description="Pretend to save a note.")
def write_note(text: str) -> str:
    return f"saved {len(text)} characters"


@server.tool(description="End the server process at once while the crash marker file exists.")
def crash() -> str:
    marker = os.environ.get(CRASH_MARKER_ENV, "")
    if marker and Path(marker).exists():
        os._exit(3)
    return "still running"


@server.tool(description="Never answer.")
async def hang() -> str:
    await anyio.sleep_forever()
    return "unreachable"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--http", type=int, metavar="PORT", help="serve streamable HTTP on this loopback port"
    )
    parser.add_argument("--label", default="", help="ignored; tells the test processes apart")
    args = parser.parse_args()
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run()


if __name__ == "__main__":
    main()
