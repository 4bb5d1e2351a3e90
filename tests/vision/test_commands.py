"""``seesay sketch`` and ``seesay bench sketch`` beside ``bench llm``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from seesay import cli
from seesay.vision import compare, evalset


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


ROOT = Path(__file__).resolve().parents[2]


def seesay(*args: str | Path, home: Path) -> subprocess.CompletedProcess:
    """The real command line, in its own process, as a user runs it."""
    env = {**os.environ, "SEESAY_HOME": str(home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "seesay", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def sketch(tmp_path: Path) -> Path:
    path = tmp_path / "sketch.png"
    evalset.make("landing", "clean", seed=0).image.save(path)
    return path


def _bad_paths(tmp: Path, sketch: Path) -> dict[str, tuple[list[str | Path], str]]:
    (tmp / "a-file").write_text("x")
    (tmp / "a-folder").mkdir()
    return {
        "page-in-missing-folder": (["-o", tmp / "nowhere" / "p.html"], "does not exist"),
        "page-is-a-folder": (["-o", tmp / "a-folder"], "is a folder"),
        "page-under-a-file": (["-o", tmp / "a-file" / "p.html"], "is not a folder"),
        "page-over-the-sketch": (["-o", sketch], "would overwrite the sketch"),
        "layout-in-missing-folder": (["--layout", tmp / "nowhere" / "l.json"], "does not exist"),
        "layout-is-a-folder": (["--layout", tmp / "a-folder"], "is a folder"),
        "layout-under-a-file": (["--layout", tmp / "a-file" / "l.json"], "is not a folder"),
        "layout-and-page-the-same": (["-o", tmp / "x.html", "--layout", tmp / "x.html"], "different files"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "page-in-missing-folder",
        "page-is-a-folder",
        "page-under-a-file",
        "page-over-the-sketch",
        "layout-in-missing-folder",
        "layout-is-a-folder",
        "layout-under-a-file",
        "layout-and-page-the-same",
    ],
)
def test_unusable_outputs_are_one_line_before_any_work(
    case: str, sketch: Path, tmp_path: Path, seesay_home: Path
) -> None:
    args, message = _bad_paths(tmp_path, sketch)[case]
    result = seesay("sketch", sketch, *args, home=seesay_home)
    _one_line_error(result, message)
    assert sketch.read_bytes()[:4] == b"\x89PNG"  # the sketch is untouched


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs a file no one can write (/proc)")
def test_a_write_that_fails_late_is_one_line(sketch: Path, seesay_home: Path) -> None:
    """/proc/version looks writable to root and fails on write: the error comes after the work."""
    result = seesay("sketch", sketch, "--layout", "/proc/version", home=seesay_home)
    _one_line_error(result, "/proc/version")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_bytes(b"not an image at all"), "not an image"),
        (lambda p: p.write_bytes(b""), "is empty"),
    ],
    ids=["folder", "not-an-image", "empty"],
)
def test_unusable_sketches_are_one_line(make: Any, message: str, tmp_path: Path, seesay_home: Path) -> None:
    image = tmp_path / "sketch.png"
    make(image)
    _one_line_error(seesay("sketch", image, "-o", tmp_path / "p.html", home=seesay_home), message)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_sketch_is_one_line(sketch: Path, tmp_path: Path, seesay_home: Path) -> None:
    sketch.chmod(0)
    try:
        _one_line_error(seesay("sketch", sketch, home=seesay_home), "Cannot read")
    finally:
        sketch.chmod(0o644)


def _one_line_error(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seesay: error: "), result.stderr
    assert message in lines[0], lines[0]


def test_fit_refuses_a_page_it_would_not_keep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = evalset.make("form", "clean", seed=1)
    sample.image.save(tmp_path / "s.png")
    args = ["sketch", str(tmp_path / "s.png"), "-o", str(tmp_path / "p.html"), "--fit"]
    assert cli.main([*args, "--instruction", "add a footer"]) == 1
    err = capsys.readouterr().err
    assert "--fit adjusts the page drawn from the layout" in err and "Traceback" not in err
    assert not (tmp_path / "p.html").exists()


@pytest.mark.slow
@pytest.mark.skipif(compare.chromium() is None, reason="needs a Chromium binary")
def test_fit_writes_the_adjusted_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = evalset.make("form", "rotated", seed=4)
    sample.image.save(tmp_path / "s.png")
    assert cli.main(["sketch", str(tmp_path / "s.png"), "-o", str(tmp_path / "p.html"), "--fit"]) == 0
    err = capsys.readouterr().err
    assert "Layout similarity" in err and "kept" in err
    assert "Content-Security-Policy" in (tmp_path / "p.html").read_text()
