"""History store: CRUD, search, migrations, the robust opener and crash safety (incl. a real kill -9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from seesay import store as store_mod
from seesay.database import sqlite3
from seesay.errors import StoreError
from seesay.store import HistoryStore, fts_query

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite3"


@pytest.fixture
def store(db: Path) -> Iterator[HistoryStore]:
    s = HistoryStore(db)
    yield s
    s.close()


def raw(path: Path) -> sqlite3.Connection:
    """A second, independent connection: what another window or process would see."""
    return sqlite3.connect(path, isolation_level=None, timeout=0.1)


def old_message(path: Path, conversation_id: int, role: str, content: str) -> int:
    """A message as SeeSay saved it before conversations had branches."""
    with closing(raw(path)) as conn:
        cur = conn.execute(
            "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?, ?, ?, ?)",
            (conversation_id, role, content, time.time()),
        )
        return int(cur.lastrowid or 0)


def content_on_disk(path: Path, message_id: int) -> str:
    with closing(raw(path)) as conn:
        return conn.execute("SELECT content FROM messages WHERE id = ?", (message_id,)).fetchone()[0]


# --- CRUD ----------------------------------------------------------------------------------------
def test_conversation_crud(store: HistoryStore) -> None:
    a = store.create_conversation("First")
    b = store.create_conversation()
    assert [c.id for c in store.list_conversations()] == [b, a]
    assert store.get_conversation(b).title == "New chat"
    store.add_message(a, "user", "hello")  # bumps a to the top
    assert [c.id for c in store.list_conversations()] == [a, b]
    store.rename_conversation(a, "  Renamed \n chat ")
    assert store.get_conversation(a).title == "Renamed chat"
    with pytest.raises(StoreError, match="cannot be empty"):
        store.rename_conversation(a, "   ")
    with pytest.raises(StoreError, match="no longer exists"):
        store.rename_conversation(999, "x")
    store.delete_conversation(a)
    assert [c.id for c in store.list_conversations()] == [b]
    assert store.messages(a) == []
    with pytest.raises(StoreError, match="no longer exists"):
        store.get_conversation(a)
    with pytest.raises(StoreError, match="no longer exists"):
        store.add_message(a, "user", "orphan")


def test_messages_roundtrip_and_regenerate(store: HistoryStore) -> None:
    cid = store.create_conversation("c")
    m1 = store.add_message(cid, "user", "question", meta={"image": "a.png"})
    m2 = store.add_message(cid, "assistant", "answer", status="error", meta={"model": "smol"})
    m3 = store.add_message(cid, "user", "again")
    msgs = store.messages(cid)
    assert [(m.id, m.role, m.content, m.status) for m in msgs] == [
        (m1, "user", "question", "complete"),
        (m2, "assistant", "answer", "error"),
        (m3, "user", "again", "complete"),
    ]
    assert msgs[0].meta == {"image": "a.png"} and msgs[1].meta == {"model": "smol"}
    with pytest.raises(StoreError, match="status"):
        store.add_message(cid, "user", "x", status="bogus")
    store.delete_messages_after(cid, m2)
    assert [m.id for m in store.messages(cid)] == [m1]
    new = store.add_message(cid, "assistant", "fresh")
    assert new > m3, "ids are never reused, so a stale writer cannot overwrite a new message"


# --- branches ------------------------------------------------------------------------------------
def _contents(store: HistoryStore, cid: int) -> list[str]:
    return [m.content for m in store.messages(cid)]


def test_an_answer_again_is_an_alternative_and_nothing_is_lost(store: HistoryStore) -> None:
    cid = store.create_conversation("c")
    q = store.add_message(cid, "user", "question")
    a1 = store.add_message(cid, "assistant", "first answer")
    store.continue_from(cid, q)  # what regenerate does
    assert _contents(store, cid) == ["question"]
    a2 = store.add_message(cid, "assistant", "second answer")
    path = store.messages(cid)
    assert _contents(store, cid) == ["question", "second answer"]
    assert path[1].alternatives == (a1, a2) and path[1].parent_id == q
    assert [m.content for m in store.siblings(a1)] == ["first answer", "second answer"]
    store.show(a1)
    assert _contents(store, cid) == ["question", "first answer"]
    assert store.messages(cid)[1].alternatives == (a1, a2)


def test_switching_back_shows_the_branch_as_it_was_left(store: HistoryStore) -> None:
    cid = store.create_conversation("c")
    q1 = store.add_message(cid, "user", "q1")
    store.add_message(cid, "assistant", "a1")
    store.add_message(cid, "user", "q2 old")
    old_reply = store.add_message(cid, "assistant", "a2 old")
    store.add_message(cid, "user", "q3 old")
    assert _contents(store, cid)[-1] == "q3 old"
    a1 = store.messages(cid)[1].id
    store.continue_from(cid, q1)
    b1 = store.add_message(cid, "assistant", "b1")
    store.add_message(cid, "user", "q2 new")
    assert _contents(store, cid) == ["q1", "b1", "q2 new"]
    store.show(a1)  # back to the first answer: its own continuation comes back with it
    assert _contents(store, cid) == ["q1", "a1", "q2 old", "a2 old", "q3 old"]
    store.show(b1)
    assert _contents(store, cid) == ["q1", "b1", "q2 new"]
    store.show(old_reply)  # deep in the other branch: every message above it switches too
    assert _contents(store, cid) == ["q1", "a1", "q2 old", "a2 old", "q3 old"]
    store.add_message(cid, "assistant", "continues from what is shown")
    assert _contents(store, cid)[-2:] == ["q3 old", "continues from what is shown"]


def test_an_edited_first_message_is_an_alternative_root(store: HistoryStore) -> None:
    cid = store.create_conversation("c")
    first = store.add_message(cid, "user", "hello")
    store.add_message(cid, "assistant", "hi")
    store.continue_from(cid, None)
    assert store.messages(cid) == []
    edited = store.add_message(cid, "user", "hello again")
    path = store.messages(cid)
    assert [m.content for m in path] == ["hello again"]
    assert path[0].parent_id is None and path[0].alternatives == (first, edited)
    store.show(first)
    assert _contents(store, cid) == ["hello", "hi"]


def test_branch_operations_refuse_what_is_not_there(store: HistoryStore) -> None:
    a = store.create_conversation("a")
    b = store.create_conversation("b")
    in_b = store.add_message(b, "user", "elsewhere")
    with pytest.raises(StoreError, match="no longer exists"):
        store.show(12345)
    with pytest.raises(StoreError, match="no longer exists"):
        store.siblings(12345)
    with pytest.raises(StoreError, match="no longer exists"):
        store.continue_from(a, in_b)  # a message of another conversation
    store.delete_conversation(b)
    with pytest.raises(StoreError, match="no longer exists"):
        store.show(in_b)


def test_search_finds_text_in_a_branch_not_shown(store: HistoryStore) -> None:
    cid = store.create_conversation("Trip")
    q = store.add_message(cid, "user", "Where should we go?")
    hidden = store.add_message(cid, "assistant", "Try the lighthouse at Penmon.")
    store.continue_from(cid, q)
    shown = store.add_message(cid, "assistant", "The harbour is nice.")
    assert _contents(store, cid)[-1] == "The harbour is nice."
    assert [c.id for c in store.list_conversations("lighthouse")] == [cid]
    hits = store.search("penmon")
    assert [(h.conversation_id, h.message_id) for h in hits] == [(cid, hidden)]
    assert "«Penmon»" in hits[0].snippet
    assert store.search("trip")[0].message_id is None  # a title hit names no message
    assert store.find_message(cid, "lighthouse") == hidden
    assert store.find_message(cid, "harbour") == shown
    assert store.find_message(cid, "nowhere") is None
    store.show(hidden)
    assert _contents(store, cid)[-1] == "Try the lighthouse at Penmon."


def test_search_prefers_the_match_on_the_path_shown(store: HistoryStore) -> None:
    cid = store.create_conversation("c")
    q = store.add_message(cid, "user", "pick a colour")
    other = store.add_message(cid, "assistant", "colour colour colour: blue")
    store.continue_from(cid, q)
    store.add_message(cid, "assistant", "green")
    assert store.find_message(cid, "colour") == q  # on the path, though the other ranks higher
    store.show(other)
    assert store.find_message(cid, "green") is not None


def test_branches_survive_reopening(db: Path) -> None:
    with HistoryStore(db) as s:
        cid = s.create_conversation("c")
        q = s.add_message(cid, "user", "q")
        a1 = s.add_message(cid, "assistant", "one")
        s.continue_from(cid, q)
        a2 = s.add_message(cid, "assistant", "two")
        s.continue_from(cid, q)
        w = s.begin_reply(cid)
        w.append("three")
        w.finish()
        s.show(a2)
    with HistoryStore(db) as s:
        path = s.messages(cid)
        assert [m.content for m in path] == ["q", "two"]
        assert path[1].alternatives == (a1, a2, w.message_id)


# --- search --------------------------------------------------------------------------------------
def test_search_and_filter(store: HistoryStore) -> None:
    py = store.create_conversation("Python lists")
    store.add_message(py, "user", "How do I sort a list of dictionaries by key?")
    cafe = store.create_conversation("Weekend")
    store.add_message(cafe, "assistant", "The café on the corner opens at nine.")
    store.create_conversation("Empty")
    assert [c.id for c in store.list_conversations("pyth")] == [py]  # prefix while typing
    assert [c.id for c in store.list_conversations("sort dictionaries")] == [py]
    assert [c.id for c in store.list_conversations("cafe")] == [cafe]  # diacritics folded
    assert store.list_conversations("nothing-like-this") == []
    hits = store.search("dictionaries")
    assert [(h.conversation_id, h.title) for h in hits] == [(py, "Python lists")]
    assert "«dictionaries»" in hits[0].snippet
    assert [h.conversation_id for h in store.search("weekend")] == [cafe]  # title-only hit
    store.rename_conversation(cafe, "Coffee plans")
    assert store.list_conversations("weekend") == []
    assert [c.id for c in store.list_conversations("coffee")] == [cafe]
    store.delete_conversation(py)
    assert store.search("dictionaries") == []
    with closing(raw(store.path)) as conn:  # the external-content indexes match their tables
        conn.execute("INSERT INTO message_fts(message_fts) VALUES ('integrity-check')")
        conn.execute("INSERT INTO conversation_fts(conversation_fts) VALUES ('integrity-check')")


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "*",
        "-",
        "(",
        ")",
        'say "hi',
        "foo*bar",
        "-x",
        "NOT",
        "a AND",
        "OR (",
        "NEAR(a b)",
        "col:val",
        "'",
        "\\",
        "^start",
        "+",
        "{a}",
        "  ",
        '"""',
        "ünï côdé",
        "c++",
    ],
)
def test_awkward_queries_never_raise(store: HistoryStore, query: str) -> None:
    cid = store.create_conversation("say hi")
    store.add_message(cid, "user", 'she said "hi" to col:val and c++ (NOT really)')
    assert isinstance(store.list_conversations(query), list)
    assert isinstance(store.search(query), list)


def test_fts_query_quotes_and_prefixes() -> None:
    assert fts_query('say "hi') == '"say" """hi"*'
    assert fts_query("- * (") == ""
    assert fts_query("sort dic") == '"sort" "dic"*'
    assert fts_query("(a) -b") == '"(a)" "-b"*'  # FTS5 syntax inside quotes is literal text


# --- schema --------------------------------------------------------------------------------------
def test_fresh_schema_version_and_wal(store: HistoryStore) -> None:
    with closing(raw(store.path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store_mod.MIGRATIONS) == 3
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_forward_migration_is_applied_once(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HistoryStore(db) as s:
        cid = s.create_conversation("kept")
        s.add_message(cid, "user", "still here")
    step = ("ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0",)
    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, step])
    for _ in range(2):  # a second open must not re-run the new step (ALTER would fail)
        with HistoryStore(db) as s:
            assert s.messages(cid)[0].content == "still here"
    with closing(raw(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store_mod.MIGRATIONS)
        assert conn.execute("SELECT pinned FROM conversations").fetchone()[0] == 0


def test_a_history_from_before_the_library_gains_it(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:1])
        with HistoryStore(db) as s:
            cid = s.create_conversation("older")
        old_message(db, cid, "user", "from schema 1")
    with HistoryStore(db) as s:
        assert s.messages(cid)[0].content == "from schema 1"
        with s.cursor() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == len(store_mod.MIGRATIONS)
            assert conn.execute("SELECT COUNT(*) FROM doc_chunk_vectors").fetchone()[0] == 0


def test_a_flat_history_becomes_one_branch(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:2])
        with HistoryStore(db) as s:
            a = s.create_conversation("a")
            b = s.create_conversation("b")
        ids = [
            old_message(db, cid, role, f"{role} {cid} {n}")
            for n in range(2)
            for cid in (a, b)
            for role in ("user", "assistant")
        ]
        old_message(db, a, "user", "interleaved ids")
        with closing(raw(db)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    with HistoryStore(db) as s:
        for cid in (a, b):
            path = s.messages(cid)
            assert [m.content for m in path][:4] == [
                f"{role} {cid} {n}" for n in range(2) for role in ("user", "assistant")
            ]
            assert [m.parent_id for m in path] == [None, *(m.id for m in path[:-1])]
            assert all(m.alternatives == (m.id,) for m in path)
        assert len(s.messages(a)) == 5 and {m.id for m in s.messages(b)} < set(ids)
        new = s.add_message(b, "user", "continues the chain")
        assert s.messages(b)[-1].id == new and s.messages(b)[-1].parent_id == s.messages(b)[-2].id
        with s.cursor() as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 3


def test_newer_schema_opens_read_only(db: Path) -> None:
    with HistoryStore(db) as s:
        cid = s.create_conversation("from the future")
    with closing(raw(db)) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError):
        HistoryStore(db)
    with HistoryStore.open(db) as s:
        assert s.read_only and s.notice == store_mod.TOO_NEW_NOTICE
        assert s.get_conversation(cid).title == "from the future"
        with pytest.raises(StoreError, match="read-only"):
            s.create_conversation()
    with closing(raw(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


# --- streaming replies ---------------------------------------------------------------------------
def test_reply_writer_flush_interval(store: HistoryStore) -> None:
    cid = store.create_conversation()
    w = store.begin_reply(cid, meta={"model": "m"}, flush_interval=0.3)
    before = store.get_conversation(cid).updated_at
    assert store.messages(cid)[0].status == "streaming"
    writes: list[str] = []
    store._conn.set_trace_callback(  # type: ignore[union-attr]
        lambda sql: writes.append(sql) if sql == "BEGIN IMMEDIATE" else None
    )  # one per write
    w.append("a")
    assert content_on_disk(store.path, w.message_id) == ""  # too soon: only buffered
    started = time.monotonic()
    while time.monotonic() - started < 1.2:  # 10 ms tokens for 1.2 s
        w.append(".")
        on_disk = content_on_disk(store.path, w.message_id)
        assert len(w.text) - len(on_disk) <= 0.3 / 0.01 + 10, "disk lags more than one interval"
        time.sleep(0.01)
    assert 3 <= len(writes) <= 6, writes  # one write per interval, not one per token
    w.append("c")
    time.sleep(0.5)  # no more tokens: the stall timer still gets "c" to disk
    assert content_on_disk(store.path, w.message_id) == w.text
    w.append("d")
    w.flush()
    assert content_on_disk(store.path, w.message_id).endswith("cd")
    w.finish(meta={"tokens": 4})
    w.append("ignored")  # a late delta after finish must not crash the worker
    msg = store.messages(cid)[0]
    assert (msg.content, msg.status, msg.meta) == (w.text, "complete", {"model": "m", "tokens": 4})
    assert msg.content.startswith("a.") and msg.content.endswith("cd")
    assert store.get_conversation(cid).updated_at >= before


def test_writer_survives_its_message_being_deleted(store: HistoryStore) -> None:
    cid = store.create_conversation()
    w = store.begin_reply(cid, flush_interval=0)
    store.delete_messages_after(cid, w.message_id)
    w.append("x")
    w.finish()
    assert store.messages(cid) == []


def test_close_saves_open_reply_as_interrupted(db: Path) -> None:
    s = HistoryStore(db)
    cid = s.create_conversation()
    w = s.begin_reply(cid, flush_interval=60)
    w.append("partial")
    s.close()
    with HistoryStore(db) as s2:
        assert [(m.content, m.status) for m in s2.messages(cid)] == [("partial", "interrupted")]


def test_streaming_leftovers_marked_interrupted_on_open(db: Path) -> None:
    with HistoryStore(db) as s:
        cid = s.create_conversation()
        s.add_message(cid, "assistant", "half a rep", status="streaming")
    with HistoryStore.open(db) as s:
        assert s.notice is None and s.messages(cid)[0].status == "interrupted"


def test_writer_thread_while_gui_thread_reads(store: HistoryStore) -> None:
    cid = store.create_conversation("threads")
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            w = store.begin_reply(cid, flush_interval=0)
            for i in range(300):
                w.append(f"{i},")
            w.finish()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    while t.is_alive():
        assert store.list_conversations("threads")[0].id == cid
        store.messages(cid)
        store.search("threads")
    t.join()
    assert not errors
    assert store.messages(cid)[0].content == "".join(f"{i}," for i in range(300))


# --- the robust opener ---------------------------------------------------------------------------
def test_read_only_store_refuses_writes(db: Path) -> None:
    with HistoryStore(db) as s:
        cid = s.create_conversation()
    with HistoryStore(db, read_only=True) as ro:
        assert ro.list_conversations()[0].id == cid
        for write in (
            lambda: ro.create_conversation(),
            lambda: ro.add_message(cid, "user", "x"),
            lambda: ro.rename_conversation(cid, "y"),
            lambda: ro.begin_reply(cid),
        ):
            with pytest.raises(StoreError, match="History is open read-only"):
                write()


def test_locked_database_opens_read_only(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_S", 0.3)
    with HistoryStore(db) as s:
        cid = s.create_conversation("mine")
    other = raw(db)
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with HistoryStore.open(db) as s:
            assert time.monotonic() - started >= 0.3  # it waited for the lock first
            assert s.read_only and s.notice == store_mod.IN_USE_NOTICE
            assert s.get_conversation(cid).title == "mine"
            with pytest.raises(StoreError, match="read-only"):
                s.add_message(cid, "user", "x")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert sorted(p.name for p in db.parent.iterdir() if "corrupt" in p.name) == []  # never wiped
    with HistoryStore.open(db) as s:
        assert not s.read_only and s.get_conversation(cid).title == "mine"


def test_lock_released_within_timeout_opens_read_write(db: Path) -> None:
    HistoryStore(db).close()
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.3, lambda: other.execute("ROLLBACK")).start()
    with HistoryStore.open(db) as s:
        assert not s.read_only and s.notice is None
    other.close()


def test_garbage_file_moved_aside(db: Path) -> None:
    db.parent.mkdir(parents=True)
    garbage = b"this is not sqlite at all " * 200
    db.write_bytes(garbage)
    Path(f"{db}-wal").write_bytes(b"wal junk")
    with HistoryStore.open(db) as s:
        assert not s.read_only and s.list_conversations() == []
        moved = [p for p in db.parent.iterdir() if p.name.startswith("history.sqlite3.corrupt-")]
        main = [p for p in moved if not p.name.endswith("-wal")]
        assert len(main) == 1 and main[0].read_bytes() == garbage
        assert Path(f"{main[0]}-wal").read_bytes() == b"wal junk"
        assert s.notice and str(main[0]) in s.notice


def test_damaged_pages_moved_aside(db: Path) -> None:
    with HistoryStore(db) as s:
        cid = s.create_conversation()
        for i in range(300):
            s.add_message(cid, "user", f"message number {i} " * 10)
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[3 * page : 6 * page] = b"\xff" * (3 * page)
    db.write_bytes(bytes(data))
    with HistoryStore.open(db) as s:
        assert s.notice and "moved" in s.notice and s.list_conversations() == []
    moved = [p for p in db.parent.iterdir() if ".corrupt-" in p.name]
    assert len(moved) == 1 and moved[0].read_bytes() == bytes(data)


def test_data_dir_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="history folder"):
        HistoryStore.open(blocker / "data" / "history.sqlite3")


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores permissions")
def test_data_dir_without_write_permission(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="not writable"):
            HistoryStore.open(folder / "history.sqlite3")
    finally:
        folder.chmod(0o700)


def test_default_path_is_in_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEESAY_HOME", str(tmp_path))
    with HistoryStore.open() as s:
        assert s.path == tmp_path / "data" / "history.sqlite3" and s.path.exists()


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_user_data_is_private_whatever_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from seesay.config import ServerSettings, persist
    from seesay.server.security import load_or_create_key

    monkeypatch.setenv("SEESAY_HOME", str(tmp_path))
    old = os.umask(0o022)
    try:
        with HistoryStore.open() as s:
            s.add_message(s.create_conversation("private"), "user", "my secret")
            wal = Path(f"{s.path}-wal")
            assert wal.exists()
            assert (_mode(s.path.parent), _mode(s.path), _mode(wal)) == (0o700, 0o600, 0o600)
        config = persist({"chat.system_prompt": "hush"})
        key = Path(load_or_create_key(ServerSettings(), env={}).source)
        assert (_mode(config.parent), _mode(config), _mode(key)) == (0o700, 0o600, 0o600)
    finally:
        os.umask(old)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_history_left_readable_is_tightened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEESAY_HOME", str(tmp_path))
    with HistoryStore.open() as s:
        s.create_conversation("older version")
        path = s.path
    path.parent.chmod(0o755)
    path.chmod(0o644)
    with HistoryStore.open() as s:
        assert [c.title for c in s.list_conversations()] == ["older version"]
    assert (_mode(path.parent), _mode(path)) == (0o700, 0o600)


# --- kill -9 mid-reply ---------------------------------------------------------------------------
CHILD = r"""
import sys, time
from pathlib import Path
from seesay.store import HistoryStore
store = HistoryStore(Path(sys.argv[1]))
writer = store.begin_reply(store.create_conversation("kill -9"))
print("ready", writer.message_id, flush=True)
i = 0
while True:
    writer.append(f"tok{i} ")
    i += 1
    print(i, time.time(), flush=True)
    time.sleep(0.02)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_kill_9_mid_reply_loses_at_most_a_second(db: Path) -> None:
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": pythonpath},
    )
    assert proc.stdout is not None
    try:
        ready = proc.stdout.readline().split()
        assert ready[:1] == ["ready"], ready
        message_id = int(ready[1])
        reports: list[tuple[int, float]] = []  # (tokens appended, child's wall clock then)

        def read() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                count, stamp = line.split()
                reports.append((int(count), float(stamp)))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + 10
        while not reports or reports[-1][1] - reports[0][1] < 2.5:
            assert time.monotonic() < deadline and proc.poll() is None, "child stalled or died"
            time.sleep(0.01)
        count_at_kill = reports[-1][0]
        proc.send_signal(signal.SIGKILL)
        killed_at = time.time()
    finally:
        proc.kill()
        proc.wait(5)
    reader.join(5)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    with closing(raw(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        row = conn.execute("SELECT content, status FROM messages WHERE id = ?", (message_id,)).fetchone()
    assert row is not None
    content, status = row
    assert status == "streaming"
    final = reports[-1][0]
    expected = "".join(f"tok{i} " for i in range(final + 2))
    assert expected.startswith(content)
    saved = len(content.split())
    must_have = max((n for n, t in reports if t <= killed_at - 1.0), default=0)
    assert must_have > 20 and saved >= must_have, (saved, must_have, count_at_kill)
    assert count_at_kill - saved <= 60  # at most ~1 s of 20 ms tokens lost

    with HistoryStore.open(db) as s:
        assert s.notice is None
        msg = s.messages(s.list_conversations()[0].id)[0]
        assert msg.id == message_id and msg.status == "interrupted" and msg.content == content
