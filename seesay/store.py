"""Chat history in one SQLite file, written so that a crash, a second window or a damaged
file never costs the user more than the last second of a reply.

Every write is its own short transaction, so another window (or process) sees it at once and
a ``kill -9`` loses nothing that was committed. The GUI thread reads while a worker thread
streams a reply, so one connection is shared behind an ``RLock``.

A conversation is a tree: each message follows its parent, and siblings are alternatives
(a regenerated reply, an edited prompt) of which one is marked current. Nothing is ever
replaced, so every branch stays searchable; :meth:`HistoryStore.messages` gives the path
of current messages, which is what is shown and what the model is given.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seesay import database, paths
from seesay.database import sqlite3
from seesay.errors import StoreError

log = logging.getLogger(__name__)

FILENAME = "history.sqlite3"
STATUSES = ("complete", "streaming", "interrupted", "error")
BUSY_TIMEOUT_S = 2.0
SNIPPET_MARKS = ("«", "»")

# Forward migrations: MIGRATIONS[n] takes the schema from user_version n to n + 1. Append only;
# never edit a released step, because users' files already went through it.


def _fts_triggers(
    table: str, fts: str, column: str, tokenize: str = "unicode61 remove_diacritics 2"
) -> tuple[str, ...]:
    """External-content FTS5 needs the old text to un-index a row, hence triggers, not app code."""
    delete = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});"
    insert = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});"
    return (
        f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', content_rowid='id', "
        f"tokenize='{tokenize}')",
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF {column} ON {table} BEGIN {delete} {insert} END",
    )


# Forward migrations: MIGRATIONS[n] takes the schema from user_version n to n + 1. Append only;
# never edit a released step, because users' files already went through it.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL,
            created_at REAL NOT NULL, updated_at REAL NOT NULL)""",
        "CREATE INDEX conversations_by_updated ON conversations(updated_at)",
        """CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'streaming', 'interrupted', 'error')),
            created_at REAL NOT NULL, meta TEXT NOT NULL DEFAULT '{}')""",
        "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
        "CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming'",
        *_fts_triggers("messages", "message_fts", "content"),
        *_fts_triggers("conversations", "conversation_fts", "title"),
    ),
    (  # the document library: folders, their files, passages with keyword and vector indexes
        """CREATE TABLE doc_folders (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE,
            added_at REAL NOT NULL)""",
        """CREATE TABLE documents (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE,
            folder_id INTEGER REFERENCES doc_folders(id) ON DELETE CASCADE,
            size INTEGER NOT NULL, mtime REAL NOT NULL, pages INTEGER NOT NULL DEFAULT 0,
            chars INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '', indexed_at REAL NOT NULL)""",
        "CREATE INDEX documents_by_folder ON documents(folder_id)",
        """CREATE TABLE doc_chunks (id INTEGER PRIMARY KEY AUTOINCREMENT,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL, page INTEGER, section TEXT NOT NULL DEFAULT '', text TEXT NOT NULL,
            windows BLOB)""",  # float16 vectors of the passage's sentence windows, row after row
        "CREATE INDEX doc_chunks_by_document ON doc_chunks(document_id, ordinal)",
        # Stemmed, so a question's "compressing" finds a passage's "compression".
        *_fts_triggers("doc_chunks", "doc_chunk_fts", "text", "porter unicode61 remove_diacritics 2"),
        "CREATE VIRTUAL TABLE doc_chunk_vectors USING vec0(embedding float[384] distance_metric=cosine)",
        """CREATE TRIGGER doc_chunks_vectors_ad AFTER DELETE ON doc_chunks
            BEGIN DELETE FROM doc_chunk_vectors WHERE rowid = old.id; END""",
    ),
    (  # branches: each message follows a parent; of siblings (alternatives) one is shown
        "ALTER TABLE messages ADD COLUMN parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE",
        "ALTER TABLE messages ADD COLUMN current INTEGER NOT NULL DEFAULT 1",
        """UPDATE messages SET parent_id = (SELECT MAX(p.id) FROM messages p
            WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)""",
        "CREATE INDEX messages_by_parent ON messages(parent_id)",
    ),
]

GONE = "That conversation no longer exists; it may have been deleted in another window."
MESSAGE_GONE = "That message no longer exists; it may have been deleted in another window."
IN_USE_NOTICE = "History is in use by another SeeSay window; opened read-only."
TOO_NEW_NOTICE = "History was saved by a newer version of SeeSay; opened read-only so it stays intact."


class _InUse(StoreError):
    """Another process holds the write lock."""


class _Damaged(StoreError):
    """Not a database, or it fails its check."""


class _TooNew(StoreError):
    """Schema is newer than MIGRATIONS knows."""


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: int
    role: str
    content: str
    status: str
    created_at: float
    meta: dict
    parent_id: int | None = None
    # Ids of this message and its siblings, oldest first: more than one means the user can
    # switch between alternatives (regenerated replies, edited prompts) here.
    alternatives: tuple[int, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    conversation_id: int
    title: str
    snippet: str
    message_id: int | None = None  # None: the title matched


def default_path() -> Path:
    return paths.data_dir() / FILENAME


def fts_query(text: str) -> str:
    """Turn what a user typed into an FTS5 expression that can never be a syntax error.

    Every word becomes a quoted phrase (so ``"``, ``*``, ``-``, ``(``, AND/NOT are literal) and the
    last one is a prefix, so results appear while the user is still typing. Empty if nothing
    searchable is left.
    """
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    phrases = ['"' + w.replace('"', '""') + '"' for w in words]
    if phrases:
        phrases[-1] += "*"
    return " ".join(phrases)


def _dump_meta(meta: dict | None) -> str:
    try:
        return json.dumps(meta or {}, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"Message details could not be saved: {exc}.") from exc


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise StoreError(f"Unknown message status {status!r}; expected one of {', '.join(STATUSES)}.")


def _classify(exc: sqlite3.Error, path: Path) -> StoreError:
    """Map SQLite's error codes to the few situations the app handles differently."""
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return _InUse(f"History at {path} is in use by another program ({exc}).")
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return _Damaged(f"History at {path} is damaged ({exc}).")
    if code == sqlite3.SQLITE_CANTOPEN:
        return StoreError(f"Cannot open the history file {path}; check that its folder is writable.")
    return StoreError(f"History at {path} cannot be used: {exc}.")


def _check_header(path: Path) -> None:
    """Reject a non-database before SQLite opens it: on close SQLite would delete its -wal."""
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"Cannot read the history file {path}: {exc.strerror or exc}.") from exc
    if head and head != b"SQLite format 3\x00":
        raise _Damaged(f"History at {path} is not an SQLite database.")


def move_aside(path: Path) -> Path:
    """Rename a damaged database (and its -wal/-shm) so a fresh one can start; never delete it."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            src.rename(Path(f"{target}{suffix}"))
    return target


class HistoryStore:
    """Conversations and messages; use :meth:`open` in the app, the constructor in tests/tools."""

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.read_only = read_only
        self.notice: str | None = None
        self._lock = threading.RLock()
        self._writers: weakref.WeakSet[ReplyWriter] = weakref.WeakSet()
        self._conn: sqlite3.Connection | None = None
        if not read_only:
            folder = self.path.parent
            try:
                paths.private_dir(folder)
            except OSError as exc:
                raise StoreError(
                    f"Cannot create the history folder {folder}: {exc.strerror or exc}. "
                    "Check its permissions or set SEESAY_HOME to a writable folder."
                ) from exc
            if not os.access(folder, os.W_OK | os.X_OK):
                raise StoreError(
                    f"The history folder {folder} is not writable. "
                    "Check its permissions or set SEESAY_HOME to a writable folder."
                )
        try:
            _check_header(self.path)
            if not read_only:
                for suffix in ("", "-wal", "-shm"):  # left 0644 by older versions: tighten them too
                    if suffix == "" or Path(f"{self.path}{suffix}").exists():
                        paths.private_file(Path(f"{self.path}{suffix}"))
            self._conn = self._connect()
            self._prepare()
        except sqlite3.Error as exc:
            self.close()
            raise _classify(exc, self.path) from exc
        except StoreError:
            self.close()
            raise

    @classmethod
    def open(cls, path: Path | None = None) -> HistoryStore:
        """Open the history the way the app needs it: never fail on a fixable file, never wipe one."""
        path = Path(path) if path is not None else default_path()
        try:
            return cls(path)
        except (_InUse, _TooNew) as exc:
            log.warning("opening history read-only: %s", exc)
            store = cls(path, read_only=True)
            store.notice = IN_USE_NOTICE if isinstance(exc, _InUse) else TOO_NEW_NOTICE
            return store
        except _Damaged as exc:
            moved = move_aside(path)
            log.error("history was damaged (%s); moved it to %s", exc, moved)
            store = cls(path)
            store.notice = (
                f"Your history file was damaged and has been moved to {moved}; "
                "a new, empty history was started."
            )
            return store

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            target, uri = f"file:{self.path.resolve().as_posix()}?mode=ro", True
        else:
            target, uri = str(self.path), False
        return database.connect(
            target, uri=uri, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
        )

    def _prepare(self) -> None:
        """Check the file, migrate it and repair crash leftovers, in one write transaction.

        Taking the write lock here (rather than on the first real write) is what tells us at
        open time that another process holds the database, while we can still fall back.
        """
        conn = self._connection()
        if not self.read_only:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives process kills
        conn.execute("PRAGMA foreign_keys=ON")
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise _Damaged(f"History at {self.path} failed its check: {'; '.join(problems[:3])}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if self.read_only:
            conn.execute("PRAGMA query_only=ON")
            return
        if version > len(MIGRATIONS):
            raise _TooNew(
                f"History at {self.path} has schema {version}; this SeeSay knows up to {len(MIGRATIONS)}."
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            for step in range(version, len(MIGRATIONS)):
                log.info("migrating history %s to schema %d", self.path, step + 1)
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step + 1}")
            fixed = conn.execute("UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'")
            if fixed.rowcount:
                log.info("marked %d reply(ies) left streaming by a crash as interrupted", fixed.rowcount)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("History is closed.")
        return self._conn

    @contextmanager
    def cursor(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """Serialise use of the connection and turn SQLite errors into a sentence for the user."""
        with self._lock:
            if write and self.read_only:
                reason = f" ({self.notice})" if self.notice else ""
                raise StoreError(f"History is open read-only, so this change was not saved{reason}.")
            conn = self._connection()
            try:
                if write:
                    with conn:  # one short transaction per write, committed before returning
                        conn.execute("BEGIN IMMEDIATE")
                        yield conn
                else:
                    yield conn
            except sqlite3.Error as exc:
                raise StoreError(f"Could not {'save to' if write else 'read'} the history: {exc}.") from exc

    # --- conversations -------------------------------------------------------------------------
    def create_conversation(self, title: str = "New chat") -> int:
        title = " ".join(title.split()) or "New chat"
        now = time.time()
        with self.cursor(write=True) as conn:
            cur = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                (title, now, now),
            )
            return int(cur.lastrowid or 0)

    def list_conversations(self, query: str = "") -> list[Conversation]:
        sql = "SELECT id, title, created_at, updated_at FROM conversations"
        params: tuple[str, ...] = ()
        if query.strip():
            match = fts_query(query)
            if not match:
                return []
            sql += """ WHERE id IN (
                SELECT m.conversation_id FROM message_fts JOIN messages m ON m.id = message_fts.rowid
                WHERE message_fts MATCH ?
                UNION SELECT rowid FROM conversation_fts WHERE conversation_fts MATCH ?)"""
            params = (match, match)
        with self.cursor() as conn:
            rows = conn.execute(sql + " ORDER BY updated_at DESC, id DESC", params).fetchall()
        return [Conversation(*row) for row in rows]

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Best hit per conversation, best first; the snippet marks matches with «…»."""
        match = fts_query(query)
        if not match:
            return []
        start, end = SNIPPET_MARKS
        sql = """WITH hits AS (
                SELECT m.conversation_id AS cid, snippet(message_fts, 0, :s, :e, '…', 12) AS snip,
                       bm25(message_fts) AS score, m.id AS mid
                FROM message_fts JOIN messages m ON m.id = message_fts.rowid WHERE message_fts MATCH :q
                UNION ALL
                SELECT rowid, highlight(conversation_fts, 0, :s, :e), bm25(conversation_fts), NULL
                FROM conversation_fts WHERE conversation_fts MATCH :q),
            ranked AS (SELECT cid, snip, score, mid,
                       row_number() OVER (PARTITION BY cid ORDER BY score) AS n FROM hits)
            SELECT r.cid, c.title, r.snip, r.mid FROM ranked r JOIN conversations c ON c.id = r.cid
            WHERE r.n = 1 ORDER BY r.score, c.updated_at DESC LIMIT :limit"""
        with self.cursor() as conn:
            rows = conn.execute(sql, {"q": match, "s": start, "e": end, "limit": limit}).fetchall()
        return [SearchHit(*row) for row in rows]

    def get_conversation(self, conversation_id: int) -> Conversation:
        with self.cursor() as conn:
            row = conn.execute(
                "SELECT id, title, created_at, updated_at FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        if row is None:
            raise StoreError(GONE)
        return Conversation(*row)

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise StoreError("A conversation title cannot be empty.")
        with self.cursor(write=True) as conn:
            cur = conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))
        if cur.rowcount == 0:
            self.get_conversation(conversation_id)  # raises the "no longer exists" error

    def delete_conversation(self, conversation_id: int) -> None:
        with self.cursor(write=True) as conn:
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # --- messages ------------------------------------------------------------------------------
    @staticmethod
    def _children(conn: sqlite3.Connection, conversation_id: int) -> dict[int | None, list[tuple[int, bool]]]:
        """(id, current) of each message's children, oldest first; None holds the first messages."""
        children: dict[int | None, list[tuple[int, bool]]] = {}
        rows = conn.execute(
            "SELECT id, parent_id, current FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        for id_, parent, current in rows:
            children.setdefault(parent, []).append((id_, bool(current)))
        return children

    @staticmethod
    def _path(children: dict[int | None, list[tuple[int, bool]]]) -> list[int]:
        path: list[int] = []
        parent: int | None = None
        while len(path) <= len(children):  # bounded even if a damaged file holds a cycle
            shown = [id_ for id_, current in children.get(parent, []) if current]
            if not shown:
                break
            parent = shown[-1]
            path.append(parent)
        return path

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        status: str = "complete",
        meta: dict | None = None,
    ) -> int:
        _check_status(status)
        meta_json = _dump_meta(meta)
        now = time.time()
        with self.cursor(write=True) as conn:
            bumped = conn.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
            )
            if bumped.rowcount == 0:
                raise StoreError(GONE)
            path = self._path(self._children(conn, conversation_id))
            parent = path[-1] if path else None  # a new message continues the path shown
            conn.execute(
                "UPDATE messages SET current = 0 WHERE conversation_id = ? AND parent_id IS ?",
                (conversation_id, parent),
            )
            cur = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, status, created_at,"
                " meta, parent_id, current) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (conversation_id, role, content, status, now, meta_json, parent),
            )
            return int(cur.lastrowid or 0)

    def _load(
        self, conn: sqlite3.Connection, ids: list[int], alternatives: dict[int, tuple[int, ...]]
    ) -> list[StoredMessage]:
        rows = conn.execute(
            "SELECT id, conversation_id, role, content, status, created_at, meta, parent_id "
            "FROM messages WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
        found = {
            id_: StoredMessage(
                id_,
                conv,
                role,
                content,
                status,
                created,
                json.loads(meta or "{}"),
                parent,
                alternatives.get(id_, (id_,)),
            )
            for id_, conv, role, content, status, created, meta, parent in rows
        }
        return [found[i] for i in ids if i in found]

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        """The path shown: from the first message down through each current alternative."""
        with self.cursor() as conn:
            children = self._children(conn, conversation_id)
            path = self._path(children)
            alternatives: dict[int, tuple[int, ...]] = {}
            for kids in children.values():
                ids = tuple(kid for kid, _ in kids)
                alternatives.update(dict.fromkeys(ids, ids))
            return self._load(conn, path, alternatives)

    def siblings(self, message_id: int) -> list[StoredMessage]:
        """A message and its alternatives (same parent), oldest first."""
        with self.cursor() as conn:
            row = conn.execute(
                "SELECT conversation_id, parent_id FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise StoreError(MESSAGE_GONE)
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY id", row
                )
            ]
            return self._load(conn, ids, dict.fromkeys(ids, tuple(ids)))

    def show(self, message_id: int) -> int:
        """Put a message on the path shown (it and each message above it become the current
        alternative); below it the path follows what was current there before, so switching
        back to a branch shows it as it was left. Returns the conversation's id."""
        with self.cursor(write=True) as conn:
            return self._show(conn, message_id)

    @staticmethod
    def _show(conn: sqlite3.Connection, message_id: int) -> int:
        row = conn.execute(
            "SELECT conversation_id, parent_id FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise StoreError(MESSAGE_GONE)
        conversation_id, parent = row
        node: int | None = message_id
        while node is not None:
            conn.execute(
                "UPDATE messages SET current = (id = ?) WHERE conversation_id = ? AND parent_id IS ?",
                (node, conversation_id, parent),
            )
            node = parent
            if parent is not None:
                parent = conn.execute("SELECT parent_id FROM messages WHERE id = ?", (parent,)).fetchone()[0]
        return int(conversation_id)

    def continue_from(self, conversation_id: int, message_id: int | None) -> None:
        """End the path shown at ``message_id`` (None: before the first message), so the next
        message added becomes a new alternative to what followed it, which is kept."""
        with self.cursor(write=True) as conn:
            if message_id is not None and self._show(conn, message_id) != conversation_id:
                raise StoreError(MESSAGE_GONE)
            conn.execute(
                "UPDATE messages SET current = 0 WHERE conversation_id = ? AND parent_id IS ?",
                (conversation_id, message_id),
            )

    def find_message(self, conversation_id: int, query: str) -> int | None:
        """The message of a conversation that best matches ``query``, preferring one on the path
        shown, so opening a search hit only switches branches when the text is elsewhere."""
        match = fts_query(query)
        if not match:
            return None
        with self.cursor() as conn:
            hits = [
                row[0]
                for row in conn.execute(
                    "SELECT m.id FROM message_fts JOIN messages m ON m.id = message_fts.rowid "
                    "WHERE message_fts MATCH ? AND m.conversation_id = ? ORDER BY bm25(message_fts), m.id",
                    (match, conversation_id),
                )
            ]
            if not hits:
                return None
            shown = set(self._path(self._children(conn, conversation_id)))
        return next((h for h in hits if h in shown), hits[0])

    def delete_messages_after(self, conversation_id: int, message_id: int) -> None:
        with self.cursor(write=True) as conn:
            conn.execute(
                "DELETE FROM messages WHERE conversation_id = ? AND id >= ?", (conversation_id, message_id)
            )

    def begin_reply(
        self, conversation_id: int, meta: dict | None = None, *, flush_interval: float = 0.5
    ) -> ReplyWriter:
        message_id = self.add_message(conversation_id, "assistant", "", status="streaming", meta=meta)
        writer = ReplyWriter(self, message_id, meta or {}, flush_interval)
        with self._lock:
            self._writers.add(writer)
        return writer

    def close(self) -> None:
        """Save what open replies have so far (as interrupted) and release the file."""
        with self._lock:
            if self._conn is None:
                return
            for writer in list(self._writers):
                try:
                    writer.finish("interrupted")
                except StoreError as exc:
                    log.warning("could not save a reply while closing: %s", exc)
            self._conn.close()
            self._conn = None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ReplyWriter:
    """Accumulates a streaming reply and rewrites its row at most every ``flush_interval`` seconds.

    Writing every token would make the GUI thread wait on disk; writing only at the end would
    lose the whole reply on a crash. A timer also flushes when tokens stall, so what was received
    is on disk within about one interval whatever the token rate.
    """

    def __init__(
        self, store: HistoryStore, message_id: int, meta: dict[str, Any], flush_interval: float = 0.5
    ) -> None:
        self.message_id = message_id
        self.flush_interval = flush_interval
        self._store = store
        self._meta = dict(meta)
        self._parts: list[str] = []
        self._dirty = False
        self._done = False
        self._last_write = time.monotonic()
        self._timer: threading.Timer | None = None

    @property
    def text(self) -> str:
        with self._store._lock:
            return "".join(self._parts)

    def append(self, delta: str) -> None:
        with self._store._lock:
            if self._done:
                log.debug("ignoring a delta for finished reply %d", self.message_id)
                return
            self._parts.append(delta)
            self._dirty = True
            wait = self.flush_interval - (time.monotonic() - self._last_write)
            if wait <= 0:
                self._write("streaming")
            elif self._timer is None:
                self._timer = threading.Timer(wait, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        with self._store._lock:
            if self._dirty and not self._done:
                self._write("streaming")

    def finish(self, status: str = "complete", meta: dict | None = None) -> None:
        _check_status(status)
        with self._store._lock:
            if self._done:
                return
            self._meta.update(meta or {})
            self._done = True
            self._store._writers.discard(self)
            self._write(status, final=True)

    def _on_timer(self) -> None:
        with self._store._lock:
            self._timer = None
            if self._store._conn is None:
                return
            try:
                self.flush()
            except StoreError as exc:  # nobody to tell on a timer thread; the next append will raise
                log.warning("background flush of reply %d failed: %s", self.message_id, exc)

    def _write(self, status: str, final: bool = False) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        text = "".join(self._parts)
        with self._store.cursor(write=True) as conn:
            if final:
                cur = conn.execute(
                    "UPDATE messages SET content = ?, status = ?, meta = ? WHERE id = ?",
                    (text, status, _dump_meta(self._meta), self.message_id),
                )
                conn.execute(
                    "UPDATE conversations SET updated_at = ? WHERE id = "
                    "(SELECT conversation_id FROM messages WHERE id = ?)",
                    (time.time(), self.message_id),
                )
            else:
                cur = conn.execute(
                    "UPDATE messages SET content = ?, status = ? WHERE id = ?",
                    (text, status, self.message_id),
                )
        if cur.rowcount == 0:  # deleted under us (its conversation was deleted): keep streaming quietly
            log.debug("reply %d no longer exists; not saved", self.message_id)
        self._dirty = False
        self._last_write = time.monotonic()
