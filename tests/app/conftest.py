"""Real windows on a real (tiny) model: helpers to build, start and wait on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import seesay.app  # noqa: F401  (applies the PySide6 work-around before any Qt call)
from seesay.app.main import build_window, create_application
from seesay.app.main_window import MainWindow


@pytest.fixture(scope="session", autouse=True)
def _shared_models_exist(shared_models: Path) -> None:
    """tests/conftest.py links each home's cache to this folder but creates it only in the
    function-scoped home fixture, after the session-scoped model fixtures need it."""
    shared_models.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session", autouse=True)
def seesay_qapp(qapp: Any) -> Any:
    """pytest-qt's QApplication with SeeSay's names, style and icon."""
    return create_application()


@pytest.fixture
def make_window(qtbot: Any, tiny_model_dir: Path) -> Iterator[Callable[..., MainWindow]]:
    """Build (and by default start) a window on the tiny model; closed after the test."""
    windows: list[MainWindow] = []  # strong references: pytest-qt only keeps weak ones

    def make(overrides: dict[str, Any] | None = None, *, start: bool = True,
             tiny: bool = True) -> MainWindow:
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
