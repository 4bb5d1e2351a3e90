"""``seesay bench sketch --real DIR``: labelled photographs in the Sketch2Code format, scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seesay import cli
from seesay.vision import evalset
from seesay.vision.realset import TAGS, load

TAG_OF = {kind: tag for tag, kind in TAGS.items()}


def _labelled_folder(root: Path, samples: list[evalset.Sample]) -> Path:
    """Generated sketches written the way people labelled the real ones: fractions of the image."""
    (root / "images").mkdir(parents=True)
    entries = []
    for s in samples:
        s.image.convert("RGB").save(root / "images" / f"{s.id}.jpg", quality=92)
        w, h = s.image.size
        regions = [
            {"tagName": TAG_OF[e["type"]], "left": x / w, "top": y / h, "width": bw / w, "height": bh / h}
            for e in s.elements
            if e["type"] in TAG_OF
            for x, y, bw, bh in [e["bbox"]]
        ]
        entries.append({"id": s.id, "width": w, "height": h, "regions": regions})
    (root / "annotations.json").write_text(json.dumps(entries))
    return root


@pytest.mark.slow
def test_real_bench_reports_recall_precision_and_a_table_by_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _labelled_folder(tmp_path / "real", [evalset.make("form", "clean", seed=1)])
    assert cli.main(["bench", "sketch", "--real", str(folder), "--folds", "0"]) == 0  # the shipped model
    report = json.loads(capsys.readouterr().out)
    assert report["sketches"] == 1 and report["elements"] > 5
    assert report["recall"] >= 0.8 and report["typed_recall"] >= 0.7 and report["precision"] >= 0.5
    assert set(report["per_type"]) == set(TAGS.values())
    assert report["per_type"]["text_input"]["count"] > 0 and report["per_type"]["text_input"]["found"] > 0
    assert 0 < report["seconds_per_sketch"] < 30


def test_folder_problems_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "sketch", "--real", str(tmp_path)]) == 1
    assert "has no annotations.json" in capsys.readouterr().err
    (tmp_path / "annotations.json").write_text('[{"id": "a", "width": 10, "height": 10, "regions": []}]')
    assert cli.main(["bench", "sketch", "--real", str(tmp_path)]) == 1
    assert "has no image for sketch a" in capsys.readouterr().err
    (tmp_path / "annotations.json").write_text('[{"id": "a", "width": 10}]')
    assert cli.main(["bench", "sketch", "--real", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "lacks or mislabels" in err and "Traceback" not in err
    assert cli.main(["bench", "sketch", "--count", "0"]) == 1


def test_an_unknown_tag_is_named(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"")
    (tmp_path / "annotations.json").write_text(
        json.dumps([{"id": "a", "width": 4, "height": 4, "regions": [{"tagName": "Slider"}]}])
    )
    with pytest.raises(Exception, match="Slider"):
        load(tmp_path)
