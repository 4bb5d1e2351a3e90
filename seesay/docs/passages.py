"""Documents cut into passages small enough to embed whole and to quote as a source.

A passage is at most ``WORDS`` words (all-MiniLM-L6-v2 reads 256 tokens; on the bundled
question set 100 words found more answers in the top five than 60 or 150), never crosses a
page or a section, and starts with the last sentences of the passage before it, so a
sentence cut by a boundary is still whole in one of the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from seesay.docs.convert import Document, is_heading

WORDS = 100
OVERLAP = 30
UNIT_WORDS = 8  # a sentence window's shortest sentence: shorter lines join the next
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n")


@dataclass(frozen=True)
class Passage:
    ordinal: int
    text: str
    page: int | None
    section: str

    def for_embedding(self) -> str:
        """The section's headings say what a passage is about even when its words do not."""
        return f"{self.section}\n{self.text}" if self.section else self.text

    def windows(self) -> list[str]:
        """Each two neighbouring sentences of the passage (lines of a list or table joined until
        they say something): a question usually asks about one or two sentences, whose meaning
        is blurred in the vector of the whole passage."""
        units: list[str] = []
        for sentence in _SENTENCE_END.split(self.text):
            if not sentence.strip():
                continue
            if units and len(units[-1].split()) < UNIT_WORDS:
                units[-1] += " " + sentence.strip()
            else:
                units.append(sentence.strip())
        if len(units) > 1 and len(units[-1].split()) < UNIT_WORDS:
            last = units.pop()
            units[-1] += " " + last
        if len(units) <= 2:
            return [" ".join(units)] if units else []
        return [f"{units[i]} {units[i + 1]}" for i in range(len(units) - 1)]


def passages(document: Document) -> list[Passage]:
    out: list[Passage] = []
    for section in document.sections:
        if section.heading and is_heading(section.text, section.heading.split(" › ")[-1]):
            continue  # a heading straight above a subheading: the subsection's passages name it
        for text in _pack(_pieces(section.text)):
            out.append(Passage(len(out), text, section.page, section.heading))
    return out


def _pieces(text: str) -> Iterator[str]:
    """Paragraphs, or the sentences (at worst the word runs) of a paragraph too long for one passage."""
    for paragraph in re.split(r"\n\s*\n", text):
        words = paragraph.split()
        if not words:
            continue
        if len(words) <= WORDS:
            yield _tidy(paragraph)
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            sentence_words = sentence.split()
            for start in range(0, len(sentence_words), WORDS):
                piece = sentence_words[start : start + WORDS]
                if piece:
                    yield " ".join(piece)


def _tidy(paragraph: str) -> str:
    """Lines kept (tables, code and lists read by line), runs of spaces folded."""
    return "\n".join(" ".join(line.split()) for line in paragraph.strip().splitlines() if line.strip())


def _pack(pieces: Iterator[str]) -> Iterator[str]:
    current: list[str] = []
    count = 0
    for piece in pieces:
        size = len(piece.split())
        if current and count + size > WORDS:
            yield "\n\n".join(current)
            current, count = _tail(current), 0
            count = sum(len(p.split()) for p in current)
            if count + size > WORDS:
                current, count = [], 0
        current.append(piece)
        count += size
    if current:
        yield "\n\n".join(current)


def _tail(pieces: list[str]) -> list[str]:
    """The last sentences of a passage, up to ``OVERLAP`` words, to start the next one with."""
    sentences = [s for s in _SENTENCE_END.split(pieces[-1]) if s.strip()]
    kept: list[str] = []
    total = 0
    for sentence in reversed(sentences):
        size = len(sentence.split())
        if total + size > OVERLAP:
            break
        kept.insert(0, sentence.strip())
        total += size
    return [" ".join(kept)] if kept else []
