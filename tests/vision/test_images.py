"""Image intake: every format we promise, and every bad input with a clear message."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seesay.errors import InputError
from seesay.vision import images


def _sketchy(size: tuple[int, int] = (400, 300), mode: str = "RGB") -> Image.Image:
    img = Image.new("RGB", size, "white")
    arr = np.asarray(img).copy()
    arr[50:54, 40:360] = 0  # a box's top edge
    arr[50:250, 40:44] = 0
    return Image.fromarray(arr).convert(mode)


@pytest.mark.parametrize(
    ("fmt", "mode", "ext"),
    [
        ("PNG", "RGB", "png"),
        ("PNG", "RGBA", "png"),
        ("PNG", "I;16", "png"),
        ("JPEG", "CMYK", "jpg"),
        ("WEBP", "RGB", "webp"),
        ("BMP", "RGB", "bmp"),
        ("TIFF", "RGB", "tif"),
        ("GIF", "P", "gif"),
    ],
)
def test_formats_load_as_8_bit_rgb(tmp_path: Path, fmt: str, mode: str, ext: str) -> None:
    path = tmp_path / f"s.{ext}"
    img = _sketchy(mode="L").convert(mode) if mode == "I;16" else _sketchy(mode=mode)
    img.save(path, fmt)
    loaded = images.load_image(path)
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.shape == (300, 400, 3)
    assert loaded.rgb[52, 200].max() < 60 and loaded.rgb[150, 200].min() > 200  # ink dark, paper light


def test_transparent_png_is_drawn_on_white(tmp_path: Path) -> None:
    img = Image.new("RGBA", (100, 80), (0, 0, 0, 0))
    img.putpixel((10, 10), (0, 0, 0, 255))
    img.save(tmp_path / "t.png")
    rgb = images.load_image(tmp_path / "t.png").rgb
    assert rgb[40, 40].tolist() == [255, 255, 255] and rgb[10, 10].tolist() == [0, 0, 0]


def test_exif_orientation_is_applied_and_sizes_are_upright(tmp_path: Path) -> None:
    img = _sketchy((400, 300))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    img.save(tmp_path / "o.jpg", exif=exif)
    loaded = images.load_image(tmp_path / "o.jpg")
    assert loaded.original_size == (300, 400) and loaded.rgb.shape[:2] == (400, 300)


def test_animated_gif_uses_the_first_frame(tmp_path: Path) -> None:
    frames = [_sketchy().convert("P"), Image.new("P", (400, 300), 0)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    loaded = images.load_image(tmp_path / "a.gif")
    assert loaded.frames == 2 and loaded.rgb[150, 200].min() > 200  # first (white) frame, not the black one


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty \(0 bytes\)"),
        (b"this is a text file, not a picture\n", "not an image"),
    ],
)
def test_bad_files_get_clear_messages(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        images.load_image(path)


def test_truncated_image(tmp_path: Path) -> None:
    buf = io.BytesIO()
    _sketchy((800, 600)).save(buf, "PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(InputError, match="truncated or damaged"):
        images.load_image(tmp_path / "cut.png")


def test_folder_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        images.load_image(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        images.load_image(tmp_path / "nope.png")


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    # A 1-bit 12500×10000 PNG: tens of kB on disk, 125 megapixels (375 MB as RGB) decoded.
    Image.new("1", (12_500, 10_000), 1).save(tmp_path / "bomb.png")
    assert (tmp_path / "bomb.png").stat().st_size < 2_000_000
    with pytest.raises(InputError, match=r"too large.*megapixels"):
        images.load_image(tmp_path / "bomb.png")


@pytest.mark.slow
def test_12000_by_9000_photo_is_scaled_down_with_its_scale(tmp_path: Path) -> None:
    big = Image.new("RGB", (12_000, 9_000), (235, 232, 225))
    big.paste((20, 20, 20), (2000, 2000, 10_000, 2040))
    big.save(tmp_path / "big.jpg", quality=70)
    del big
    loaded = images.load_image(tmp_path / "big.jpg", max_side=1600)
    assert loaded.original_size == (12_000, 9_000)
    assert max(loaded.rgb.shape[:2]) == 1600
    assert loaded.scale == pytest.approx(1600 / 12_000, rel=1e-3)
    prepared = images.prepare(loaded)
    # a box in working pixels maps back to the 12000-wide input
    x, _y, w, _ = prepared.to_input_bbox((100.0, 100.0, 160.0, 10.0))
    assert 700 < x < 800 and 1100 < w < 1300


def test_blank_page_and_photo_without_drawing_find_no_ink() -> None:
    blank = images.Loaded(np.full((600, 800, 3), 250, np.uint8), (800, 600), 1.0)
    assert images.prepare(blank).ink.sum() == 0
    # a photo of an empty sheet: smooth lighting gradient and sensor noise, no strokes
    _yy, xx = np.mgrid[0:600, 0:800]
    rng = np.random.default_rng(0)
    photo = (170 + 60 * xx / 800 + rng.normal(0, 3, (600, 800))).clip(0, 255).astype(np.uint8)
    loaded = images.Loaded(np.dstack([photo] * 3), (800, 600), 1.0)
    assert (images.prepare(loaded).ink > 0).mean() < 0.002


def test_photographed_page_is_found_and_straightened() -> None:
    from seesay.vision import evalset

    sample = evalset.make("landing", "photo", seed=1)
    loaded = images.load_image(_png_bytes(sample.image))
    prepared = images.prepare(loaded)
    assert prepared.page_found
    h, w = prepared.gray.shape
    assert abs(w / h - evalset.W / evalset.H) < 0.15  # a perspective warp keeps the aspect roughly


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_ruled_paper_loses_its_printed_lines_and_keeps_the_pen() -> None:
    from seesay.vision import evalset

    sample = evalset.make("landing", "lined", seed=15)
    ink = images.prepare(images.load_image(_png(sample.image))).ink
    # below the drawing the sheet has only its ruling: no ink there
    assert (ink[560:760] > 0).mean() < 0.002
    # the picture box drawn across the ruling keeps its upright sides whole
    x, y, _w, h = next(e["bbox"] for e in sample.elements if e["type"] == "image")
    left = ink[y + 10 : y + h - 10, max(0, x - 6) : x + 7].max(axis=1)
    assert (left > 0).mean() > 0.95


def test_plain_paper_is_not_taken_for_ruled() -> None:
    photos = Path(__file__).resolve().parents[1] / "data" / "sketches"
    for name in ("payment-form.jpg", "newsletter.jpg"):
        prepared = images.prepare(images.load_image(photos / name))
        faint = ((prepared.gray < 232) & (prepared.ink == 0)).astype(np.uint8) * 255
        assert images._ruling(faint) is None, name


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
