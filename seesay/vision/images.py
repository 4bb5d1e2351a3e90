"""Image intake: any common file in, one clean upright working image out.

Sketches arrive as phone photos, scans and screenshots in every format Pillow reads.
Everything downstream wants the same thing: an 8-bit picture of a bounded size, plus
an ink mask where the drawing is white on black whatever the lighting was. Because
the layout JSON promises bounding boxes in pixels of the image *as the user gave it*,
every geometric change made here (scaling, deskew, perspective correction) is
recorded in one homography, :attr:`Prepared.to_work`, so boxes can be mapped back.

The pixel limit is checked from the header before any pixel is decoded, so a small
file that claims to be 30000×30000 (a decompression bomb) is refused cheaply. Pillow's
own global guard (``Image.MAX_IMAGE_PIXELS``) stays in place as a backstop; our limit
is kept below its hard error threshold so ours is the one users see.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from seesay.errors import InputError

log = logging.getLogger(__name__)

FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF", "MPO")
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
DEFAULT_MAX_PIXELS = 120_000_000
DEFAULT_MAX_SIDE = 1600


@dataclass
class Loaded:
    """An upright RGB image at working size and how it relates to the file."""

    rgb: np.ndarray  # H×W×3 uint8, possibly scaled down
    original_size: tuple[int, int]  # (width, height) of the upright input image
    scale: float  # working pixels per input pixel (<= 1)
    path: Path | None = None
    frames: int = 1  # an animated file has more; only the first is used


@dataclass
class Prepared:
    """The cleaned working image and the transform from input pixels to it."""

    gray: np.ndarray  # flattened grayscale, uint8, paper white
    ink: np.ndarray  # binary mask, 255 where something is drawn
    original_size: tuple[int, int]
    to_work: np.ndarray = field(default_factory=lambda: np.eye(3))  # input px -> working px
    deskew_degrees: float = 0.0
    page_found: bool = False
    notes: list[str] = field(default_factory=list)

    def to_input_bbox(self, bbox: tuple[float, float, float, float]) -> list[int]:
        """Map ``[x, y, w, h]`` in working pixels back to the input image's pixels."""
        x, y, w, h = bbox
        corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)
        inv = np.linalg.inv(self.to_work)
        pts = cv2.perspectiveTransform(corners[None], inv)[0]
        width, height = self.original_size
        x0, y0 = np.clip(pts.min(axis=0), 0, [width, height])
        x1, y1 = np.clip(pts.max(axis=0), 0, [width, height])
        return [round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0))]


def is_image_path(path: Path) -> bool:
    """Cheap check by name (for drag-enter): a file with an image extension."""
    return path.is_file() and path.suffix.lower() in EXTENSIONS


def load_image(
    source: Path | str | bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int = DEFAULT_MAX_SIDE
) -> Loaded:
    """Open, check, orient and shrink an image; every failure is an :class:`InputError`."""
    path: Path | None = None
    if isinstance(source, bytes):
        data, name = source, "the image"
    else:
        path = Path(source)
        name = path.name
        if path.is_dir():
            raise InputError(f"{name} is a folder, not an image. Choose an image file.")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{path} does not exist.") from None
        except OSError as e:
            raise InputError(f"Cannot read {name}: {e.strerror or e}") from e
    if not data:
        raise InputError(f"{name} is empty (0 bytes); it is not an image.")
    with warnings.catch_warnings():
        # We check the size ourselves below, with a message a user can act on.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise _too_big(name, None, max_pixels) from None
        except UnidentifiedImageError:
            raise InputError(
                f"{name} is not an image SeeSay can read (supported: PNG, JPEG, WebP, BMP, GIF, TIFF)."
            ) from None
        except (OSError, ValueError, SyntaxError) as e:
            raise InputError(f"{name} is damaged and cannot be opened: {e}") from None
        if img.format not in FORMATS:
            raise InputError(
                f"{name} is a {img.format} file; SeeSay reads PNG, JPEG, WebP, BMP, GIF and TIFF."
            )
        w, h = img.size
        if w * h > max_pixels:
            raise _too_big(name, (w, h), max_pixels)
        if w < 8 or h < 8:
            raise InputError(f"{name} is only {w}×{h} pixels; too small to hold a sketch.")
        frames = getattr(img, "n_frames", 1)
        try:
            img.seek(0)
            rgb, size, scale = _decode(img, max_side)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            raise InputError(f"{name} is truncated or damaged and cannot be decoded: {e}") from None
    if frames > 1:
        log.info("%s has %d frames; using the first", name, frames)
    return Loaded(rgb=rgb, original_size=size, scale=scale, path=path, frames=frames)


def _too_big(name: str, size: tuple[int, int] | None, limit: int) -> InputError:
    what = f" ({size[0]}×{size[1]} = {size[0] * size[1] / 1e6:.0f} megapixels)" if size else ""
    return InputError(
        f"{name} is too large{what}; the limit is {limit / 1e6:.0f} megapixels "
        "(vision.max_image_pixels). Files like this can exhaust memory, so it was not "
        "opened. Resize it and try again."
    )


def _decode(img: Image.Image, max_side: int) -> tuple[np.ndarray, tuple[int, int], float]:
    """Decode to upright 8-bit RGB no larger than ``max_side``; JPEGs decode at reduced size."""
    orientation = img.getexif().get(0x0112, 1)
    swapped = orientation in (5, 6, 7, 8)
    w, h = img.size
    upright = (h, w) if swapped else (w, h)
    if img.format == "JPEG" and max(w, h) > 2 * max_side:
        # DCT scaling: decode a 12000×9000 photo at 1/4 size in a fraction of the time and memory.
        img.draft("RGB", (max(1, w * max_side // max(w, h)), max(1, h * max_side // max(w, h))))
    img.load()
    img = ImageOps.exif_transpose(img) or img
    img = _to_rgb(img)
    scale = min(1.0, max_side / max(img.size))
    if scale < 1.0:
        target = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
    # Exact scale relative to the upright input (draft mode already shrank some files).
    scale = img.width / upright[0]
    return np.asarray(img, dtype=np.uint8).copy(), upright, scale


def _to_rgb(img: Image.Image) -> Image.Image:
    """Alpha over white (transparent sketches are drawn on nothing), 16-bit and CMYK to 8-bit RGB."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = arr.max() or 1.0
        img = Image.fromarray((arr * (255.0 / top)).clip(0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return img.convert("RGB")


def prepare(loaded: Loaded, *, clean: bool = True) -> Prepared:
    """Grayscale, flatten the lighting, find the page and straighten it, threshold the ink."""
    to_work = np.diag([loaded.scale, loaded.scale, 1.0])
    gray = cv2.cvtColor(loaded.rgb, cv2.COLOR_RGB2GRAY)
    notes: list[str] = []
    page_found = False
    if clean:
        quad = find_page(gray)
        if quad is not None:
            gray, warp = _warp_page(gray, quad)
            to_work = warp @ to_work
            page_found = True
            notes.append("page edges found; perspective corrected")
    flat = flatten_illumination(gray)
    ink = threshold_ink(flat)
    angle = 0.0
    if clean:
        angle = estimate_skew(ink)
        if abs(angle) > 0.3:
            rot = cv2.getRotationMatrix2D((flat.shape[1] / 2, flat.shape[0] / 2), angle, 1.0)
            flat = cv2.warpAffine(
                flat, rot, (flat.shape[1], flat.shape[0]), flags=cv2.INTER_LINEAR, borderValue=255
            )
            ink = threshold_ink(flat)
            to_work = np.vstack([rot, [0, 0, 1]]) @ to_work
            notes.append(f"straightened by {angle:.1f}°")
    return Prepared(
        gray=flat,
        ink=ink,
        original_size=loaded.original_size,
        to_work=to_work,
        deskew_degrees=angle,
        page_found=page_found,
        notes=notes,
    )


def flatten_illumination(gray: np.ndarray) -> np.ndarray:
    """Divide by an estimate of the paper's brightness so shadows and gradients vanish.

    The background is the image with strokes closed away (dilation takes the lighter
    paper around thin dark lines) and smoothed; dividing by it leaves ink dark on an
    evenly white page.
    """
    size = max(15, (min(gray.shape) // 40) | 1)
    background = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    background = cv2.medianBlur(background, 21)
    return cv2.divide(gray, background, scale=255)


def threshold_ink(flat: np.ndarray) -> np.ndarray:
    """Binary ink mask: a local threshold with a floor so paper texture never counts as ink,
    plus faint strokes (pencil, a light photo) where they form lines, not specks.

    The strict mask alone broke a faintly drawn text box into dashes no grouping could join;
    a looser threshold keeps such strokes, and only its components at least a thirtieth of
    the sheet long (and as heavy as a line that long) are added, so grain and dust stay out.
    """
    block = max(15, (min(flat.shape) // 30) | 1)
    local = cv2.adaptiveThreshold(flat, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)
    dark = (flat < 200).astype(np.uint8) * 255
    ink = cv2.morphologyEx(cv2.bitwise_and(local, dark), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    faint = cv2.adaptiveThreshold(flat, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 6)
    faint = cv2.bitwise_and(faint, (flat < 232).astype(np.uint8) * 255)
    ruling = _ruling(cv2.bitwise_and(faint, cv2.bitwise_not(ink)))
    if ruling is not None:
        faint = cv2.bitwise_and(faint, cv2.bitwise_not(ruling))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(faint, connectivity=8)
    side = min(flat.shape) / 30
    keep = np.zeros(n, bool)
    keep[1:] = (np.maximum(stats[1:, 2], stats[1:, 3]) >= side) & (stats[1:, 4] >= 2.5 * side)
    out = cv2.bitwise_or(ink, keep[labels].astype(np.uint8) * 255)
    if ruling is not None:  # what the paper printed goes; a pen stroke across it (darker) stays
        printed = cv2.bitwise_and(ruling, (flat >= RULING_DARKEST).astype(np.uint8) * 255)
        out = cv2.bitwise_and(out, cv2.bitwise_not(printed))
    return out


RULING_DARKEST = 150  # printed rulings are lighter than this; pen, marker and most pencil darker


def _ruling(faint: np.ndarray) -> np.ndarray | None:
    """Where ruled or squared paper has its printed lines, or None on plain paper.

    Printed lines are faint, long and many: at least five faint horizontal lines a quarter
    of the sheet long. Each is taken across the whole sheet (the pen hides parts of it),
    with the long faint upright lines (a margin, a grid) beside them.
    """
    h, w = faint.shape
    rect = cv2.MORPH_RECT
    rows = cv2.morphologyEx(faint, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (max(8, w // 8), 1)))
    _, _, stats, _ = cv2.connectedComponentsWithStats(rows, connectivity=8)
    lines = [s for s in stats[1:] if s[2] >= w / 4 and s[3] <= max(3, h // 60)]
    if len(lines) < 5:
        return None
    out = np.zeros_like(faint)
    for _x, y, _w, lh, _a in lines:
        out[max(0, y - 2) : y + lh + 2, :] = 255
    cols = cv2.morphologyEx(faint, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (1, max(8, h // 8))))
    _, _, stats, _ = cv2.connectedComponentsWithStats(cols, connectivity=8)
    for x, _y, lw, lh, _a in stats[1:]:
        if lh >= h / 4 and lw <= max(3, w // 60):
            out[:, max(0, x - 2) : x + lw + 2] = 255
    return out


def find_page(gray: np.ndarray) -> np.ndarray | None:
    """The four corners of a sheet of paper lying on a darker surface, or None.

    Only a bright quadrilateral covering 25–97 % of the frame counts: a scan or
    screenshot (the page *is* the frame) is left alone.
    """
    h, w = gray.shape
    small = cv2.GaussianBlur(gray, (7, 7), 0)
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    biggest = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(biggest)
    if not 0.25 * w * h < area < 0.97 * w * h:
        return None
    hull = cv2.convexHull(biggest)
    approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(approx) != 4:
        return None
    # A sheet on a table shows the table around it; a bright half of a lighting gradient
    # (or a page cropped by the frame) has corners on the frame's edge instead.
    margin = 0.015 * max(w, h)
    on_edge = sum(
        1
        for px, py in approx.reshape(4, 2)
        if px < margin or py < margin or px > w - margin or py > h - margin
    )
    if on_edge >= 2:
        return None
    # Paper must be clearly brighter than what surrounds it.
    mask = np.zeros_like(gray)
    cv2.drawContours(mask, [approx], -1, 255, -1)
    inside, outside = gray[mask > 0].mean(), gray[mask == 0].mean()
    if inside - outside < 25:
        return None
    return _order_corners(approx.reshape(4, 2).astype(np.float32))


def _order_corners(pts: np.ndarray) -> np.ndarray:
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], dtype=np.float32
    )


def _warp_page(gray: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tl, tr, br, bl = quad
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad, dst)
    warped = cv2.warpPerspective(
        gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return warped, matrix


def estimate_skew(ink: np.ndarray) -> float:
    """Rotation (degrees, counter-clockwise positive for OpenCV) that levels the long strokes.

    Wireframes are made of horizontal and vertical lines, so the median angle of the
    long near-horizontal segments is a robust estimate of how the paper was turned.
    """
    _h, w = ink.shape
    min_len = max(40, w // 8)
    lines = cv2.HoughLinesP(ink, 1, np.pi / 720, threshold=80, minLineLength=min_len, maxLineGap=8)
    if lines is None:
        return 0.0
    angles, weights = [], []
    for x0, y0, x1, y1 in lines.reshape(-1, 4):
        dx, dy = x1 - x0, y1 - y0
        if dx == 0:
            continue
        a = np.degrees(np.arctan2(dy, dx))
        if abs(a) < 12:
            angles.append(a)
            weights.append(np.hypot(dx, dy))
    if len(angles) < 3:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    median = float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2)])
    return median
