"""The model's peripherals: a calculator, a sandboxed code runner, the user's granted folders
and MCP servers, each a :class:`~seesay.tools.base.Tool` behind approvals."""
