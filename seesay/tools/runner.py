"""One conversation's tool calls: look the tool up, ask when the rules say so, run, report.

Every front end drives its calls through here, so the window's card, the terminal's [y/N]
and the voice loop apply the same approvals; ``on_event`` tells the front end what is
happening (asking, running, done) from whichever thread the reply runs on.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from seesay.inference.engine import ToolCall
from seesay.tools.approvals import Approvals, Approver, Decision, Origin, PendingCall, deny_all
from seesay.tools.base import ToolError, ToolResult, parse_arguments
from seesay.tools.toolbox import Toolbox

log = logging.getLogger(__name__)

State = Literal["asking", "running", "done", "denied", "error"]


@dataclass
class ToolEvent:
    call_id: str
    name: str
    arguments: Mapping[str, Any]
    state: State
    result: str = ""
    reason: str = ""  # why the user is asked, or why it failed
    origins: Mapping[str, Origin] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Outcome:
    result: ToolResult
    approval: str  # "not needed", "approved", "always", "denied"
    arguments: dict[str, Any]


class ToolRunner:
    def __init__(
        self,
        toolbox: Toolbox | Callable[[], Toolbox],
        approver: Approver = deny_all,
        on_event: Callable[[ToolEvent], None] | None = None,
    ) -> None:
        """``toolbox``: the tools, or how to get them when the first reply needs them."""
        self._toolbox = toolbox
        self.approver = approver
        self.on_event = on_event or (lambda _e: None)
        self.approvals = Approvals()

    @property
    def toolbox(self) -> Toolbox:
        return self._toolbox if isinstance(self._toolbox, Toolbox) else self._toolbox()

    def run(self, call: ToolCall, user_texts: Sequence[str], untrusted_texts: Sequence[str]) -> Outcome:
        function = call.get("function", {})
        name = function.get("name", "")
        try:
            arguments = parse_arguments(function.get("arguments", "{}"))
        except ToolError as e:
            return self._failed(call, name, {}, str(e))
        tool = self.toolbox.get(name)
        if tool is None:
            known = ", ".join(t.name for t in self.toolbox.tools())
            return self._failed(
                call, name, arguments, f"There is no tool called {name!r} (there are: {known})."
            )
        approval = "not needed"
        pending = self.approvals.check(tool, arguments, user_texts, untrusted_texts)
        if pending is None and tool.side_effects:
            approval = "always"
        if pending is not None:
            pending = dataclasses.replace(pending, call_id=call.get("id", ""))
            self._emit(call, name, arguments, "asking", reason=pending.reason, origins=pending.origins)
            decision = self._ask(pending)
            if not self.approvals.record(pending, decision):
                text = f"The user declined to run {name}."
                self._emit(call, name, arguments, "denied", result=text)
                return Outcome(ToolResult(text, is_error=True, untrusted=False), "denied", arguments)
            approval = "always" if decision is Decision.ALWAYS else "approved"
        self._emit(call, name, arguments, "running")
        started = time.perf_counter()
        result = tool.call(arguments)
        seconds = time.perf_counter() - started
        log.info("tool %s ran in %.2f s (%s)", name, seconds, "error" if result.is_error else "ok")
        self._emit(
            call,
            name,
            arguments,
            "error" if result.is_error else "done",
            result=result.content,
            seconds=seconds,
        )
        return Outcome(result, approval, arguments)

    def _ask(self, pending: PendingCall) -> Decision:
        try:
            return self.approver(pending)
        except (EOFError, KeyboardInterrupt):
            return Decision.DENY

    def _failed(self, call: ToolCall, name: str, arguments: dict[str, Any], why: str) -> Outcome:
        self._emit(call, name, arguments, "error", result=why)
        return Outcome(ToolResult(why, is_error=True, untrusted=False), "not needed", arguments)

    def _emit(
        self, call: ToolCall, name: str, arguments: Mapping[str, Any], state: State, **more: Any
    ) -> None:
        try:
            self.on_event(ToolEvent(call.get("id", ""), name, arguments, state, **more))
        except Exception:  # a front end's display must not break the call
            log.exception("tool event handler failed")


def describe_call(name: str, arguments: Mapping[str, Any]) -> str:
    """The call as one line, as the user sees it: ``calculator(expression="1234 * 5678")``."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return f"{name}({args})"
