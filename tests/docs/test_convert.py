"""Each supported kind read into text with its pages and sections; each bad file refused with
a sentence that names it and says why."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from seesay.docs.convert import DocumentError, convert
from seesay.docs.passages import WORDS, passages
from tests.docs import files


def test_pdf_pages_are_kept(tmp_path: Path) -> None:
    path = files.pdf(
        tmp_path / "manual.pdf", [f"Page {n}: the pump runs at {n * 10} litres." for n in range(1, 4)]
    )
    document = convert(path)
    assert document.pages == 3
    assert [s.page for s in document.sections] == [1, 2, 3]
    assert "the pump runs at 20 litres" in document.sections[1].text


def test_password_protected_pdf_says_so(tmp_path: Path) -> None:
    plain = files.pdf(tmp_path / "plain.pdf", ["Salaries for 2026."])
    locked = files.encrypted_pdf(tmp_path / "salaries.pdf", plain)
    with pytest.raises(DocumentError, match=r"salaries\.pdf is password-protected"):
        convert(locked)


def test_corrupt_pdf_says_damaged(tmp_path: Path) -> None:
    good = files.pdf(tmp_path / "good.pdf", ["Some text " * 50])
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(good.read_bytes()[:300])
    with pytest.raises(DocumentError, match=r"broken\.pdf is damaged or not a PDF"):
        convert(broken)


def test_empty_and_unsupported_files(tmp_path: Path) -> None:
    empty = tmp_path / "notes.txt"
    empty.write_bytes(b"")
    with pytest.raises(DocumentError, match=r"notes\.txt is empty \(0 bytes\)"):
        convert(empty)
    strange = tmp_path / "model.blend"
    strange.write_bytes(b"BLENDER")
    with pytest.raises(
        DocumentError, match=r"model\.blend is a \.blend file, which SeeSay cannot read; it reads PDF"
    ):
        convert(strange)
    with pytest.raises(DocumentError, match="no longer exists"):
        convert(tmp_path / "gone.md")
    binary = tmp_path / "data.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(DocumentError, match="binary"):
        convert(binary)


def test_office_files(tmp_path: Path) -> None:
    word = convert(
        files.docx(tmp_path / "policy.docx", "Travel policy", ["Trains are booked in second class."])
    )
    assert "Trains are booked in second class." in word.text
    assert word.sections[-1].heading == "Travel policy"
    deck = convert(
        files.pptx(tmp_path / "deck.pptx", [("Goals", "Ship the app"), ("Risks", "The pump leaks")])
    )
    assert [(s.page, "pump leaks" in s.text) for s in deck.sections] == [(1, False), (2, True)]
    sheet = convert(files.xlsx(tmp_path / "prices.xlsx", [["Item", "Price"], ["Valve", 12.5]]))
    assert "Valve" in sheet.text and "12.5" in sheet.text and "Prices" in sheet.sections[0].heading


def test_html_markdown_and_code(tmp_path: Path) -> None:
    html = tmp_path / "page.html"
    html.write_text(
        "<html><body><h1>Setup</h1><p>Run the installer.</p><h2>Proxy</h2><p>Set HTTPS_PROXY.</p>"
        "<script>alert(1)</script></body></html>"
    )
    document = convert(html)
    proxy = next(s for s in document.sections if "HTTPS_PROXY" in s.text)
    assert proxy.heading == "Setup › Proxy"
    assert "alert" not in document.text
    md = tmp_path / "notes.md"
    md.write_text("# Top\n\nIntro.\n\n```sh\n# not a heading\n```\n\n## Next\n\nMore.\n")
    sections = convert(md).sections
    assert [s.heading for s in sections] == ["Top", "Top › Next"]
    code = tmp_path / "tool.py"
    code.write_text("def add(a, b):\n    return a + b\n")
    assert "return a + b" in convert(code).text
    latin = tmp_path / "old.txt"
    latin.write_bytes("Café crème brûlée, façade, naïve".encode("latin-1"))
    assert "Café" in convert(latin).text


def test_passages_stay_within_pages_and_overlap(tmp_path: Path) -> None:
    sentence = "The {n}th valve is checked every week by the night shift."
    long_page = " ".join(sentence.format(n=n) for n in range(80))
    document = convert(files.pdf(tmp_path / "long.pdf", [long_page, "Short second page."]))
    cut = passages(document)
    assert all(len(p.text.split()) <= WORDS for p in cut)
    assert {p.page for p in cut} == {1, 2}
    first_page = [p for p in cut if p.page == 1]
    assert len(first_page) >= 5
    for before, after in itertools.pairwise(first_page):
        assert after.text.split(".")[0] in before.text  # each starts with the end of the one before


EVALSET_DOCUMENTS = Path(__file__).parents[2] / "seesay" / "docs" / "evalset" / "documents"


def test_pdf_sections_come_from_its_outline_without_running_headers() -> None:
    document = convert(EVALSET_DOCUMENTS / "mpich-user-guide.pdf")
    by_heading = {s.heading: s for s in document.sections}
    taking = by_heading["Checkpointing › Taking checkpoints"]
    assert taking.text.startswith("8.2 Taking checkpoints") and taking.page == 14
    assert "Checkpointing › Configuring for checkpointing" in by_heading
    # the chapter named at the top of each of its pages ("5 RUNNING PROGRAMS WITH MPIEXEC 7")
    assert "RUNNING PROGRAMS WITH MPIEXEC" not in document.text
    assert "Running Programs with mpiexec" in document.text  # the heading itself stays
    guide = convert(EVALSET_DOCUMENTS / "reportlab-userguide.pdf")
    assert "Page Layout and Typography Using Scripts\nPage" not in guide.text
    assert any(s.heading.endswith("5.1 Design Goals") for s in guide.sections)


def test_a_pdf_of_repeated_pages_keeps_its_text(tmp_path: Path) -> None:
    path = files.pdf(tmp_path / "form.pdf", ["Sign here and return the form by Friday."] * 5)
    assert convert(path).text.count("Sign here") == 5


def test_running_headers_go_but_lines_that_differ_by_their_numbers_stay(tmp_path: Path) -> None:
    invoices = [4417, 1093, 2750, 3388, 912]
    pages = [
        [
            f"Pond Supplies Ltd, annual report, page {n + 3}",
            f"Invoice {number}: pump filters and hoses",
            "Delivered to the north warehouse.",
            "Paid in full.",
            "Thank you for your order.",
        ]
        for n, number in enumerate(invoices)
    ]
    document = convert(files.pdf_lines(tmp_path / "invoices.pdf", pages))
    assert "annual report" not in document.text  # printed on every page with its page number
    assert all(f"Invoice {number}:" in document.text for number in invoices)
    assert document.text.count("Thank you for your order.") == 5  # a body has nothing removed


def test_underlined_headings_are_sections(tmp_path: Path) -> None:
    faq = tmp_path / "FAQ.txt"
    faq.write_text(
        "==========\n Pond FAQ\n==========\n\nIntro text.\n\n"
        "Pumps\n=====\n\nWhy does the pump hum?\n-----------------------\n\nThe impeller is worn.\n\n"
        "----------\n\nA separator above, not a heading.\n\nFilters\n=======\n\nRinse them weekly.\n"
    )
    sections = convert(faq).sections
    assert [s.heading for s in sections] == [
        "Pond FAQ",
        "Pond FAQ › Pumps",
        "Pond FAQ › Pumps › Why does the pump hum?",
        "Pond FAQ › Filters",
    ]
    assert "A separator above, not a heading." in sections[2].text
    assert not any("=====" in s.text for s in sections)
    notes = tmp_path / "notes.md"
    notes.write_text("Pumps\n=====\n\nOil yearly.\n\nSeals\n-----\n\nCheck it.\n\n## Spares\n\nKeep two.\n")
    assert [s.heading for s in convert(notes).sections] == ["Pumps", "Pumps › Seals", "Pumps › Spares"]


def test_a_heading_with_nothing_under_it_is_not_a_passage(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Pond\n\n## Pumps\n\nThe pump runs all summer.\n")
    found = passages(convert(notes))
    assert [(p.section, p.text) for p in found] == [("Pond › Pumps", "## Pumps\n\nThe pump runs all summer.")]
