"""Documents in a conversation: files attached to a message, passages found in the library,
put in front of the model as numbered, fenced sources and kept with the reply that used them.

A short file goes into the context whole; a long one is indexed (as the library's folders
are) and searched with each question, so a 200-page manual costs the context what five
passages cost. Passages are untrusted content: fenced like tool output, never instructions.
When nothing found is close enough to the question, the reply says so instead of letting
the model answer from nothing (a small model invents a plausible page otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from seesay.docs.convert import DocumentError, convert
from seesay.docs.library import Hit, Library

WHOLE_CHARS = 12_000  # about 3,000 tokens: a small model's context keeps room for the chat
SOURCES = 5
# Cosine similarity of a passage to the question below which it is not offered as a source.
# On the bundled question set the answering passages found scored 0.35-0.85 (median 0.60);
# for twelve questions the documents do not cover, the best passage scored 0.10-0.26.
RELEVANT = 0.30
NOTHING_FOUND = (
    "I found nothing about this in your documents, so I won't guess. Try other words, or add the "
    "folder that has the answer to the library."
)
INSTRUCTION = (
    "Numbered passages from the user's documents follow. Answer from them and cite them by number "
    "in square brackets, like [1]. If they do not answer the question, say the documents do not say."
)


@dataclass(frozen=True)
class Attachment:
    path: str
    name: str
    pages: int
    chars: int
    whole: bool  # the model reads all of it; otherwise the passages each question finds
    text: str = ""

    def describe(self) -> str:
        pages = f"{self.pages} pages, " if self.pages else ""
        if self.whole:
            return f"{self.name}: {pages}all {self.chars:,} characters read"
        return f"{self.name}: {pages}{self.chars:,} characters, searched for each question"

    def to_meta(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_meta(cls, data: dict[str, Any]) -> Attachment:
        return cls(
            str(data.get("path", "")),
            str(data.get("name", "")),
            int(data.get("pages", 0)),
            int(data.get("chars", 0)),
            bool(data.get("whole", False)),
            str(data.get("text", "")),
        )


@dataclass(frozen=True)
class Source:
    n: int
    path: str
    page: int | None
    section: str
    text: str
    chunk_id: int

    def label(self) -> str:
        parts = [Path(self.path).name]
        if self.page:
            parts.append(f"page {self.page}")
        if self.section:
            parts.append(self.section)
        return ", ".join(parts)

    def to_meta(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_meta(cls, data: dict[str, Any]) -> Source:
        page = data.get("page")
        return cls(
            int(data.get("n", 0)),
            str(data.get("path", "")),
            int(page) if page else None,
            str(data.get("section", "")),
            str(data.get("text", "")),
            int(data.get("chunk_id", 0)),
        )


def attach(
    path: Path,
    library: Library | None,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[str], None] = lambda _m: None,
) -> Attachment:
    """Reads a file for a message: whole when it is short, else indexed for search.
    ``cancelled`` ends a long read early (raising ``Cancelled``), as when its chip is removed;
    ``progress`` hears how far it has come, in words for the chip."""
    path = Path(path).expanduser().resolve()
    document = convert(path, cancelled, progress)
    if document.chars <= WHOLE_CHARS:
        return Attachment(str(path), path.name, document.pages, document.chars, True, document.text)
    if library is None:
        raise DocumentError(
            f"{path.name} is too long to read whole ({document.chars:,} characters), and without the "
            "history database there is nowhere to index it for search."
        )
    if not library.is_current(path):  # attached again, or already in a library folder: read once
        library.index_file(path, cancelled=cancelled, document=document, progress=progress)
    return Attachment(str(path), path.name, document.pages, document.chars, False)


def find_sources(
    library: Library, question: str, files: Iterable[str] = (), use_library: bool = False
) -> list[Source]:
    """The passages offered for ``question``: from searched attachments and, if asked, the library."""
    hits: list[Hit] = []
    files = sorted(set(files))
    if files:
        hits.extend(library.search(question, SOURCES, paths=files))
    if use_library:
        hits.extend(library.search(question, SOURCES, folders_only=True))
    kept = sorted((h for h in hits if h.similarity >= RELEVANT), key=lambda h: h.similarity, reverse=True)
    seen: set[int] = set()
    sources: list[Source] = []
    for h in kept:
        if h.chunk_id in seen:
            continue
        seen.add(h.chunk_id)
        sources.append(Source(len(sources) + 1, h.path, h.page, h.section, h.text, h.chunk_id))
        if len(sources) == SOURCES:
            break
    return sources


def sources_block(sources: Sequence[Source]) -> str:
    from seesay.tools.approvals import mark_untrusted

    fenced = [mark_untrusted(s.text, f"[{s.n}] {s.label()}") for s in sources]
    return "\n\n".join([INSTRUCTION, *fenced])


def with_attachments(content: str, attachments: Sequence[Attachment]) -> str:
    """A user message as the model reads it: whole attachments' text fenced, then the words
    (the question last: the bundled model answered from the file only in this order)."""
    from seesay.tools.approvals import mark_untrusted

    whole = [mark_untrusted(a.text, f"attached file {a.name}") for a in attachments if a.whole and a.text]
    return "\n\n".join([*whole, content]) if whole else content
