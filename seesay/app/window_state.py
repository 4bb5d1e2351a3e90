"""What the window remembers between runs: its size and place, an unsent draft, the bars shown.

Kept apart from the settings (the user's choices) in a small JSON file in the user data
dir, private to the user (0600). A missing or damaged file is simply a first run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from seesay.paths import data_dir, write_private

log = logging.getLogger(__name__)


@dataclass
class WindowState:
    geometry: str = ""  # QWidget.saveGeometry(), base64
    draft: str = ""  # the composer's unsent text
    draft_conversation: int | None = None  # the conversation it was written in (None: a new chat)
    voice_collapsed: bool = False
    sidebar_visible: bool = True


def path() -> Path:
    return data_dir() / "window-state.json"


def load() -> WindowState:
    try:
        data = json.loads(path().read_text(encoding="utf-8"))
        known = {k: v for k, v in data.items() if k in WindowState.__dataclass_fields__}
        return WindowState(**known)
    except FileNotFoundError:
        return WindowState()
    except (OSError, ValueError, TypeError):
        log.warning("window state unreadable; starting fresh", exc_info=True)
        return WindowState()


def save(state: WindowState) -> None:
    target = path()
    try:
        write_private(target, json.dumps(asdict(state)))
    except OSError:
        log.warning("could not save the window state", exc_info=True)
