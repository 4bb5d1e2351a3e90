"""Image → page in one call: what the CLI, the bench and the studio all run.

Keeping the sequence (analyse, render, optional VLM or model polish, optional
revision) in one place means the GUI and ``seesay sketch`` cannot drift apart, and
the timings the bench reports are the ones a user experiences.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seesay.config import Settings
from seesay.vision import html as page_html
from seesay.vision.sketch import Layout, analyse_image

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class SketchResult:
    layout: Layout
    html: str
    source: str
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def sketch_to_page(
    image: Path | str | bytes,
    settings: Settings,
    *,
    engine: Any = None,
    instruction: str | None = None,
    progress: Progress | None = None,
) -> SketchResult:
    """Analyse the sketch and build its page; ``engine`` (a ChatEngine) is used only when given."""
    say = progress or (lambda _msg: None)
    say("Reading the sketch…")
    layout = analyse_image(
        image, max_pixels=settings.vision.max_image_pixels, max_side=settings.vision.max_side
    )
    timings = dict(layout.timings)
    notes = list(layout.notes)
    t = time.perf_counter()
    page = page_html.render_page(layout)
    source = "layout"
    timings["render"] = time.perf_counter() - t
    if engine is not None and settings.vision.refine_with_llm:
        say("Polishing the page…")
        t = time.perf_counter()
        result = page_html.refine(layout, engine)
        timings["refine"] = time.perf_counter() - t
        notes.extend(result.notes)
        page, source = result.html, result.source
    if instruction:
        say("Applying your instruction…")
        t = time.perf_counter()
        result = revise(page, instruction, engine=engine)
        timings["revise"] = time.perf_counter() - t
        notes.extend(result.notes)
        page = result.html
    return SketchResult(layout, page, source, notes, timings)


def revise(page: str, instruction: str, *, engine: Any = None) -> page_html.PageResult:
    """A revision through the chat model when given (validated), else simple rules."""
    return page_html.apply_instruction(page, instruction, engine)
