"""The tools one front end offers: the built-in ones its settings enable, plus MCP servers'.

Built once per process (MCP servers are child processes or connections that stay up) and
asked for its tools on every reply, so an MCP server's tools appear and disappear as the
server comes and goes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from seesay.config import Settings
from seesay.paths import config_dir
from seesay.tools.base import Tool

if TYPE_CHECKING:
    from seesay.tools.mcp_client import McpHub

log = logging.getLogger(__name__)


def mcp_file(settings: Settings) -> Path:
    return (
        Path(settings.tools.mcp_servers).expanduser()
        if settings.tools.mcp_servers
        else config_dir() / "mcp.json"
    )


def granted_folders(settings: Settings) -> list[Path]:
    return [Path(p).expanduser() for p in settings.tools.folders.split(os.pathsep) if p.strip()]


class Toolbox:
    def __init__(self, builtin: list[Tool], hub: McpHub | None = None) -> None:
        self.builtin = builtin
        self.hub = hub  # None without MCP servers

    @classmethod
    def from_settings(cls, settings: Settings, *, mcp: bool = True) -> Toolbox:
        from seesay.tools.calculator import calculator_tool, find_expression
        from seesay.tools.files import Folders, file_tools
        from seesay.tools.sandbox import Limits, python_tool

        def recognize(text: str) -> dict[str, str] | None:
            expression = find_expression(text)
            return {"expression": expression} if expression else None

        tools = [dataclasses.replace(calculator_tool(), recognize=recognize)]
        t = settings.tools
        if t.code:
            tools.append(python_tool(Limits(cpu_seconds=t.code_cpu_seconds, memory_mb=t.code_memory_mb)))
        folders = granted_folders(settings)
        if folders:
            tools.extend(file_tools(Folders(folders)))
        hub = None
        if mcp and mcp_file(settings).exists():  # the MCP SDK takes half a second to import
            from seesay.tools.mcp_client import McpHub, load_servers

            servers = load_servers(mcp_file(settings))
            if servers:
                hub = McpHub(servers)
                hub.start()
        return cls(tools, hub)

    def tools(self) -> list[Tool]:
        found = list(self.builtin)
        if self.hub is not None:
            found.extend(self.hub.tools())
        return found

    def get(self, name: str) -> Tool | None:
        return next((t for t in self.tools() if t.name == name), None)

    def status(self) -> dict[str, str]:
        return dict(self.hub.status()) if self.hub is not None else {}

    def close(self) -> None:
        if self.hub is not None:
            self.hub.close()
