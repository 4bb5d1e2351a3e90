"""``seesay sketch`` and ``seesay bench sketch`` beside ``bench llm``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seesay import cli
from seesay.vision import evalset


def test_bench_group_keeps_llm_and_gains_sketch() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["bench", "llm", "--tokens", "4"]).tokens == 4
    args = parser.parse_args(["bench", "sketch", "--count", "2", "--no-render"])
    assert args.count == 2 and args.no_render


def test_missing_image_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sketch", str(tmp_path / "nope.png"), "-o", str(tmp_path / "p.html")]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_sketch_writes_page_and_layout(tmp_path: Path) -> None:
    sample = evalset.make("landing", "clean", seed=0)
    sample.image.save(tmp_path / "s.png")
    rc = cli.main(
        [
            "sketch",
            str(tmp_path / "s.png"),
            "-o",
            str(tmp_path / "page.html"),
            "--layout",
            str(tmp_path / "layout.json"),
            "--instruction",
            "make the header dark blue",
        ]
    )
    assert rc == 0
    page = (tmp_path / "page.html").read_text()
    assert "Content-Security-Policy" in page and "#1e3a8a" in page
    layout = json.loads((tmp_path / "layout.json").read_text())
    assert {"tree", "elements", "image"} <= set(layout)
    assert any(e["type"] == "heading" for e in layout["elements"])


@pytest.mark.slow
def test_bench_sketch_reports_metrics_and_stages(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "sketch", "--count", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["recall"] >= 0.85 and report["metrics"]["page_similarity"] is not None
    stages = {"load", "preprocess", "shapes", "ocr", "classify", "render", "total"}
    assert stages <= set(report["timings_mean_s"])
