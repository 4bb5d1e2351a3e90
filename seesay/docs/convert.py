"""Files to text with their pages and sections, so that a passage can be cited by both.

PDFs are read page by page (``pdf.py``), their sections named by their outline; Word,
PowerPoint, Excel and HTML become Markdown through markitdown, whose headings, slide markers
and sheet names become sections.
Plain text, Markdown and source code are read as they are.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from seesay.errors import InputError

log = logging.getLogger(__name__)

MAX_BYTES = 200 * 1024 * 1024
PDF = {".pdf"}
MARKITDOWN = {".docx", ".pptx", ".xlsx", ".html", ".htm", ".xhtml"}
MARKDOWN = {".md", ".markdown", ".rst", ".org"}
PLAIN = {".txt", ".text", ".log", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".toml", ".ini", ".cfg"}
CODE = {
    ".py", ".pyi", ".js", ".jsx", ".ts", ".tsx", ".mjs", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs",
    ".java", ".kt", ".go", ".rs", ".rb", ".php", ".swift", ".scala", ".sh", ".bash", ".zsh", ".ps1",
    ".sql", ".r", ".lua", ".pl", ".m", ".css", ".scss", ".xml", ".tex",
}  # fmt: skip
SUPPORTED = PDF | MARKITDOWN | MARKDOWN | PLAIN | CODE
KINDS = "PDF, Word (.docx), PowerPoint (.pptx), Excel (.xlsx), HTML, Markdown, text and source code"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")  # Markdown's backslash escapes: "HTTPS\_PROXY"
# Inline Markdown reduced to the words a reader sees: links to their text, emphasis and code
# spans to their content (a passage is quoted and searched as shown, not as marked up).
_INLINE = (
    (re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)([^_\n]+?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"(?<!`)`([^`\n]+)`(?!`)"), r"\1"),
)
_SLIDE = re.compile(r"^<!--\s*Slide number:\s*(\d+)\s*-->\s*$")
_SETEXT = re.compile(r"^(=|-)\1{2,}\s*$")
_ADORNMENT = re.compile(r"^([=\-~^\"'`#*+:.!_<>])\1{2,}\s*$")
REST = {".rst", ".txt", ".text"}  # underlined headings, the convention of reStructuredText


class DocumentError(InputError):
    """A file that cannot be read as a document; the message names the file and why."""


class Cancelled(Exception):
    """Reading stopped because the caller asked (a folder was removed, the app is closing)."""


@dataclass(frozen=True)
class Section:
    text: str
    page: int | None = None  # 1-based page (PDF) or slide (PowerPoint)
    heading: str = ""  # the headings above this text, outermost first, joined by " › "


@dataclass(frozen=True)
class Document:
    path: Path
    sections: list[Section] = field(default_factory=list)
    pages: int = 0

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.sections)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


def is_heading(line: str, heading: str) -> bool:
    """Whether ``line`` is just ``heading``, perhaps numbered ("8 Checkpointing"), whatever the
    case and punctuation."""
    line, heading = re.sub(r"\W+", "", line).lower(), re.sub(r"\W+", "", heading).lower()
    number = line[: len(line) - len(heading)]
    return bool(heading) and line.endswith(heading) and (number == "" or number.isdigit())


def supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED


def convert(
    path: Path,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[str], None] = lambda _m: None,
) -> Document:
    """The document's text; :class:`DocumentError` with a sentence for the user otherwise.
    ``progress`` hears how far a long read has come ("Reading page 40 of 200…")."""
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        what = f"a {suffix} file" if suffix else "a file without an extension"
        raise DocumentError(f"{name} is {what}, which SeeSay cannot read; it reads {KINDS}.")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DocumentError(f"{name} no longer exists.") from None
    except OSError as e:
        raise DocumentError(f"{name} cannot be read: {e.strerror or e}.") from e
    if not path.is_file():
        raise DocumentError(f"{name} is not a file.")
    if size == 0:
        raise DocumentError(f"{name} is empty (0 bytes).")
    if size > MAX_BYTES:
        raise DocumentError(
            f"{name} is {size / 2**20:.0f} MB; SeeSay reads documents up to {MAX_BYTES // 2**20} MB."
        )
    if suffix in PDF:
        from seesay.docs.pdf import read_pdf

        document = read_pdf(path, cancelled, progress)
    elif suffix in MARKITDOWN:
        document = Document(path, _markdown_sections(_markitdown(path)))
    elif suffix in REST:
        document = Document(path, _markdown_sections(_read_text(path), "rest"))
    elif suffix in MARKDOWN:
        document = Document(path, _markdown_sections(_read_text(path)))
    else:
        document = Document(path, [Section(_read_text(path))])
    document = Document(path, [s for s in document.sections if s.text.strip()], document.pages)
    if not document.sections:
        scanned = " (it may be scanned pages without a text layer)" if suffix in PDF else ""
        raise DocumentError(f"{name} has no text SeeSay can read{scanned}.")
    return document


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DocumentError(f"{path.name} cannot be read: {e.strerror or e}.") from e
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{path.name} looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise DocumentError(f"{path.name} is not text in any encoding SeeSay recognises.") from None
        return str(best)


def _markitdown(path: Path) -> str:
    from markitdown import MarkItDown

    try:
        markdown = str(MarkItDown(enable_plugins=False).convert_local(str(path)).markdown)
    except Exception as e:  # markitdown wraps each converter's own errors in its own types
        detail = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise DocumentError(f"{path.name} could not be read; it may be damaged ({detail[:200]}).") from e
    return _ESCAPE.sub(r"\1", markdown)  # quoted and searched as the words the document shows


def _markdown_sections(text: str, style: str = "markdown") -> list[Section]:
    """Markdown (``style="markdown"``) or reStructuredText and plain text (``"rest"``) cut at its
    headings (and slide markers), each part knowing the headings above it.

    Markdown's headings are ``#`` lines or a line underlined with ``===`` (level 1) or ``---``
    (level 2); reStructuredText's are a line underlined (and perhaps overlined) with a run of
    one punctuation mark, each style a level deeper than the styles seen before it, the
    convention of README.txt and FAQ.txt files as well.
    """
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []
    styles: list[tuple[str, bool]] = []  # reStructuredText's adornments, in the order first seen
    page: int | None = None
    lines: list[str] = []
    fenced = False
    rows = text.splitlines()

    def close() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(body, page, " › ".join(h for _, h in trail)))
        lines.clear()

    def enter(level: int, title: str, line: str) -> None:
        nonlocal trail
        close()
        title = title.strip().rstrip("¶").strip()  # a permalink mark of HTML documentation
        trail = [(lv, h) for lv, h in trail if lv < level] + [(level, title)]
        lines.append(line)  # the heading stays in the text: it is often what a question names

    n = 0
    while n < len(rows):
        line = rows[n]
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and style == "markdown":
            for pattern, replacement in _INLINE:
                line = pattern.sub(replacement, line)
        underlined = None if fenced else _underlined(rows, n, style)
        slide = None if fenced or style != "markdown" else _SLIDE.match(line)
        heading = None if fenced or style != "markdown" else _HEADING.match(line)
        if underlined is not None:
            mark, overlined, title = underlined
            if style == "markdown":
                level = 1 if mark == "=" else 2
            else:
                if (mark, overlined) not in styles:
                    styles.append((mark, overlined))
                level = styles.index((mark, overlined)) + 1
            enter(level, title, title.strip())
            n += 3 if overlined else 2
            continue
        if slide:
            close()
            page, trail = int(slide.group(1)), []
        elif heading:
            enter(len(heading.group(1)), heading.group(2), line)
        else:
            lines.append(line)
        n += 1
    close()
    return sections


def _underlined(rows: list[str], n: int, style: str) -> tuple[str, bool, str] | None:
    """(mark, overlined, title) when a heading drawn with a line of marks starts at ``rows[n]``."""
    adornment = _SETEXT if style == "markdown" else _ADORNMENT
    over = adornment.match(rows[n]) if style != "markdown" else None
    at = n + 1 if over else n
    if at + 1 >= len(rows) or (at > 0 and not over and rows[at - 1].strip()):
        return None
    title, under = rows[at], adornment.match(rows[at + 1])
    if not title.strip() or len(title.strip()) > 120 or title.startswith("    ") or under is None:
        return None
    if adornment.match(title) or (over and over.group(1) != under.group(1)):
        return None
    if style != "markdown" and len(rows[at + 1].rstrip()) < len(title.rstrip()):
        return None
    return under.group(1), over is not None, title
