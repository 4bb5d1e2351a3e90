"""The conversation view follows new text unless the user scrolled up to read."""

from __future__ import annotations

from typing import Any

from seesay.app.chat_view import ChatView


def test_follows_the_bottom_unless_scrolled_up(qtbot: Any) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    for n in range(12):
        view.add("user" if n % 2 == 0 else "assistant", f"Message number {n}\n\nwith a second paragraph")
    qtbot.wait(20)
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()

    streaming = view.add("assistant", "", "streaming")
    streaming.set_text("A reply that grows\n\n" * 10)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() and view.following, timeout=1_000)

    bar.setValue(0)  # the user scrolls up to read
    assert not view.following
    streaming.set_text("A reply that grows\n\n" * 30)
    qtbot.wait(20)
    assert bar.value() == 0

    view.scroll_to_bottom()
    assert view.following and bar.value() == bar.maximum()
    assert [w.role for w in view.widgets()][-1] == "assistant" and not view.empty.isVisible()
    view.clear()
    assert view.widgets() == [] and view.empty.isVisibleTo(view)
