"""Cut streamed LLM text into sentences as early as they are certain, for TTS.

Speaking can start after the first sentence only if we know it has ended: a period is
an ending when whitespace follows and it does not close an abbreviation ("e.g.",
"Dr."), an initial ("J.") or a list number ("2."); "3.14" never has whitespace after
its point. Fenced code blocks are held whole (they become one spoken note), every
Markdown line break ends a unit, a run-on sentence is cut at a comma once it grows
long, and :meth:`SentenceSplitter.flush` returns the unfinished remainder.

:func:`bounded_pieces` serves the synthesizer rather than the reader: whatever the
text's punctuation, no piece exceeds a character limit, because a voice model's memory
and its time to the first sound grow with the length of what it is handed at once.

With ``early=True`` (the voice loop) the *first* unit is cut sooner: at a clause
boundary (comma, colon, dash) once it has a few words, or before a joining word
("that", "with", "because"...) once it has several. The listener hears nothing until
that unit is written *and* synthesised, so a 25-word opening sentence costs a second
of silence; a short opening clause sounds natural, and later sentences are written and
synthesised while it plays.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

ABBREVIATIONS = frozenset(
    """
mr mrs ms dr prof sr jr st mt vs etc e.g i.e eg ie cf al approx no nos fig figs vol ch sec inc ltd
co corp dept est jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun p.m
a.m pm am u.s u.k ph.d a.k.a ca
""".split()  # noqa: SIM905 - a word list reads better so
)

_END = re.compile(r"""([.!?…]+|[。！？])(["'”’)\]»*_]*)(\s+)""")
_FENCE = "```"
LONG = 220  # characters after which a sentence is cut at a comma or a space
_SOFT_BREAK = re.compile(r"[,;:–—]\s")
CLAUSE_WORDS = 4  # an early first unit ends at a comma/colon/dash after at least this many words
PHRASE_WORDS = 7  # ... or before a joining word after at least this many
MAX_FIRST_WORDS = 16  # ... or, failing both, after this many
JOINERS = frozenset(
    """
and but or so because that which who whose where when while with without although though unless
until since if than after before like
""".split()  # noqa: SIM905 - a word list reads better so
)
_WORD = re.compile(r"\S+")


def _is_abbreviation(text: str, dot: int) -> bool:
    """Does the '.' at ``dot`` close an abbreviation, an initial or a list number?"""
    start = dot
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "([\"'":
        start -= 1
    word = text[start:dot].lower()
    if not word:
        return False
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha() and text[start].isupper():  # an initial: "J. R. R."
        return True
    line_start = text.rfind("\n", 0, start) + 1
    return word.isdigit() and not text[line_start:start].strip()  # "2. Item" at a line start


class SentenceSplitter:
    """``feed(delta)`` returns the sentences completed so far; ``flush()`` the rest."""

    def __init__(self, long: int = LONG, *, early: bool = False) -> None:
        self._buf = ""
        self.long = long
        self.early = early
        self._pieces = 0

    def feed(self, delta: str) -> list[str]:
        self._buf += delta
        out: list[str] = []
        while True:
            piece = self._next()
            if piece is None:
                break
            if piece.strip():
                out.append(piece.strip())
                self._pieces += 1
        return out

    def flush(self) -> list[str]:
        rest, self._buf = self._buf.strip(), ""
        return [rest] if rest else []

    def _next(self) -> str | None:
        buf = self._buf
        fence = buf.find(_FENCE)
        limit = len(buf) if fence < 0 else fence
        if fence == 0 or (fence > 0 and not buf[:fence].strip()):
            close = buf.find(_FENCE, fence + 3)
            if close < 0:
                return None  # wait for the whole block
            end = buf.find("\n", close + 3)
            if end < 0:
                return None  # the closing fence line may still be growing
            return self._take(end + 1)
        cut = self._boundary(buf, limit)
        if cut is None and self.early and self._pieces == 0 and fence != 0:
            cut = _early_cut(buf[:limit])
        if cut is None and fence > 0:
            cut = fence  # text before a code block is a unit of its own
        if cut is None and len(buf) > self.long:
            cut = self._soft_cut(buf[: self.long])
        return None if cut is None else self._take(cut)

    def _boundary(self, buf: str, limit: int) -> int | None:
        newline = buf.find("\n", 0, limit)
        for m in _END.finditer(buf, 0, limit):
            if newline >= 0 and newline < m.start():
                break
            if m.group(1) == "." and _is_abbreviation(buf, m.start(1)):
                continue
            return m.end(2)
        return newline + 1 if newline >= 0 else None

    @staticmethod
    def _soft_cut(head: str) -> int:
        matches = list(_SOFT_BREAK.finditer(head))
        if matches and matches[-1].end() > len(head) // 3:
            return matches[-1].end()
        space = head.rfind(" ")
        return space + 1 if space > 0 else len(head)

    def _take(self, n: int) -> str:
        piece, self._buf = self._buf[:n], self._buf[n:]
        return piece


def _early_cut(head: str) -> int | None:
    """Where an opening clause of ``head`` can be spoken on its own, if anywhere yet.

    Only whole words count (a word is whole once whitespace follows it); a cut before a
    joining word needs the word before it to end in a letter or digit, so a Markdown
    marker or an open bracket is never left dangling.
    """
    words = [m for m in _WORD.finditer(head) if m.end() < len(head)]
    for i, m in enumerate(words):
        n, word = i + 1, m.group()
        if n >= CLAUSE_WORDS and (word[-1] in ",;:" or word in ("-", "–", "—")):
            return m.end()
        if n >= PHRASE_WORDS and i + 1 < len(words):
            following = words[i + 1].group().lower().strip("\"'*_(")
            if following in JOINERS and word[-1].isalnum():
                return m.end()
        if n >= MAX_FIRST_WORDS:
            return m.end()
    return None


def split_all(text: str) -> list[str]:
    """Sentences of a finished text (same rules as streaming)."""
    s = SentenceSplitter()
    return s.feed(text) + s.flush()


_CLAUSE_END = re.compile(r"[,;:–—](?=\s)|\s[-–—](?=\s)")


def bounded_pieces(text: str, limit: int) -> Iterator[str]:
    """``text`` in stripped pieces of at most ``limit`` characters, each cut at the most natural place.

    Within each window of ``limit`` characters the cut goes after the last sentence end or
    line break; failing that after the last clause mark (comma, semicolon, colon, dash) in
    the later two thirds of the window, so a piece is not left tiny; failing that at the
    last whitespace; and only a single "word" longer than the window is cut inside it
    (never between a character and its combining marks). The text is walked once, a
    window at a time, so the cost is linear in its length whatever it holds.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    n, pos = len(text), 0
    while pos < n:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            return
        if n - pos <= limit:
            yield text[pos:].strip()
            return
        head = text[pos : pos + limit + 1]  # one more character: is the window followed by a space?
        cut = _piece_end(head, limit)
        piece = text[pos : pos + cut].strip()
        if piece:
            yield piece
        pos += cut


def _piece_end(head: str, limit: int) -> int:
    """Where to end the piece that starts ``head`` (at most ``limit``; ``head`` holds one more)."""
    best = 0
    for m in _END.finditer(head):
        end = m.end(2)
        if end > limit:
            break
        if m.group(1) == "." and _is_abbreviation(head, m.start(1)):
            continue
        best = end
    newline = head.rfind("\n", 0, limit)
    best = max(best, newline + 1)
    if best:
        return best
    clauses = [m.end() for m in _CLAUSE_END.finditer(head) if m.end() <= limit]
    if clauses and clauses[-1] > limit // 3:
        return clauses[-1]
    for i in range(limit, 0, -1):
        if head[i].isspace():
            return i
    cut = limit
    while cut > 1 and unicodedata.combining(head[cut]):
        cut -= 1
    return cut
