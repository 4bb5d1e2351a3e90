"""The document library in the real window: folders indexed in the background, kept in step
with the disk, searched with "Search my documents", cited under the reply, and indexing
stopped cleanly when the window closes."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from seesay.app.indexer import LibraryIndexer
from seesay.app.sources import PassageDialog
from seesay.config import load_settings
from seesay.docs.grounding import NOTHING_FOUND
from seesay.docs.library import Library
from seesay.store import HistoryStore, default_path
from tests.app.helpers import stored, type_and_send, wait_idle, wait_ready
from tests.app.test_window_documents import shot
from tests.docs import files

INDEX_TIMEOUT_MS = 180_000


def manuals(folder: Path) -> Path:
    folder.mkdir()
    (folder / "guide.md").write_text(
        "# Office guide\n\n## Backups\n\nBackups run nightly at 02:00 to the storage server in room 4.\n\n"
        "## Printers\n\nThe colour printer on the second floor needs a badge to release jobs."
    )
    files.xlsx(folder / "prices.xlsx", [["Item", "Price"], ["Desk lamp", 39], ["Office chair", 249]])
    files.pptx(
        folder / "kickoff.pptx", [("Kick-off", "The project starts on 3 March with the design review.")]
    )
    return folder


def wait_synced(qtbot: Any, indexer: LibraryIndexer, timeout: int = INDEX_TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: not indexer.busy, timeout=timeout)


def best(library: Library, question: str) -> tuple[str, str]:
    hit = library.search(question, 1)[0]
    return Path(hit.path).name, hit.text


def test_a_folder_is_indexed_in_the_background_and_kept_in_step_with_the_disk(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    folder = manuals(tmp_path / "manuals")
    window = make_window(start=False)
    window.resize(1100, 760)
    window.show()
    indexer = window.indexer
    assert indexer is not None
    indexer._debounce.setInterval(300)
    progress: list[tuple[int, int, str]] = []
    busy: list[bool] = []
    indexer.progress.connect(lambda d, t, p: progress.append((d, t, p)))
    indexer.busy_changed.connect(busy.append)
    dialog = window.open_library()
    assert dialog is not None and dialog.empty.isVisible()
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(50)
    dialog.add_folder(folder)
    assert indexer.busy and dialog.progress.isVisible()  # at once; the reading is elsewhere
    shot(dialog, "library-indexing")
    wait_synced(qtbot, indexer)
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.5, f"the window stalled {max(gaps):.2f} s"
    assert busy[0] is True and busy[-1] is False and not dialog.progress.isVisible()
    assert (0, 3, str(folder / "guide.md")) in progress and progress[-1] == (3, 3, "")
    assert dialog.folder_rows() == [
        (str(folder), "3 documents · " + dialog.folder_rows()[0][1].split(" · ")[1])
    ]
    assert dialog.status.text().startswith("Up to date: 3 files read")
    shot(dialog, "library-indexed")
    library = window.chat.library
    assert best(library, "When do backups run?")[0] == "guide.md"
    assert best(library, "How much is the office chair?")[0] == "prices.xlsx"
    assert str(folder) in indexer.watched() and str(folder / "guide.md") in indexer.watched()

    # Edited, added and deleted files are picked up without asking.
    (folder / "guide.md").write_text(
        "# Office guide\n\n## Backups\n\nBackups now run every hour, on the hour."
    )
    (folder / "visitors.txt").write_text("Visitors sign in at the front desk and wear a yellow badge.")
    (folder / "kickoff.pptx").unlink()
    qtbot.waitUntil(
        lambda: "every hour" in best(library, "When do backups run?")[1], timeout=INDEX_TIMEOUT_MS
    )
    qtbot.waitUntil(
        lambda: (
            sorted(Path(p).name for p, _n, _e in library.documents())
            == ["guide.md", "prices.xlsx", "visitors.txt"]
        ),
        timeout=INDEX_TIMEOUT_MS,
    )
    wait_synced(qtbot, indexer)
    assert dialog.folder_rows()[0][1].startswith("3 documents")

    # Removing forgets the folder and its passages; the files stay.
    dialog.tree.topLevelItem(0).setSelected(True)
    assert dialog.remove_button.isEnabled()
    dialog.remove_button.click()
    qtbot.waitUntil(lambda: dialog.folder_rows() == [], timeout=30_000)
    wait_synced(qtbot, indexer)
    assert library.folders() == [] and library.documents() == []
    assert library.search("When do backups run?", 3) == []
    assert (folder / "guide.md").exists() and dialog.empty.isVisible()


def test_search_my_documents_is_saved_and_replies_cite_the_passages(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    folder = manuals(tmp_path / "manuals")
    window = make_window()
    window.resize(1100, 760)
    wait_ready(qtbot, window)
    assert window.indexer is not None
    window.indexer.add_folder(folder)
    wait_synced(qtbot, window.indexer)
    toggle = window.chat.search_docs
    assert not toggle.isChecked() and not window.chat.session.use_library
    toggle.click()
    assert window.chat.session.use_library and window.search_docs_action.isChecked()
    assert load_settings().docs.search_library  # saved like any setting
    type_and_send(qtbot, window, "When do the backups run?")
    wait_idle(qtbot, window)
    reply = window.chat.view.widgets()[-1]
    assert reply.sources is not None
    assert reply.sources.labels()[0] == "[1] guide.md · Office guide › Backups"
    assert stored(window)[-1].meta["sources"][0]["n"] == 1
    shot(window, "reply-cites-library")
    reply.sources.linkActivated.emit("source:1")
    (dialog,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, PassageDialog) and w.isVisible()]
    assert "Backups run nightly at 02:00" in dialog.text.toPlainText()
    assert dialog.path_label.text() == str((folder / "guide.md").resolve())
    dialog.close()
    type_and_send(qtbot, window, "Who won the football world cup in 1966?")
    wait_idle(qtbot, window)
    unrelated = window.chat.view.widgets()[-1]
    assert unrelated.text == NOTHING_FOUND and unrelated.sources is None
    # The menu's switch is the same setting; a new conversation keeps it.
    window.search_docs_action.trigger()
    assert not toggle.isChecked() and not window.chat.session.use_library
    assert not load_settings().docs.search_library
    window.new_chat()
    assert not window.chat.session.use_library


def test_the_library_syncs_at_startup_and_closing_stops_indexing_cleanly(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for n in range(40):
        body = "\n\n".join(
            f"Note {n}.{k}: the meeting about topic {n * 10 + k} is in room {k}." for k in range(30)
        )
        (folder / f"note-{n:02}.md").write_text(f"# Notes {n}\n\n{body}")
    store = HistoryStore(default_path())
    Library(store).add_folder(folder)  # added while SeeSay was closed, not read yet
    store.close()
    window = make_window()
    indexer = window.indexer
    assert indexer is not None
    seen: list[int] = []
    indexer.progress.connect(lambda done, _total, _path: seen.append(done))
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=INDEX_TIMEOUT_MS)  # started by itself
    thread = indexer._thread
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 15
    assert thread is not None and not thread.is_alive()
    with HistoryStore(default_path()) as again:
        documents = Library(again).documents()
    assert 1 <= len(documents) < 40  # stopped part way, at a file boundary
    assert all(count > 0 and not error for _path, count, error in documents)
