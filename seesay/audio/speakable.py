"""Markdown → words worth saying aloud.

Replies are written for the screen: a voice that reads "asterisk asterisk" or a code
fence aloud is useless, so formatting marks go, links are read as their text, code
blocks become "Code shown on screen." and emoji are dropped (Piper spells them out).
"""

from __future__ import annotations

import re
import unicodedata

CODE_NOTE = "Code shown on screen."

_FENCED = re.compile(r"```.*?(?:```|$)", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_URL = re.compile(r"\bhttps?://\S+")
_INLINE_CODE = re.compile(r"`([^`]*)`")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_QUOTE = re.compile(r"^\s*>+\s?", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.M)
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$", re.M)
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}.*$", re.M)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_HTML = re.compile(r"</?[a-zA-Z][^>]*>")
_LEFTOVER = re.compile(r"[*#`~|]+|(?<!\w)_+|_+(?!\w)")


def _is_emoji(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat == "So" or cat == "Cs" or ch in "\u200d\ufe0f" or 0x1F000 <= ord(ch) <= 0x1FAFF


def speakable(markdown: str) -> str:
    text = _FENCED.sub(f" {CODE_NOTE} ", markdown)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub("a link", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _RULE.sub("", text)
    text = _TABLE_SEP.sub("", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _BULLET.sub("", text)
    for _ in range(2):  # nested emphasis: ***bold italic***
        text = _EMPHASIS.sub(r"\2", text)
    text = _HTML.sub("", text)
    text = text.replace("|", ", ")
    text = _LEFTOVER.sub("", text)
    text = "".join(ch for ch in text if not _is_emoji(ch))
    text = re.sub(r"\s*,\s*(,\s*)+", ", ", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r" ([,.!?;:])", r"\1", text).strip(" ,")
    return text
