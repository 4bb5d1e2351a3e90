"""The library in the history's database: folders indexed, kept in step with the disk, searched
by keywords and meaning, and whole after a kill -9 in the middle of indexing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from seesay.database import sqlite3
from seesay.docs.library import Hit, Library, _diverse, match_any
from seesay.errors import InputError
from seesay.inference.embeddings import DIMENSIONS
from seesay.store import HistoryStore
from tests.docs import files

NOTES = {
    "garden.md": "# Garden\n\nTomatoes need six hours of direct sun and deep watering twice a week.",
    "car.txt": "The car's tyre pressure should be 2.4 bar at the front and 2.2 bar at the rear.",
    "kitchen.md": "# Kitchen\n\nThe dishwasher filter is cleaned monthly: twist it out and rinse it.",
}


def make_folder(root: Path) -> Path:
    root.mkdir()
    for name, text in NOTES.items():
        (root / name).write_text(text)
    (root / ".hidden.md").write_text("secret sun tomatoes")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "x.md").write_text("tomatoes sun")
    return root


def counts(store: HistoryStore) -> tuple[int, int, int, int]:
    with store.cursor() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("documents", "doc_chunks", "doc_chunk_vectors", "doc_chunk_fts")
        )


def test_add_search_change_remove(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3")
    library = Library(store)
    folder = library.add_folder(make_folder(tmp_path / "notes"))
    report = library.sync()
    assert (report.indexed, report.failed) == (3, [])
    assert counts(store) == (3, 3, 3, 3)
    hits = library.search("how much sunlight do my tomato plants want?", k=2)
    assert Path(hits[0].path).name == "garden.md" and hits[0].similarity > 0.4
    assert Path(library.search("2.4 bar", k=1)[0].path).name == "car.txt"  # a number: the keywords find it

    again = library.sync()
    assert (again.indexed, again.unchanged) == (0, 3)
    time.sleep(0.01)
    (folder / "car.txt").write_text("The bicycle chain is oiled every 300 km.")
    (folder / "garden.md").unlink()
    changed = library.sync()
    assert (changed.indexed, changed.removed, changed.unchanged) == (1, 1, 1)
    assert Path(library.search("how often should I lubricate the bike chain?", k=1)[0].path).name == "car.txt"
    assert all(Path(h.path).name != "garden.md" for h in library.search("tomatoes", k=5))
    assert counts(store) == (2, 2, 2, 2)

    [info] = library.folders()
    assert (info.path, info.documents, info.passages, info.failed) == (str(folder), 2, 2, 0)
    library.remove_folder(folder)
    assert counts(store) == (0, 0, 0, 0) and library.folders() == []
    with pytest.raises(InputError, match="not in the library"):
        library.remove_folder(folder)


def test_unreadable_files_are_reported_once(tmp_path: Path) -> None:
    library = Library(HistoryStore(tmp_path / "history.sqlite3"))
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "fine.md").write_text("A fine note about llamas.")
    library.add_folder(folder)
    report = library.sync()
    assert report.indexed == 1
    assert [(Path(p).name, r) for p, r in report.failed] == [("empty.txt", "empty.txt is empty (0 bytes).")]
    assert library.sync().failed == []  # remembered: not retried until it changes
    assert library.folders()[0].failed == 1
    (folder / "empty.txt").write_text("Now it has words about alpacas.")
    assert library.sync().indexed == 1 and library.folders()[0].failed == 0


def test_bad_folders(tmp_path: Path) -> None:
    library = Library(HistoryStore(tmp_path / "history.sqlite3"))
    with pytest.raises(InputError, match="does not exist"):
        library.add_folder(tmp_path / "nowhere")
    with pytest.raises(InputError, match="empty"):
        library.search("   ")
    assert library.search("anything at all") == []


def test_search_within_files_only(tmp_path: Path) -> None:
    library = Library(HistoryStore(tmp_path / "history.sqlite3"))
    folder = make_folder(tmp_path / "notes")
    library.add_folder(folder)
    library.sync()
    hits = library.search("tomatoes", k=5, paths=[str(folder / "kitchen.md")])
    assert {Path(h.path).name for h in hits} == {"kitchen.md"}


def test_keyword_query_is_never_a_syntax_error() -> None:
    assert match_any('what is "NEAR(a b)" AND * - ( the') == '"near" OR "a" OR "b"'.replace('"a" OR ', "")
    assert match_any("the of and") == ""


@pytest.mark.slow
def test_kill_during_indexing_leaves_a_sound_index_that_resumes(tmp_path: Path) -> None:
    folder = tmp_path / "manuals"
    folder.mkdir()
    for n in range(12):
        page = " ".join(
            f"Machine {n} step {s}: tighten bolt {s} to {s + n} newton metres." for s in range(30)
        )
        files.pdf(folder / f"manual-{n:02}.pdf", [page] * 2)
    env = {**os.environ, "SEESAY_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "seesay", "docs", "add", str(folder)]
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = tmp_path / "home" / "data" / "history.sqlite3"
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and child.poll() is None:
        if db.exists():
            probe = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
            try:
                done = probe.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            except sqlite3.Error:
                done = 0
            finally:
                probe.close()
        if done >= 3:
            break
        time.sleep(0.05)
    assert child.poll() is None, "indexing ended before it could be interrupted"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert 3 <= done < 12

    store = HistoryStore(db)
    with store.cursor() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        indexed = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks, vectors = (
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("doc_chunks", "doc_chunk_vectors")
        )
    assert chunks == vectors  # no file half-written: every passage has its vector
    report = Library(store).sync()
    assert report.indexed == 12 - indexed and report.unchanged == indexed and report.failed == []
    assert Library(store).folders()[0].documents == 12


def test_the_sources_are_different_places_not_one_paragraph_repeated() -> None:
    """A paragraph found in three files would fill the sources three times over; a second place
    that answers about as well is shown instead of the copies, and a worse one is not."""
    copy, elsewhere = np.eye(DIMENSIONS, dtype=np.float32)[:2]
    vectors = np.stack([copy, copy, copy, elsewhere])

    def hits(other_score: float) -> list[Hit]:
        scores = [0.80, 0.80, 0.80, other_score]
        return [Hit(f"f{n}.txt", s, s, "text", None, "", n) for n, s in enumerate(scores)]

    assert [h.chunk_id for h in _diverse(hits(0.79), vectors, 2)] == [0, 3]
    assert [h.chunk_id for h in _diverse(hits(0.79), vectors, 4)] == [0, 3, 1, 2]
    assert [h.chunk_id for h in _diverse(hits(0.60), vectors, 2)] == [0, 1]
    assert _diverse([], vectors[:0], 5) == []
