"""PDFs read with PDFium (pypdfium2: the engine Chrome uses, 40x faster here than a
pure-Python reader and better at columns), page by page, into sections named by the PDF's own
outline and without the running headers and footers printed with the page numbers.

The outline (the bookmarks a reader shows beside the pages) is what a PDF has instead of
Markdown's headings: it gives a passage its chapter and section for the citation and for the
search (a passage's section is embedded with it), and a page is cut where a section's title
line starts so that no passage straddles two sections. A line at the top or bottom of many
pages that only changes with the page number ("User Guide Chapter 5 ... Page 65") says nothing
about the passage it would land in, so it is left out.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from seesay.docs.convert import Cancelled, Document, DocumentError, Section, is_heading

log = logging.getLogger(__name__)

# PDFium is not thread-safe (its last error, for one, is process-wide: two files opened at
# once were told apart wrongly as damaged or password-protected), so every call into it holds
# this lock; taken a page at a time, two documents being read still take turns.
_PDFIUM = threading.Lock()
OUTLINE_ENTRIES = 5000  # more bookmarks than this is not a table of contents a reader uses
EDGE_LINES = 2  # a page's first and last lines are where running headers and footers are,
RUNNING = 3  # left out when the same words and page number are there on this many pages
RUNNING_CHARS = 120
_NUMBERS = re.compile(r"\d+")


def read_pdf(path: Path, cancelled: Callable[[], bool], progress: Callable[[str], None]) -> Document:
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as e:
            if "password" in str(e).lower():
                raise DocumentError(
                    f"{path.name} is password-protected; open it and save a copy without a password."
                ) from e
            raise DocumentError(f"{path.name} is damaged or not a PDF ({e}).") from e
        count = len(pdf)
    try:
        with _PDFIUM:
            outline = _outline(pdf, count)
        pages = []
        for index in range(count):
            if cancelled():
                raise Cancelled
            if count > 1:
                progress(f"Reading page {index + 1} of {count}…")
            with _PDFIUM:
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    text = textpage.get_text_bounded()
                    textpage.close()
                except pdfium.PdfiumError as e:
                    log.warning("page %d of %s could not be read: %s", index + 1, path, e)
                    text = ""
                finally:
                    page.close()
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "").replace("\x02", "")
            pages.append(text.split("\n"))
        return Document(path, _sections(_without_running_lines(pages), outline), pages=count)
    finally:
        with _PDFIUM:
            pdf.close()


def _outline(pdf: object, count: int) -> dict[int, list[tuple[int, str]]]:
    """(level, title) of the bookmarks that start on each page (0-based), in reading order."""
    starts: dict[int, list[tuple[int, str]]] = {}
    try:
        for n, mark in enumerate(pdf.get_toc()):  # type: ignore[attr-defined]
            if n >= OUTLINE_ENTRIES:
                break
            destination = mark.get_dest()
            index = destination.get_index() if destination is not None else None
            title = " ".join((mark.get_title() or "").split())
            if index is not None and 0 <= index < count and title:
                starts.setdefault(index, []).append((mark.level, title))
    except Exception as e:  # a damaged outline costs the sections, not the document
        log.info("the outline of %s could not be read: %s", getattr(pdf, "name", "a PDF"), e)
    return starts


def _key(line: str) -> str:
    return re.sub(r"\W+", "", line).lower()


def _edges(lines: list[str]) -> list[int]:
    """Where a running header or footer can be on a page: its first and last lines, when they are
    short and the page has a body between them."""
    if len(lines) <= 2 * EDGE_LINES:
        return []
    where = [*range(EDGE_LINES), *range(len(lines) - EDGE_LINES, len(lines))]
    return [n for n in where if len(lines[n]) <= RUNNING_CHARS]


def _running_keys(line: str, index: int) -> set[str]:
    """What makes ``line`` the same running header or footer as on other pages: its words and a
    number that goes up with the page (the printed page number). A line repeated as it is, or
    with other numbers ("Invoice 4417"), may be what the pages are about, and stays."""
    key = _key(line)
    pattern = _NUMBERS.sub("#", key)
    if not pattern.strip("#"):
        return set()  # a bare page number: harmless, and nothing to match on
    return {f"{pattern}@{int(n) - index}" for n in _NUMBERS.findall(key)[:4]}


def _without_running_lines(pages: list[list[str]]) -> list[list[str]]:
    pages = [[line for line in lines if line.strip()] for lines in pages]
    seen: Counter[str] = Counter()
    for index, lines in enumerate(pages):
        seen.update(set().union(*(_running_keys(lines[n], index) for n in _edges(lines))))
    running = {key for key, n in seen.items() if n >= RUNNING}
    if not running:
        return pages
    out = []
    for index, lines in enumerate(pages):
        drop = {n for n in _edges(lines) if _running_keys(lines[n], index) & running}
        out.append([line for n, line in enumerate(lines) if n not in drop])
    return out


def _heading_line(lines: list[str], start: int, title: str) -> int | None:
    """Where the line holding ``title`` is (a section number before it allowed), from ``start``."""
    return next((n for n in range(start, len(lines)) if is_heading(lines[n], title)), None)


def _sections(pages: list[list[str]], outline: dict[int, list[tuple[int, str]]]) -> list[Section]:
    sections: list[Section] = []
    trail: list[tuple[int, str]] = []

    def add(lines: list[str], page: int) -> None:
        text = "\n".join(lines).strip()
        if text:
            sections.append(Section(text, page, " › ".join(title for _, title in trail)))

    for index, lines in enumerate(pages):
        cut = 0
        for level, title in outline.get(index, []):
            at = _heading_line(lines, cut, title)
            if at is not None:
                add(lines[cut:at], index + 1)
                cut = at
            trail = [(lv, t) for lv, t in trail if lv < level] + [(level, title)]
        add(lines[cut:], index + 1)
    return sections
