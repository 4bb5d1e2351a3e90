"""Studio revisions through the real bundled SmolLM2 on bundled_llama.cpp: stoppable, beside the chat,
and never landing on a sketch other than their own."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from seesay.app.sketch_studio import SketchStudio
from seesay.inference.engine import GenerationParams
from tests.app.sketches import open_sketch
from tests.engines import Recording

pytestmark = pytest.mark.slow
TIMEOUT_MS = 60_000
# Not a rule edit: it goes to the model. The page it asks for is ~1,100 tokens long, far more
# than the few seconds any of these tests lets the model run.
ASK = "write a tagline for the bakery"


@pytest.fixture
def studio(qtbot: Any, bundled_llama: Any) -> Iterator[tuple[SketchStudio, Recording]]:
    engine = Recording(bundled_llama)
    studio = SketchStudio(engine_provider=lambda: engine)
    qtbot.addWidget(studio)
    studio.resize(1100, 760)
    studio.show()
    yield studio, engine
    studio.close()


def _reading(qtbot: Any, engine: Recording) -> Any:
    """The revision's stream, once the model has started on it."""
    qtbot.waitUntil(
        lambda: bool(engine.streams) and engine.streams[-1].stats.prompt_tokens > 0, timeout=30_000
    )
    return engine.streams[-1]


def test_a_revision_through_the_model_can_be_stopped(
    qtbot: Any, studio: tuple[SketchStudio, Recording], tmp_path: Path
) -> None:
    view, engine = studio
    page = open_sketch(qtbot, view, tmp_path, "landing")
    started = time.perf_counter()
    assert view.revise(ASK)
    assert time.perf_counter() - started < 0.5  # the window is not kept waiting
    assert view.busy and view.stop_button.isVisible() and not view.revise_button.isVisible()
    assert view.status.text() == f"Asking the model to “{ASK}”…"
    assert view.editor.isReadOnly()
    stream = _reading(qtbot, engine)
    qtbot.wait(200)
    assert view.grab().save("/tmp/pt-studio-stop.png")

    qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    assert not view.busy and not view.stop_button.isVisible() and view.revise_button.isVisible()
    assert view.status.text() == f"Stopped the model: “{ASK}” is not applied; the page is unchanged."
    qtbot.waitUntil(lambda: stream.stats.finish_reason == "cancelled", timeout=2_000)  # the model stopped
    assert stream.stats.completion_tokens < 100
    qtbot.waitUntil(lambda: view.pool.activeThreadCount() == 0, timeout=5_000)  # and so did the task
    assert view.current_html() == page and len(view.versions) == 1
    assert not view.editor.isReadOnly()
    assert view.status.text().startswith("Stopped the model")  # the dropped result did not overwrite it


def test_the_chat_goes_on_while_the_studio_revises(
    qtbot: Any, studio: tuple[SketchStudio, Recording], tmp_path: Path, bundled_llama: Any
) -> None:
    """A typed question is answered while a revision runs on the same engine, not after it."""
    view, engine = studio
    open_sketch(qtbot, view, tmp_path, "landing")
    assert view.revise(ASK)
    revision = _reading(qtbot, engine)
    reply: list[str] = []
    chat = threading.Thread(
        target=lambda: reply.append(
            bundled_llama.stream(
                [{"role": "user", "content": "What is the capital of France?"}],
                GenerationParams(max_new_tokens=8, temperature=0.0),
            ).text()
        )
    )
    chat.start()
    qtbot.waitUntil(lambda: not chat.is_alive(), timeout=TIMEOUT_MS)
    assert reply and reply[0].strip()
    assert revision.stats.finish_reason is None and view.busy  # the revision is still going
    assert view.stop()
    qtbot.waitUntil(lambda: view.pool.activeThreadCount() == 0, timeout=5_000)


def test_a_late_result_does_not_land_on_a_new_sketch(
    qtbot: Any, studio: tuple[SketchStudio, Recording], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    view, engine = studio
    open_sketch(qtbot, view, tmp_path, "landing")
    assert view.revise(ASK)
    _reading(qtbot, engine)
    caplog.set_level(logging.INFO, logger="seesay.app.sketch_studio")
    second = open_sketch(qtbot, view, tmp_path, "form")  # opening a sketch stops the old one's revision
    qtbot.waitUntil(lambda: view.pool.activeThreadCount() == 0, timeout=TIMEOUT_MS)
    qtbot.wait(100)  # let any queued result arrive
    assert "dropped the result of a stopped task" in caplog.text
    assert view.current_html() == second and [v[0] for v in view.versions] == [second]
    assert not view.undo_button.isEnabled()
