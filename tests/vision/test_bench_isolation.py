"""``seesay bench sketch`` renders generated pages in headless Chromium: they reach nothing there."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from seesay.vision import compare, safety
from tests.app.isolation import hostile_page, listening, way_out_pages

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(compare.chromium() is None, reason="needs a Chromium binary"),
]

BLOCKS = '<main><h1 data-kind="heading">Shop</h1><button data-kind="button">Buy</button></main>'


def test_rendered_pages_reach_nothing_and_still_lay_out() -> None:
    with listening() as at:
        page = hostile_page(at, leave=False).replace("<body>", "<body>" + BLOCKS, 1)
        got = compare.render_blocks(page, timeout=60)
        assert [b["text"] for b in got["blocks"]] == ["Shop", "Buy"]  # the page's scripts ran
        assert at.nothing_arrived(), (at.arrived(), at.requests)


def test_rendered_pages_cannot_navigate_out() -> None:
    with listening() as at:
        for page in way_out_pages(at).values():
            # A page that navigated (and failed to) has no layout to report; that is fine.
            with contextlib.suppress(RuntimeError):
                compare.render_blocks(page.replace("<body>", "<body>" + BLOCKS, 1), timeout=60)
        assert at.nothing_arrived(), (at.arrived(), at.requests)


def test_chromium_keeps_its_sandbox_unless_root() -> None:
    switches = compare.chromium_switches(Path("/tmp/profile"), 800, 600)
    assert ("--no-sandbox" in switches) == (os.geteuid() == 0)
    assert set(safety.CHROMIUM_ISOLATION_FLAGS) <= set(switches)
