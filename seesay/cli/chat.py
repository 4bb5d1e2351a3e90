"""``seesay chat``: a conversation in the terminal, with a few slash commands.

Replies stream to stdout; notes, prompts and errors go to stderr, so ``--once`` output can
be piped. Ctrl+C during a reply stops that reply (it is saved as interrupted); at the
prompt it leaves.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from seesay.chat import ChatSession
from seesay.config import Settings
from seesay.errors import InputError, SeeSayError
from seesay.inference.engine import ChatEngine, Stream
from seesay.store import HistoryStore
from seesay.tools.approvals import Decision, PendingCall
from seesay.tools.runner import ToolEvent, ToolRunner, describe_call
from seesay.tools.toolbox import Toolbox

if TYPE_CHECKING:
    from seesay.docs.grounding import Attachment, Source
    from seesay.docs.library import Library

HELP = """Commands:
  /help            this list
  /new             start a new conversation
  /resume [N]      list recent conversations, or continue number N of that list
  /model [NAME]    show the model, or switch to NAME (a folder, .gguf file or Hugging Face id)
  /tools           the tools the model may use, and the MCP servers' state
  /attach PATH     send a document (PDF, Word, HTML, text…) with your next message
  /docs            answer from your document library, citing sources (on/off)
  /quit            leave (also Ctrl-D)
Anything else is sent to the model. Ctrl+C stops a reply."""
RECENT = 10


def add_arguments(chat: argparse.ArgumentParser) -> None:
    chat.add_argument("--once", metavar="PROMPT", help="send one prompt, print the reply, exit")
    chat.add_argument(
        "--resume",
        nargs="?",
        const=-1,
        type=int,
        metavar="ID",
        help="continue the latest conversation (or the one with this id)",
    )
    chat.add_argument("--max-tokens", type=int, help="longest reply in tokens")
    chat.add_argument("--temperature", type=float, help="0 for deterministic replies")
    chat.add_argument("--no-history", action="store_true", help="do not save this chat")
    chat.add_argument(
        "--no-tools", action="store_true", help="the model only talks: no calculator, code, files or MCP"
    )
    chat.add_argument(
        "--docs", action="store_true", help="answer from your document library (seesay docs), citing sources"
    )
    chat.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="F",
        help="attach a document to the first message (repeat for more)",
    )


def read_file(path: str, library: Library | None) -> Attachment:
    """Reads a file now (a bad one is refused here, before anything is sent)."""
    from seesay.docs.grounding import attach

    try:
        attachment = attach(Path(path), library, progress=_progress_line)
    finally:
        if sys.stderr.isatty():  # the progress line goes, whatever comes next
            sys.stderr.write("\r\x1b[2K")
    say(f"[attached] {attachment.describe()}")
    return attachment


def _progress_line(message: str) -> None:
    """How far a long file has come, on one line rewritten in place (only on a terminal)."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[2K  {message}")
        sys.stderr.flush()


class Terminal:
    """The interactive loop's state: the engine, the session, and the last list shown."""

    def __init__(
        self,
        engine: ChatEngine,
        settings: Settings,
        save: bool,
        load: Callable[[Settings], ChatEngine],
        toolbox: Toolbox | None = None,
        use_library: bool = False,
        store: HistoryStore | None = None,
    ) -> None:
        self.engine, self.settings, self.save, self._load = engine, settings, save, load
        self.toolbox = toolbox
        self.use_library = use_library
        self.session = self._session(store)
        self.attachments: list[Attachment] = []  # read, waiting for the next message
        self._listed: list[int] = []

    def _session(self, store: HistoryStore | None = None, conversation_id: int | None = None) -> ChatSession:
        """A session with its own approvals: "Always" holds for one conversation only."""
        tools = ToolRunner(self.toolbox, ask, show_event) if self.toolbox is not None else None
        session = ChatSession(self.engine, self.settings, store, conversation_id, save=self.save, tools=tools)
        if session.store is not None:
            from seesay.docs.library import Library

            session.library, session.use_library = Library(session.store), self.use_library
        elif self.use_library:
            raise InputError("--docs needs the history database, where the library is; drop --no-history.")
        return session

    def attach(self, path: str) -> None:
        self.attachments.append(read_file(path, self.session.library))

    def send(self, text: str) -> None:
        attachments, self.attachments = self.attachments, []
        reply(self.session.send(text, attachments=attachments))
        show_sources(self.session.sources)

    def run(self) -> int:
        say(f"SeeSay chat with {self.engine.model_name} — /help for commands, Ctrl-D or /quit to leave.")
        while True:
            try:
                line = input("you> ")
            except EOFError:
                say("")
                return 0
            except KeyboardInterrupt:
                say("")
                return 0
            text = line.strip()
            if not text:
                continue
            if text.startswith("/"):
                if self.command(text) == "quit":
                    return 0
                continue
            try:
                self.send(line)
            except SeeSayError as e:  # the conversation goes on after one failed reply
                say(f"seesay: error: {e}")

    def command(self, text: str) -> str | None:
        name, _, arg = text.partition(" ")
        arg = arg.strip()
        if name in ("/quit", "/exit"):
            return "quit"
        if name == "/help":
            say(HELP)
        elif name == "/new":
            self.session = self._session(self.session.store)
            say("New conversation.")
        elif name == "/tools":
            self.list_tools()
        elif name == "/attach":
            self.attach_command(arg)
        elif name == "/docs":
            self.use_library = not self.use_library
            self.session.use_library = self.use_library and self.session.library is not None
            state = "on: answers cite your documents" if self.session.use_library else "off"
            say(f"Document library {state}.")
        elif name == "/resume":
            self.resume(arg)
        elif name == "/model":
            self.model(arg)
        else:
            say(f"Unknown command {name}; /help lists them.")
        return None

    def resume(self, arg: str) -> None:
        store = self.session.store
        if store is None:
            say("History is off (--no-history): there is nothing to resume.")
            return
        if not arg:
            conversations = store.list_conversations()[:RECENT]
            self._listed = [c.id for c in conversations]
            if not conversations:
                say("No saved conversations yet.")
            for i, c in enumerate(conversations, 1):
                say(f"  {i:2}. {c.title}")
            if conversations:
                say("Continue one with /resume N.")
            return
        if not arg.isdigit() or not 1 <= int(arg) <= len(self._listed):
            say("Say /resume to list conversations, then /resume N with a number from that list.")
            return
        self.open(self._listed[int(arg) - 1])

    def attach_command(self, arg: str) -> None:
        if not arg:
            say("Say /attach PATH to send a document with your next message.")
            return
        try:
            self.attach(arg)
        except SeeSayError as e:
            say(f"seesay: error: {e}")

    def list_tools(self) -> None:
        if self.toolbox is None:
            say("Tools are off (--no-tools or tools.enabled = false).")
            return
        for tool in self.toolbox.tools():
            asks = " (asks first)" if tool.side_effects else ""
            say(f"  {tool.name}{asks}: {tool.description}")
        for server, state in self.toolbox.status().items():
            say(f"  MCP {server}: {state}")

    def open(self, conversation_id: int) -> None:
        self.session = self._session(self.session.store, conversation_id)
        shown = [m for m in self.session.history() if m["role"] in ("user", "assistant") and m["content"]][
            -4:
        ]
        for m in shown:
            say(f"{'you' if m['role'] == 'user' else 'seesay'}> {short(m['content'])}")
        say(f"Continuing ({len(self.session.history())} messages).")

    def model(self, name: str) -> None:
        if not name:
            say(f"Model: {self.engine.model_name} on {self.engine.device}")
            return
        try:
            settings = self.settings.replace({"model.name": name}, source="command line")
            engine = self._load(settings)
        except SeeSayError as e:
            say(f"seesay: error: {e} Still using {self.engine.model_name}.")
            return
        close = getattr(self.engine, "close", None)
        if callable(close):
            close()
        self.engine, self.settings = engine, settings
        self.session.engine, self.session.settings = engine, settings
        say(f"Now using {engine.model_name} on {engine.device}.")


def run_chat(args: argparse.Namespace, settings: Settings, load: Callable[[Settings], ChatEngine]) -> int:
    if args.once is not None and not args.once.strip():
        raise InputError("The prompt is empty; nothing to send.")
    store = None if args.no_history else HistoryStore.open()
    # A wrong id or a file that cannot be read is said before the model loads, not after.
    resume = _to_resume(args.resume, store)
    attachments = [read_file(path, _library(store)) for path in args.file]
    engine = load(settings)
    toolbox = Toolbox.from_settings(settings) if settings.tools.enabled and not args.no_tools else None
    try:
        term = Terminal(engine, settings, store is not None, load, toolbox, args.docs, store)
        if resume is not None:
            term.open(resume)
        term.attachments.extend(attachments)
        if args.once is not None:
            term.send(args.once)
            return 0
        return term.run()
    finally:
        if toolbox is not None:
            toolbox.close()


def _library(store: HistoryStore | None) -> Library | None:
    from seesay.docs.library import Library

    return Library(store) if store is not None else None


def _to_resume(wanted: int | None, store: HistoryStore | None) -> int | None:
    """The conversation ``--resume`` names (-1: the latest), or None without the flag."""
    if wanted is None:
        return None
    ids = [c.id for c in store.list_conversations()] if store is not None else []
    found = [i for i in ids if wanted in (-1, i)]
    if not found:
        raise InputError(
            "There is no saved conversation to resume."
            if wanted == -1
            else f"There is no saved conversation with id {wanted}."
        )
    return found[0]


def reply(stream: Stream) -> None:
    """Print a reply as it streams; Ctrl+C stops it (the model too) and keeps what came."""
    try:
        for delta in stream:
            sys.stdout.write(delta)
            sys.stdout.flush()
    except KeyboardInterrupt:
        stream.cancel()
        sys.stdout.write("\n")
        say("[stopped]")
        return
    sys.stdout.write("\n")
    sys.stdout.flush()
    if stream.stats.trim:
        say(f"note: {stream.stats.trim.describe()}")


def show_sources(sources: list[Source]) -> None:
    """The passages the reply was given, numbered as it cites them."""
    if sources:
        print("Sources:")
        for source in sources:
            print(f"  [{source.n}] {source.label()}  ({source.path})")
        sys.stdout.flush()


def ask(call: PendingCall) -> Decision:
    """The terminal's approval: the exact call, why it is asked, then [y/N/a]; no answer is no."""
    say(f"\nseesay wants to run: {describe_call(call.tool.name, call.arguments)}")
    say(f"  {call.reason}")
    for name, origin in call.origins.items():
        if origin != "user":
            where = "from content it read (untrusted)" if origin == "untrusted" else "written by the model"
            say(f"  {name}: {where}")
    if not sys.stdin.isatty():
        say("  Not run: there is no terminal to approve it in.")
        return Decision.DENY
    answer = input("Run it? [y/N/a=always in this chat] ").strip().lower()
    return {"y": Decision.APPROVE, "yes": Decision.APPROVE, "a": Decision.ALWAYS}.get(answer, Decision.DENY)


def show_event(event: ToolEvent) -> None:
    if event.state == "running":
        say(f"[tool] {describe_call(event.name, event.arguments)}")
    elif event.state in ("done", "error"):
        mark = "error: " if event.state == "error" else "→ "
        say(f"[tool] {mark}{short(event.result)}")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def short(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
