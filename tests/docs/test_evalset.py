"""The bundled retrieval set is sound: every question's passage is in its document as
SeeSay's own converter reads it (on the stated page of a PDF)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from seesay.docs.bench import EVALSET, questions
from seesay.docs.convert import Document, convert


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


@cache
def read(name: str) -> Document:
    return convert(EVALSET / "documents" / name)


def test_every_passage_is_in_its_document() -> None:
    asked = questions()
    assert len(asked) >= 30
    assert {q["path"] for q in asked} == {p.name for p in (EVALSET / "documents").iterdir()}
    missing = []
    for q in asked:
        document = read(q["path"])
        sections = [s for s in document.sections if q["page"] is None or s.page == q["page"]]
        if norm(q["passage"]) not in norm(" ".join(s.text for s in sections)):
            missing.append((q["path"], q["page"], q["passage"]))
    assert missing == []


def test_the_set_has_real_pdfs() -> None:
    pdfs = [read(p.name) for p in (EVALSET / "documents").glob("*.pdf")]
    assert len(pdfs) >= 2 and max(d.pages for d in pdfs) >= 100
    assert all(isinstance(d.path, Path) for d in pdfs)
