"""A growable evaluation set: hand-drawn-looking wireframes with their true layouts.

Each sample is drawn with Pillow the way a person sketches a page on paper: wobbly
strokes that overshoot at corners, handwriting-like fonts, crossed boxes for images,
wavy lines for paragraphs; then optionally turned a little, noised, or photographed
(perspective, uneven light, a table around the sheet, JPEG), drawn in marker on a
whiteboard (colours, glare, half-erased smears) or in ballpoint on ruled paper. The ground truth is the
flat element list of the layout JSON, in the final image's pixels, so the analyser
is scored exactly on its contract. ``sample(i)`` is deterministic: ids are stable and
the set grows by adding templates or styles.

Fonts: Comic Neue and DkgHandwriting (Debian ``fonts-comic-neue``,
``fonts-dkg-handwriting``) look handwritten; DejaVu is the fallback everywhere.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Bold.otf",
    "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
STYLES = ("clean", "rotated", "noisy", "photo", "whiteboard", "lined")
# Dry-erase markers and ballpoints: what people draw with besides a pencil.
MARKERS = ((35, 70, 190), (190, 45, 45), (30, 130, 70), (35, 35, 40))
BALLPOINTS = ((25, 25, 35), (20, 30, 90), (50, 50, 55), (30, 60, 160), (140, 30, 45))
TEMPLATES = ("landing", "form", "cards")
W, H = 1200, 900

BRANDS = ["Acme", "Nova", "Bloom", "Pixel", "Orbit", "Maple", "Zenith", "Harbor"]
LINKS = ["Home", "About", "Blog", "Pricing", "Contact", "Shop", "Help", "Docs", "Team", "Jobs"]
HEADINGS = [
    "Welcome",
    "Fresh Ideas",
    "Our Story",
    "Sign Up",
    "Get Started",
    "Hello World",
    "Best Coffee",
    "Travel More",
    "Contact Us",
    "New Arrivals",
]
BUTTONS = ["Submit", "Buy now", "Sign in", "Learn more", "Join", "Send", "Subscribe", "Order"]
LABELS = ["Email", "Name", "Password", "Phone", "City", "Company", "Message", "Address"]
SELECTS = ["Country", "Choose plan", "Size", "Language"]
CHECKS = ["Remember me", "Newsletter", "I agree", "Send updates", "Gift wrap"]
RADIOS = ["Monthly", "Yearly", "Basic", "Pro", "Small", "Large"]
CARDS = ["Coffee", "Travel", "Music", "Garden", "Books", "Cinema", "Bakery", "Design"]
FOOTER = ["Privacy", "Terms", "Contact", "Careers", "Support"]


def available_fonts() -> list[str]:
    return [p for p in FONT_CANDIDATES if Path(p).exists()]


@cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@dataclass
class Sample:
    """One wireframe image and its true elements (``bbox`` = [x, y, w, h] in image pixels)."""

    id: str
    image: Image.Image
    elements: list[dict[str, Any]]
    template: str
    style: str
    containers: list[dict[str, Any]] = field(default_factory=list)  # navbar/footer/card boxes

    @property
    def suffix(self) -> str:
        """How the image is saved: photographs as JPEG, drawings as PNG."""
        return "jpg" if self.style in ("photo", "whiteboard") else "png"

    def truth(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "template": self.template,
            "style": self.style,
            "image": {"width": self.image.width, "height": self.image.height},
            "elements": self.elements,
            "containers": self.containers,
        }


@dataclass
class _Pen:
    """Draws wobbly strokes and text onto a page and records what it drew."""

    rng: random.Random
    draw: ImageDraw.ImageDraw
    font_path: str
    ink: tuple[int, int, int] = (30, 30, 40)
    width: int = 3
    elements: list[dict[str, Any]] = field(default_factory=list)
    containers: list[dict[str, Any]] = field(default_factory=list)

    def container(self, kind: str, x: float, y: float, w: float, h: float) -> None:
        """A box that holds elements: drawn, and recorded apart from the leaf elements."""
        self.rect(x, y, w, h)
        self.containers.append({"type": kind, "bbox": [round(x), round(y), round(w), round(h)], "text": ""})

    def _wobble(self, p0: tuple[float, float], p1: tuple[float, float], amp: float = 1.6) -> list:
        (x0, y0), (x1, y1) = p0, p1
        length = math.hypot(x1 - x0, y1 - y0)
        n = max(2, int(length / 10))
        nx, ny = (-(y1 - y0) / length, (x1 - x0) / length) if length else (0.0, 0.0)
        phase, freq = self.rng.uniform(0, 6.3), self.rng.uniform(0.6, 1.6)
        pts = []
        for i in range(n + 1):
            t = i / n
            off = amp * math.sin(phase + freq * t * math.pi * 2) + self.rng.uniform(-0.4, 0.4)
            pts.append((x0 + (x1 - x0) * t + nx * off, y0 + (y1 - y0) * t + ny * off))
        return pts

    def line(self, p0: tuple[float, float], p1: tuple[float, float], amp: float = 1.6) -> None:
        self.draw.line(self._wobble(p0, p1, amp), fill=self.ink, width=self.width, joint="curve")

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        o = lambda: self.rng.uniform(-2, 5)  # noqa: E731 - corners overshoot like a real pen
        self.line((x - o(), y), (x + w + o(), y))
        self.line((x + w, y - o()), (x + w, y + h + o()))
        self.line((x + w + o(), y + h), (x - o(), y + h))
        self.line((x, y + h + o()), (x, y - o()))

    def circle(self, cx: float, cy: float, r: float, fill: bool = False) -> None:
        n = 28
        phase = self.rng.uniform(0, 6.3)
        pts = [
            (
                cx + (r + 0.8 * math.sin(phase + 3 * k / n * 6.28)) * math.cos(k / n * 6.283),
                cy + (r + 0.8 * math.sin(phase + 3 * k / n * 6.28)) * math.sin(k / n * 6.283),
            )
            for k in range(n + 2)
        ]
        if fill:
            self.draw.polygon(pts, fill=self.ink)
        self.draw.line(pts, fill=self.ink, width=self.width, joint="curve")

    def text(self, x: float, y: float, s: str, size: int) -> tuple[int, int, int, int]:
        font = _font(self.font_path, size)
        self.draw.text((x, y), s, font=font, fill=self.ink)
        x0, y0, x1, y1 = (int(v) for v in self.draw.textbbox((x, y), s, font=font))
        return x0, y0, x1 - x0, y1 - y0

    def text_size(self, s: str, size: int) -> tuple[int, int]:
        x0, y0, x1, y1 = (int(v) for v in self.draw.textbbox((0, 0), s, font=_font(self.font_path, size)))
        return x1 - x0, y1 - y0

    def add(self, kind: str, bbox: tuple[float, float, float, float], text: str = "") -> None:
        self.elements.append({"type": kind, "bbox": [round(v) for v in bbox], "text": text})

    # --- widgets: each draws itself and records one ground-truth element -------------------------

    def heading(self, x: float, y: float, s: str, size: int = 50) -> float:
        bbox = self.text(x, y, s, size)
        self.add("heading", bbox, s)
        return bbox[1] + bbox[3]

    def label(self, x: float, y: float, s: str, size: int = 28, kind: str = "label") -> tuple:
        bbox = self.text(x, y, s, size)
        self.add(kind, bbox, s)
        return bbox

    def link(self, x: float, y: float, s: str, size: int = 28, underline: bool = True) -> tuple:
        bx, by, bw, bh = self.text(x, y, s, size)
        if underline:
            self.line((bx - 2, by + bh + 7), (bx + bw + 2, by + bh + 7), amp=1.0)
        self.add("link", (bx, by, bw, bh), s)
        return bx, by, bw, bh

    def paragraph(self, x: float, y: float, w: float, lines: int) -> float:
        gap = self.rng.randint(24, 30)
        for i in range(lines):
            lw = w if i < lines - 1 else w * self.rng.uniform(0.5, 0.8)
            self.line((x, y + i * gap), (x + lw, y + i * gap), amp=2.5)
        self.add("paragraph", (x - 2, y - 4, w + 4, (lines - 1) * gap + 8))
        return y + (lines - 1) * gap

    def button(self, x: float, y: float, s: str, size: int = 28) -> tuple[float, float]:
        tw, th = self.text_size(s, size)
        pw, ph = self.rng.randint(22, 34), 14
        w, h = tw + 2 * pw, th + 2 * ph + 6
        self.rect(x, y, w, h)
        self.text(x + pw, y + ph, s, size)
        self.add("button", (x, y, w, h), s)
        return w, h

    def text_input(self, x: float, y: float, w: float, placeholder: str = "", size: int = 26) -> float:
        h = 52
        self.rect(x, y, w, h)
        if placeholder:
            self.text(x + 14, y + 12, placeholder, size)
        self.add("text_input", (x, y, w, h), placeholder)
        return y + h

    def select(self, x: float, y: float, w: float, s: str, size: int = 26) -> float:
        h = 52
        self.rect(x, y, w, h)
        self.text(x + 14, y + 12, s, size)
        ax, ay = x + w - 34, y + h / 2 - 6
        self.draw.polygon([(ax, ay), (ax + 18, ay), (ax + 9, ay + 13)], fill=self.ink)
        self.add("select", (x, y, w, h), s)
        return y + h

    def checkbox(self, x: float, y: float, s: str, radio: bool = False, size: int = 26) -> float:
        d = 26
        if radio:
            self.circle(x + d / 2, y + d / 2, d / 2)
        else:
            self.rect(x, y, d, d)
            if self.rng.random() < 0.4:  # some are ticked
                self.line((x + 5, y + 13), (x + 11, y + 21), amp=0.3)
                self.line((x + 11, y + 21), (x + 22, y + 4), amp=0.3)
        tx, ty, tw, th = self.text(x + d + 14, y - 2, s, size)
        self.add("radio" if radio else "checkbox", (x, min(y, ty), tx + tw - x, max(d, ty + th - y)), s)
        return y + d

    def image(self, x: float, y: float, w: float, h: float) -> None:
        self.rect(x, y, w, h)
        self.line((x + 3, y + 3), (x + w - 3, y + h - 3), amp=1.2)
        self.line((x + w - 3, y + 3), (x + 3, y + h - 3), amp=1.2)
        self.add("image", (x, y, w, h))

    def icon(self, cx: float, cy: float, r: float = 16) -> None:
        self.circle(cx, cy, r)
        self.add("icon", (cx - r, cy - r, 2 * r, 2 * r))


def _navbar(pen: _Pen, rng: random.Random, y: float = 30) -> float:
    h = 74
    pen.container("navbar", 40, y, W - 80, h)
    pen.label(70, y + 20, rng.choice(BRANDS), size=32, kind="link")
    links = rng.sample(LINKS, 3)
    x = W - 120 - sum(pen.text_size(s, 26)[0] + 60 for s in links)
    for s in links:
        bx, _, bw, _ = pen.label(x, y + 23, s, size=26, kind="link")
        x = bx + bw + 60
    if rng.random() < 0.6:
        pen.icon(W - 85, y + h / 2)
    return y + h


def _footer(pen: _Pen, rng: random.Random) -> None:
    y, h = H - 100, 70
    pen.container("footer", 40, y, W - 80, h)
    x = 80.0
    for s in rng.sample(FOOTER, 3):
        bx, _, bw, _ = pen.label(x, y + 20, s, size=24)
        x = bx + bw + 70


def _landing(pen: _Pen, rng: random.Random) -> None:
    y = _navbar(pen, rng) + 50
    y = pen.heading(60, y, rng.choice(HEADINGS)) + 40
    pen.paragraph(62, y + 10, 480, rng.randint(3, 4))
    pen.image(640, y - 70, 480, 300)
    bw, _ = pen.button(60, y + 150, rng.choice(BUTTONS))
    if rng.random() < 0.5:
        pen.link(60 + bw + 50, y + 162, rng.choice(["Learn more", "See plans", "Read more"]))
    _footer(pen, rng)


def _form(pen: _Pen, rng: random.Random) -> None:
    y = pen.heading(80, 50, rng.choice(["Sign Up", "Contact Us", "Create account", "Checkout"])) + 40
    for s in rng.sample(LABELS, 2):
        _, ly, _, lh = pen.label(80, y, s)
        y = pen.text_input(80, ly + lh + 12, 420) + 26
    _, ly, _, lh = pen.label(80, y, "Plan")
    pen.select(80, ly + lh + 12, 420, rng.choice(SELECTS))
    # right column: choices
    cy = 190.0
    for s in rng.sample(CHECKS, 2):
        cy = pen.checkbox(640, cy, s) + 34
    cy += 20
    for s in rng.sample(RADIOS, 2):
        cy = pen.checkbox(640, cy, s, radio=True) + 34
    pen.paragraph(640, cy + 30, 420, 2)
    by = 720
    bw, _ = pen.button(80, by, rng.choice(BUTTONS))
    pen.link(80 + bw + 60, by + 14, rng.choice(["Forgot password", "Need help", "Cancel"]))


def _cards(pen: _Pen, rng: random.Random) -> None:
    y = _navbar(pen, rng) + 40
    y = pen.heading(60, y, rng.choice(HEADINGS), size=46) + 36
    cw, gap = 340, 30
    names = rng.sample(CARDS, 3)
    for i, name in enumerate(names):
        x = 60 + i * (cw + gap)
        pen.container("card", x, y, cw, 520)
        pen.image(x + 20, y + 20, cw - 40, 170)
        _, ty, _, th = pen.label(x + 20, y + 210, name, size=32)
        pen.paragraph(x + 22, ty + th + 30, cw - 44, 2)
        pen.button(x + 20, y + 370, rng.choice(BUTTONS), size=26)


_TEMPLATE_FUNCS: dict[str, Callable[[_Pen, random.Random], None]] = {
    "landing": _landing,
    "form": _form,
    "cards": _cards,
}


def sample(index: int) -> Sample:
    """The ``index``-th sample: templates × styles cycle, a seeded variation each time."""
    template = TEMPLATES[index % len(TEMPLATES)]
    style = STYLES[(index // len(TEMPLATES)) % len(STYLES)]
    return make(template, style, seed=index)


def make(template: str, style: str, seed: int = 0) -> Sample:
    rng = random.Random(f"{template}-{style}-{seed}")
    fonts = available_fonts()
    if not fonts:
        raise RuntimeError("no TrueType font found; install fonts-dejavu-core")
    if style == "whiteboard":
        page = Image.new("RGB", (W, H), (243, 245, 247))
        _ghosts(page, rng)
        pen = _Pen(
            rng, ImageDraw.Draw(page), rng.choice(fonts), ink=rng.choice(MARKERS), width=rng.choice([5, 6, 7])
        )
    else:
        page = Image.new("RGB", (W, H), (250, 249, 244))
        if style == "lined":
            _ruled(page, rng)
        inks = BALLPOINTS if style == "lined" else BALLPOINTS[:3]
        pen = _Pen(
            rng, ImageDraw.Draw(page), rng.choice(fonts), ink=rng.choice(inks), width=rng.choice([3, 3, 4])
        )
    _TEMPLATE_FUNCS[template](pen, rng)
    elements = pen.elements + pen.containers
    if style == "rotated":
        page, elements = _transform(
            page, elements, _rotation(rng.uniform(2.0, 4.0) * rng.choice([-1, 1])), (W, H), (250, 249, 244)
        )
    elif style == "noisy":
        page = _noise(page, rng, strength=14)
    elif style == "photo":
        page, elements = _photo(page, elements, rng)
    elif style == "whiteboard":
        page, elements = _photo(page, elements, rng, glare=True)
    elif style == "lined":
        page = _noise(page, rng, strength=6)
    n = len(pen.elements)
    return Sample(f"{template}-{style}-{seed}", page, elements[:n], template, style, elements[n:])


def _rotation(degrees: float) -> np.ndarray:
    return np.vstack([cv2.getRotationMatrix2D((W / 2, H / 2), degrees, 1.0), [0, 0, 1]])


def _transform(
    page: Image.Image,
    elements: list[dict[str, Any]],
    matrix: np.ndarray,
    size: tuple[int, int],
    border: tuple[int, int, int],
) -> tuple[Image.Image, list]:
    arr = cv2.warpPerspective(
        np.asarray(page),
        matrix,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
    out = []
    for el in elements:
        x, y, w, h = el["bbox"]
        pts = np.array([[[x, y], [x + w, y], [x + w, y + h], [x, y + h]]], dtype=np.float64)
        t = cv2.perspectiveTransform(pts, matrix)[0]
        (x0, y0), (x1, y1) = t.min(axis=0), t.max(axis=0)
        out.append({**el, "bbox": [round(x0), round(y0), round(x1 - x0), round(y1 - y0)]})
    return Image.fromarray(arr), out


def _noise(page: Image.Image, rng: random.Random, strength: float) -> Image.Image:
    gen = np.random.default_rng(rng.randrange(2**32))
    arr: np.ndarray = np.asarray(page, dtype=np.float32)
    arr = arr + gen.normal(0, strength, arr.shape[:2])[..., None]
    # a few specks and a faint crease, as on real paper
    for _ in range(40):
        cy, cx = gen.integers(0, arr.shape[0]), gen.integers(0, arr.shape[1])
        arr[cy : cy + 2, cx : cx + 2] -= 90
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))


def _ruled(page: Image.Image, rng: random.Random) -> None:
    """Ruled notebook paper: faint blue lines and a red margin, under the drawing."""
    draw = ImageDraw.Draw(page)
    step = rng.choice([30, 34, 38])
    for y in range(rng.randrange(40, 80), H, step):
        draw.line([(0, y), (W, y)], fill=(196, 212, 236), width=2)
    x = rng.randrange(60, 110)
    draw.line([(x, 0), (x, H)], fill=(236, 178, 178), width=2)


def _ghosts(page: Image.Image, rng: random.Random) -> None:
    """A whiteboard's half-erased earlier writing: faint grey smears."""
    draw = ImageDraw.Draw(page)
    for _ in range(rng.randrange(3, 8)):
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        pts = [(x + rng.uniform(-120, 120), y + rng.uniform(-25, 25)) for _ in range(5)]
        draw.line(pts, fill=(222, 225, 229), width=rng.choice([6, 10, 14]), joint="curve")


def _photo(
    page: Image.Image, elements: list[dict[str, Any]], rng: random.Random, glare: bool = False
) -> tuple[Image.Image, list]:
    """The sheet on a table (or a whiteboard on a wall, with ``glare``: a shiny patch that
    washes the marker out), shot at an angle under uneven light, saved as a phone would."""
    out_w, out_h = 1400, 1100
    j = lambda: rng.uniform(-35, 35)  # noqa: E731
    src = np.array([[0, 0], [W, 0], [W, H], [0, H]], dtype=np.float32)
    dst = np.array(
        [[90 + j(), 110 + j()], [1310 + j(), 95 + j()], [1330 + j(), 1000 + j()], [70 + j(), 985 + j()]],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(src, dst)
    table = (150, 150, 146) if glare else (96, 80, 66) if rng.random() < 0.5 else (70, 72, 78)
    shot, elements = _transform(page, elements, matrix, (out_w, out_h), table)
    arr = np.asarray(shot, dtype=np.float32)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    cx, cy = rng.uniform(0, out_w), rng.uniform(0, out_h)
    light = 1.0 - 0.35 * np.hypot(xx - cx, yy - cy) / np.hypot(out_w, out_h)
    arr = arr * light[..., None] * np.array([1.0, 0.98, 0.92])
    if glare:
        gx, gy = rng.uniform(0.2, 0.8) * out_w, rng.uniform(0.2, 0.8) * out_h
        shine = np.exp(-(((xx - gx) / (0.25 * out_w)) ** 2 + ((yy - gy) / (0.15 * out_h)) ** 2))
        arr = arr + (255 - arr) * 0.65 * shine[..., None]
    gen = np.random.default_rng(rng.randrange(2**32))
    arr = arr + gen.normal(0, 5, arr.shape[:2])[..., None]
    img = Image.fromarray(arr.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))
    import io

    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=82)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), elements


def write(directory: Path, count: int = 12) -> list[Path]:
    """Save ``count`` samples as PNG/JPEG plus ``<id>.json`` ground truth; returns the image paths."""
    import json

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        s = sample(i)
        path = directory / f"{s.id}.{s.suffix}"
        s.image.save(path)
        (directory / f"{s.id}.json").write_text(json.dumps(s.truth(), indent=1))
        paths.append(path)
    return paths
