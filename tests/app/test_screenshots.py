"""Screenshots of a rich conversation at the two sizes the window must look good at.

They are written to ``$SEESAY_SHOTS`` (default /tmp/seesay-shots) for a person to look at;
the test itself checks only that the layout fits: no horizontal scrolling, the composer
and the last message on screen.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.app.helpers import wait_ready

REPLY = """## Packing list

Here is what to bring for a **weekend hike**:

- Water (2 litres each)
- Snacks: nuts, fruit, `energy bars`
- A light rain jacket

| Item | Weight | Needed |
|:-----|-------:|:------:|
| Tent | 2.1 kg | yes |
| Stove | 0.4 kg | maybe |

```python
def total_weight(items: dict[str, float]) -> float:
    \"\"\"Sum the weights in kilograms.\"\"\"
    return sum(items.values())  # e.g. 2.5
```

> Tip: check the forecast the evening before.
"""


@pytest.fixture
def shots_dir() -> Path:
    path = Path(os.environ.get("SEESAY_SHOTS", "/tmp/seesay-shots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("size", [(1280, 800), (800, 600)])
def test_conversation_screenshot(
    qtbot: Any, make_window: Any, shots_dir: Path, size: tuple[int, int]
) -> None:
    window = make_window()
    store = window.store
    for title in ("Trip to the coast", "Dinner ideas"):
        store.add_message(store.create_conversation(title), "user", "Ideas?")
    cid = store.create_conversation("Weekend hike")
    store.add_message(
        cid,
        "user",
        "What should I pack for a weekend hike? Keep it short, and add a "
        "table of weights and a bit of code to total them.",
    )
    store.add_message(
        cid, "assistant", REPLY, meta={"model": "SmolLM2-135M-Instruct", "tokens": 182, "tokens_per_s": 41.3}
    )
    store.add_message(cid, "user", "And if it rains?")
    store.add_message(
        cid, "assistant", "Bring a dry bag for your phone and spare socks", status="interrupted"
    )
    window.sidebar.refresh()
    window.sidebar.list.setCurrentRow(0)
    wait_ready(qtbot, window)
    window.resize(*size)
    qtbot.wait(100)
    window.chat.view.verticalScrollBar().setValue(0)
    qtbot.wait(50)
    path = shots_dir / f"chat-{size[0]}x{size[1]}.png"
    assert window.grab().save(str(path))
    assert path.stat().st_size > 10_000
    view = window.chat.view
    assert view.widget().width() <= view.viewport().width()  # nothing cut off at the right
    assert window.chat.composer.isVisible()
    view.scroll_to_bottom()
    qtbot.wait(50)
    window.grab().save(str(shots_dir / f"chat-{size[0]}x{size[1]}-bottom.png"))


def test_loading_and_error_screenshots(qtbot: Any, make_window: Any, shots_dir: Path) -> None:
    loading = make_window(start=False)
    loading.resize(1280, 800)
    loading.start()
    loading.status.loading(0.42, "Loading…")  # what a slow load shows, frozen for the picture
    loading._on_progress(0.42, "Loading tiny-llama…")
    loading.grab().save(str(shots_dir / "loading-1280x800.png"))
    window = make_window({"model.name": "/no/such/model"}, start=False)
    window.resize(1280, 800)
    window.start()
    qtbot.waitUntil(lambda: window.host.state == "failed", timeout=60_000)
    qtbot.wait(50)
    window.grab().save(str(shots_dir / "model-error-1280x800.png"))


def test_streaming_screenshot(qtbot: Any, make_window: Any, shots_dir: Path) -> None:
    window = make_window({"generation.max_new_tokens": 5000, "generation.temperature": 0.9}, start=False)
    window.resize(800, 600)
    window.start()
    wait_ready(qtbot, window)
    window.chat.send("Write me a very long poem")
    reply = window.chat.view.widgets()[-1]
    qtbot.waitUntil(lambda: len(reply.text) > 200, timeout=20_000)
    window.grab().save(str(shots_dir / "streaming-800x600.png"))
    assert window.chat.composer.send_button.text() == "■ Stop"
    window.stop_action.trigger()
