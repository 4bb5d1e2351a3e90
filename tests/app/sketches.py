"""Opening a drawn sketch in a studio, as the tests of revisions start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seesay.vision import evalset

TIMEOUT_MS = 60_000


def open_sketch(qtbot: Any, studio: Any, tmp_path: Path, kind: str) -> str:
    """Open a drawn sketch of ``kind`` through the real pipeline; its page once shown."""
    image = tmp_path / f"{kind}.png"
    evalset.make(kind, "clean", seed=0).image.save(image)
    with qtbot.waitSignal(studio.pageReady, timeout=TIMEOUT_MS) as ready:
        assert studio.open_image(image)
    qtbot.waitUntil(lambda: not studio.busy, timeout=5_000)
    return str(ready.args[0])
