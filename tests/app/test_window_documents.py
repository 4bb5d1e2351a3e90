"""Documents in the real window: files attached to a message (paste, drop, chips), how much
the model saw, long files read without freezing the window, unreadable files, and the
sources a reply cites."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, Qt, QTimer, QUrl
from PySide6.QtWidgets import QApplication

from seesay.app.attachments import AttachmentChip
from seesay.app.message_widget import MessageWidget
from seesay.app.sources import PassageDialog
from seesay.docs.grounding import NOTHING_FOUND, Source
from tests.app.helpers import stored, type_and_send, wait_idle, wait_ready
from tests.app.test_window_drop import drag_and_drop
from tests.docs import files

pytestmark = pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
READ_TIMEOUT_MS = 120_000
SHOTS = Path("/tmp/seesay-docs-shots")


def shot(widget: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    widget.grab().save(str(path))
    return path


def paste_files(qtbot: Any, window: Any, paths: list[Path]) -> None:
    """Copy the files' URLs to the clipboard and press Ctrl+V in the prompt box."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    QApplication.clipboard().setMimeData(mime)
    window.chat.composer.edit.setFocus()
    qtbot.keyClick(window.chat.composer.edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    QApplication.clipboard().clear()  # the clipboard owns the data: not left for the app's exit


def wait_read(qtbot: Any, window: Any, timeout: int = READ_TIMEOUT_MS) -> list[AttachmentChip]:
    tray = window.chat.attachments
    qtbot.waitUntil(lambda: tray.chips() and not tray.busy, timeout=timeout)
    return tray.chips()


def test_short_file_pasted_is_read_whole_sent_shown_and_kept(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    note = tmp_path / "parking.md"
    note.write_text("Visitors park on level -2; the code for the barrier is 4471.")
    window = make_window()
    window.resize(1100, 760)
    wait_ready(qtbot, window)
    paste_files(qtbot, window, [note])
    assert window.chat.composer.text() == ""  # attached, not typed in as a path
    (chip,) = wait_read(qtbot, window)
    assert chip.state == "ready" and chip.name.text() == "parking.md"
    assert chip.detail.text() == "all 60 characters read"
    assert window.chat.composer.send_button.isEnabled()
    shot(window, "attached-short-file")
    type_and_send(qtbot, window, "Where do visitors park?")
    assert window.chat.attachments.chips() == []  # the chips go with the message
    wait_idle(qtbot, window)
    user = window.chat.view.widgets()[0]
    assert user.attached is not None and "parking.md: all 60 characters read" in user.attached.text()
    # What the model is given: the file's text fenced before the question.
    asked = window.chat.session.history()[0]["content"]
    assert asked.index("code for the barrier is 4471") < asked.index("Where do visitors park?")
    saved = stored(window)[0]
    assert saved.content == "Where do visitors park?"
    assert saved.meta["attachments"][0]["name"] == "parking.md" and saved.meta["attachments"][0]["whole"]
    shot(window, "sent-with-attachment")
    conversation = window.chat.conversation_id
    window.new_chat()
    window.chat.open_conversation(conversation)  # drawn again from the saved meta
    again = window.chat.view.widgets()[0]
    assert again.attached is not None and "all 60 characters read" in again.attached.text()


def test_long_pdf_is_read_while_the_window_keeps_running_then_searched(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    pages = [
        f"Unit {n} inspection notes. The filters of unit {n} were checked and the belts of unit {n} "
        f"were tightened. Readings for unit {n} were within limits on floor {n % 7}."
        for n in range(1, 201)
    ]
    pages[136] = "Emergency generator. The emergency generator is load-tested every second Tuesday at 06:30."
    manual = files.pdf(tmp_path / "plant-manual.pdf", pages)
    window = make_window()
    window.resize(1100, 760)
    wait_ready(qtbot, window)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    started = time.perf_counter()
    window.chat.attach_files([manual])
    assert time.perf_counter() - started < 0.2  # the call returns at once; reading is elsewhere
    chip = window.chat.attachments.chips()[0]
    assert chip.state == "reading" and chip.busy.isVisible()
    shown: set[str] = set()
    timer.timeout.connect(lambda: shown.add(chip.detail.text()) if chip.state == "reading" else None)
    assert not window.chat.composer.send_button.isEnabled()  # Send waits for the file
    qtbot.keyClicks(window.chat.composer.edit, "When is the generator tested?")
    qtbot.keyClick(window.chat.composer.edit, Qt.Key.Key_Return)
    assert window.chat.view.widgets() == [] and chip.state == "reading"  # not sent while reading
    shot(window, "attaching-long-pdf")
    wait_read(qtbot, window)
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 10 and max(gaps) < 0.5, f"longest stall {max(gaps):.2f} s over {len(ticks)} ticks"
    assert chip.state == "ready", chip.error
    assert any(t.startswith("Indexing for search: ") for t in shown), shown  # how far it has come
    assert chip.detail.text().startswith("200 pages,") and "searched for each question" in chip.detail.text()
    assert window.chat.composer.send_button.isEnabled()
    window.chat.composer.send_button.click()
    wait_idle(qtbot, window)
    reply = stored(window)[-1]
    sources = [Source.from_meta(s) for s in reply.meta["sources"]]
    assert sources[0].page == 137 and "second Tuesday" in sources[0].text
    widget = window.chat.view.widgets()[-1]
    assert widget.sources is not None
    assert widget.sources.labels()[0].startswith("[1] plant-manual.pdf p. 137")
    shot(window, "reply-with-sources")


def test_unreadable_files_say_why_and_the_window_keeps_working(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    good = files.pdf(tmp_path / "good.pdf", ["Quarterly numbers."])
    locked = files.encrypted_pdf(tmp_path / "salaries.pdf", good)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    odd = tmp_path / "archive.zip"
    odd.write_bytes(b"PK\x03\x04 not really")
    window = make_window()
    window.resize(1100, 760)
    wait_ready(qtbot, window)
    window.chat.attach_files([locked, broken, empty, odd])
    chips = wait_read(qtbot, window)
    reasons = {c.path.name: c.detail.text() for c in chips}
    assert all(c.state == "failed" for c in chips), reasons
    assert "salaries.pdf is password-protected" in reasons["salaries.pdf"]
    assert "broken.pdf is damaged or not a PDF" in reasons["broken.pdf"]
    assert "empty.txt is empty (0 bytes)" in reasons["empty.txt"]
    assert "archive.zip is a .zip file, which SeeSay cannot read" in reasons["archive.zip"]
    shot(window, "unreadable-files")
    chips[0].remove_button.click()
    assert len(window.chat.attachments.chips()) == 3
    assert window.chat.composer.send_button.isEnabled()  # refused files do not hold the message
    type_and_send(qtbot, window, "Hello")
    wait_idle(qtbot, window)
    assert [m.role for m in stored(window)] == ["user", "assistant"]
    assert "attachments" not in stored(window)[0].meta
    assert window.chat.attachments.chips() == [] and not window.chat.attachments.isVisible()


def test_dropped_document_attaches_and_an_image_still_opens_the_studio(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    report = files.docx(tmp_path / "report.docx", "Report", ["Sales rose by 12 percent in March."])
    window = make_window(start=False)
    window.resize(1100, 760)
    window.show()
    window.show_view("Sketch")
    assert drag_and_drop(window, report)
    assert window.views.currentWidget() is window.chat  # documents go to the message being written
    (chip,) = wait_read(qtbot, window, 60_000)
    assert chip.state == "ready" and "characters read" in chip.detail.text()
    image = tmp_path / "sketch.png"
    from PIL import Image

    Image.new("RGB", (64, 48), "white").save(image)
    assert drag_and_drop(window, image)
    assert window.views.currentWidget() is window.studio  # as before: a new chat opens it as a sketch
    assert len(window.chat.attachments.chips()) == 1
    qtbot.waitUntil(lambda: not window.studio.busy, timeout=60_000)  # its reading ends with the test


def test_a_citation_opens_the_passage_it_names(qtbot: Any, tmp_path: Path) -> None:
    manual = files.pdf(tmp_path / "manual.pdf", ["Intro", "Reset: hold the button for ten seconds."])
    meta = {
        "sources": [
            Source(1, str(manual), 2, "Reset", "Reset: hold the button for ten seconds.", 7).to_meta(),
            Source(2, str(tmp_path / "gone.md"), None, "", "Old text.", 8).to_meta(),
        ]
    }
    reply = MessageWidget(
        "assistant", "Hold the button for ten seconds [1]. See also [2] and `[1]`.", meta=meta
    )
    qtbot.addWidget(reply)
    reply.resize(700, 300)
    reply.show()
    assert reply.sources is not None
    assert reply.sources.labels() == ["[1] manual.pdf p. 2 · Reset", "[2] gone.md"]
    html = reply.body.toHtml()
    assert html.count('href="source:1"') == 1 and html.count('href="source:2"') == 1  # not inside code
    shot(reply, "reply-sources-list")
    reply.body.anchorClicked.emit(QUrl("source:1"))  # what a click on the "[1]" in the text sends
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, PassageDialog) and w.isVisible()]
    assert len(dialogs) == 1
    dialog = dialogs[0]
    assert dialog.text.toPlainText() == "Reset: hold the button for ten seconds."
    assert dialog.where.text() == "Page 2 · Reset" and dialog.path_label.text() == str(manual)
    assert dialog.open_button.isEnabled()
    shot(dialog, "passage-dialog")
    dialog.close()
    reply.sources.linkActivated.emit("source:2")  # the list under the reply
    second = [w for w in QApplication.topLevelWidgets() if isinstance(w, PassageDialog) and w.isVisible()]
    assert second[0].text.toPlainText() == "Old text." and not second[0].open_button.isEnabled()
    second[0].close()
    nothing = MessageWidget("assistant", NOTHING_FOUND, meta={"sources": [], "model": "m"})
    qtbot.addWidget(nothing)
    assert nothing.sources is None and "source:" not in nothing.body.toHtml()


def test_copied_file_urls_are_files_and_other_text_is_text() -> None:
    from seesay.app.attachments import local_files

    mime = QMimeData()
    mime.setText("file:///tmp/a.pdf\nfile:///tmp/b%20c.md\n")
    assert local_files(mime) == [Path("/tmp/a.pdf"), Path("/tmp/b c.md")]
    prose = QMimeData()
    prose.setText("see file:///tmp/a.pdf for details")
    assert local_files(prose) == []
