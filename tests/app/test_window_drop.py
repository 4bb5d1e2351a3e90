"""Images dropped on the real main window: a page in the studio, or an answer in the chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from seesay.vision import evalset
from tests.app.helpers import stored, type_and_send, wait_idle, wait_ready

pytestmark = pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
_keep: list[QMimeData] = []  # events do not own their mime data


def drag_and_drop(widget: Any, path: Path) -> bool:
    """Drag enter then drop; returns whether the drag was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    _keep.append(mime)
    enter = QDragEnterEvent(
        QPoint(40, 40),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(40, 40),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return True


def inner_text(qtbot: Any, window: Any) -> str:
    box: list[Any] = []
    window.studio.preview.page().runJavaScript("document.body ? document.body.innerText : ''", 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10_000)
    return str(box[0])


@pytest.mark.slow
def test_sketch_dropped_on_window_becomes_a_rendered_page(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    sample = evalset.make("landing", "photo", seed=4)
    image = tmp_path / "wireframe.jpg"
    sample.image.save(image)
    window = make_window()
    window.resize(1280, 800)
    with qtbot.waitSignal(window.studio.pageReady, timeout=60_000):
        assert drag_and_drop(window, image)
    assert window.views.currentWidget() is window.studio
    labels = [e["text"] for e in sample.elements if e["text"]]
    qtbot.waitUntil(
        lambda: sum(lab in inner_text(qtbot, window) for lab in labels) >= 0.8 * len(labels), timeout=20_000
    )
    window.grab().save(str(tmp_path / "studio-in-window.png"))


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda p: (p / "notes.zip", (p / "notes.zip").write_text("hello")),  # documents are attached
        lambda p: (p / "folder.png", (p / "folder.png").mkdir()),
    ],
)
def test_files_neither_image_nor_document_are_refused_at_drag_enter(
    qtbot: Any, make_window: Any, tmp_path: Path, make_bad: Any
) -> None:
    bad, _ = make_bad(tmp_path)
    window = make_window(start=False)
    window.show()
    assert not drag_and_drop(window, bad)
    assert window.banner.isVisible()
    assert window.views.currentWidget() is window.chat


@pytest.mark.slow
def test_image_dropped_into_a_conversation_is_described(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    sample = evalset.make("form", "clean", seed=1)
    image = tmp_path / "signup.png"
    sample.image.save(image)
    window = make_window()
    wait_ready(qtbot, window)
    type_and_send(qtbot, window, "I will show you a sketch")
    wait_idle(qtbot, window)
    assert drag_and_drop(window, image)
    qtbot.waitUntil(lambda: len(stored(window)) == 4, timeout=30_000)
    user, answer = stored(window)[-2:]
    assert "signup.png" in user.content and user.role == "user"
    assert answer.role == "assistant" and "page sketch" in answer.content
    found = [e["text"] for e in sample.elements if e["text"] and e["text"] in answer.content]
    assert len(found) >= 0.8 * len([e for e in sample.elements if e["text"]])
    assert window.views.currentWidget() is window.chat
