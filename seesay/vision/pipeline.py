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
from seesay.errors import SeeSayError
from seesay.vision import html as page_html
from seesay.vision.layout import Layout
from seesay.vision.refine import refine
from seesay.vision.revision import apply_instruction
from seesay.vision.sketch import analyse_image

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
    model = _vision_model(settings, notes)
    if model is not None:
        say(f"Drawing the page with {model.model_name}…")
        t = time.perf_counter()
        try:
            result = model.sketch_page(image, page, layout.labels())
            page, source = result.html, result.source
            notes.extend(result.notes)
        except SeeSayError as e:  # the offline page is the floor, whatever the model does
            log.warning("vision model failed: %s", e)
            notes.append(f"vision model failed ({e}); kept the page from the sketch")
        timings["vlm"] = time.perf_counter() - t
    elif engine is not None and settings.vision.refine_with_llm:
        say("Polishing the page…")
        t = time.perf_counter()
        result = refine(layout, engine)
        timings["refine"] = time.perf_counter() - t
        notes.extend(result.notes)
        page, source = result.html, result.source
    if instruction:
        say("Applying your instruction…")
        t = time.perf_counter()
        result = revise(page, instruction, engine=engine, settings=settings, image=image)
        timings["revise"] = time.perf_counter() - t
        notes.extend(result.notes)
        page = result.html
    return SketchResult(layout, page, source, notes, timings)


def revise(
    page: str,
    instruction: str,
    *,
    settings: Settings,
    engine: Any = None,
    image: Path | str | bytes | None = None,
) -> page_html.PageResult:
    """A revision through the vision model when ``settings`` name one, else the chat model
    (validated), else rules. ``image`` (the sketch) is sent along when given."""
    notes: list[str] = []
    model = _vision_model(settings, notes)
    fallback = lambda: apply_instruction(page, instruction, engine)  # noqa: E731
    if model is None or not instruction.strip():
        result = fallback()
    else:
        try:
            result = model.revise_page(page, instruction, image, fallback)
        except SeeSayError as e:
            log.warning("vision model revision failed: %s", e)
            result = fallback()
            result.notes.insert(0, f"vision model failed ({e})")
    result.notes[:0] = notes
    return result


def _vision_model(settings: Settings, notes: list[str]) -> Any:
    """The configured, loaded VisionLanguageModel, or None (with a note when it cannot be used)."""
    if not settings.vision.vlm_model.strip():
        return None
    from seesay.vision import vlm

    try:
        model = vlm.for_settings(settings)
        if model is not None:
            model.load()
    except SeeSayError as e:
        log.warning("vision model unavailable: %s", e)
        notes.append(f"vision model unavailable ({e}); used the offline pipeline")
        return None
    return model
