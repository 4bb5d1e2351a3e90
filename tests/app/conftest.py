"""Real windows on a real (tiny) model: helpers to build, start and wait on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from seesay.app.collector import MainThreadCollector
from seesay.app.main import build_window, create_application, delete_windows
from seesay.app.main_window import MainWindow


@pytest.fixture(scope="session", autouse=True)
def seesay_qapp(qapp: Any) -> Iterator[Any]:
    """pytest-qt's QApplication with SeeSay's names, style and icon.

    At the end every window is deleted, as the app deletes its own before it exits: a web
    page still alive when the interpreter tears Qt down can crash the process after the
    last test passed.
    """
    yield create_application(collect_on_gui_thread=False)
    delete_windows(qapp)


@pytest.fixture(autouse=True)
def gui_thread_gc(seesay_qapp: Any) -> Iterator[None]:
    """As in the app, collect garbage only on the GUI thread, but only during app tests:
    the rest of the suite shares this process and needs automatic collection back."""
    collector = MainThreadCollector(parent=seesay_qapp)
    yield
    collector.uninstall()
    collector.deleteLater()


@pytest.fixture
def make_window(qtbot: Any, tiny_model_dir: Path) -> Iterator[Callable[..., MainWindow]]:
    """Build (and by default start) a window on the tiny model; closed after the test."""
    windows: list[MainWindow] = []  # strong references: pytest-qt only keeps weak ones

    def make(overrides: dict[str, Any] | None = None, *, start: bool = True, tiny: bool = True) -> MainWindow:
        merged = {"model.name": str(tiny_model_dir), "generation.max_new_tokens": 24} if tiny else {}
        merged.update(overrides or {})
        window = build_window(merged)
        qtbot.addWidget(window)
        windows.append(window)
        if start:
            window.start()
        return window

    yield make
    for window in windows:
        window.close()
