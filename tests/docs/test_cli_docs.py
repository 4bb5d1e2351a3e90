"""``seesay docs`` and ``seesay chat --docs / --file`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.docs import files
from tests.test_cli import seesay


def test_add_list_search_remove(seesay_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "bread.md").write_text(
        "# Bread\n\nKnead the dough for ten minutes, then let it rise for an hour."
    )
    files.pdf(
        folder / "soup.pdf",
        ["Contents: starters, mains.", "Simmer the tomato soup with garlic for twenty minutes."],
    )
    (folder / "empty.txt").write_bytes(b"")
    added = seesay("docs", "add", str(folder), home=seesay_home)
    assert added.returncode == 0, added.stderr
    assert "2 file(s) indexed" in added.stdout
    assert "empty.txt is empty (0 bytes)" in added.stderr
    listed = seesay("docs", "list", "--files", home=seesay_home)
    assert f"{folder}  2 file(s)" in listed.stdout and "1 unreadable" in listed.stdout
    found = seesay("docs", "search", "how long should the soup cook?", "--json", "-k", "2", home=seesay_home)
    rows = json.loads(found.stdout)
    assert set(rows[0]) == {"path", "score", "text", "page"}
    assert rows[0]["path"].endswith("soup.pdf") and rows[0]["page"] == 2
    assert rows[0]["score"] > rows[1]["score"]
    removed = seesay("docs", "remove", str(folder), home=seesay_home)
    assert removed.returncode == 0
    assert "empty" in seesay("docs", "list", home=seesay_home).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("docs", "add", "/no/such/folder"), "seesay: error: /no/such/folder does not exist."),
        (("docs", "search", "  "), "seesay: error: The search is empty"),
        (("docs", "remove", "/never/added"), "is not in the library"),
        (("docs", "search", "x", "-k", "0"), "-k must be at least 1"),
    ],
)
def test_errors_are_one_line(seesay_home: Path, args: tuple[str, ...], message: str) -> None:
    result = seesay(*args, home=seesay_home)
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_chat_with_a_file_and_the_library(seesay_home: Path, tmp_path: Path) -> None:
    note = tmp_path / "wifi.md"
    note.write_text(
        "# Office wifi\n\nThe guest network is called Harbor-Guest and its password is tidepool42."
    )
    said = seesay(
        "chat",
        "--once",
        "What is the guest wifi password?",
        "--file",
        str(note),
        "--temperature",
        "0",
        "--max-tokens",
        "64",
        "--no-tools",
        home=seesay_home,
    )
    assert said.returncode == 0, said.stderr
    assert "[attached] wifi.md: all" in said.stderr
    assert "tidepool42" in said.stdout.lower()

    folder = tmp_path / "library"
    folder.mkdir()
    manual = " ".join(
        f"Section {n}: the boiler service interval is checked by an engineer." for n in range(400)
    )
    files.pdf(folder / "boiler.pdf", [manual, "Reset the boiler by holding the red button for five seconds."])
    assert seesay("docs", "add", str(folder), home=seesay_home).returncode == 0
    asked = seesay(
        "chat",
        "--once",
        "How do I reset the boiler?",
        "--docs",
        "--temperature",
        "0",
        "--max-tokens",
        "64",
        "--no-tools",
        home=seesay_home,
    )
    assert asked.returncode == 0, asked.stderr
    assert "Sources:" in asked.stdout and "boiler.pdf, page 2" in asked.stdout
    nothing = seesay("chat", "--once", "Who won the 1966 football world cup?", "--docs", home=seesay_home)
    assert "I found nothing about this in your documents" in nothing.stdout
    assert "Sources:" not in nothing.stdout

    bad = tmp_path / "locked.pdf"
    files.encrypted_pdf(bad, folder / "boiler.pdf")
    # refused before any model loads: the model named here does not even exist
    no_model = str(seesay_home / "no-such-model")
    refused = seesay(
        "chat", "--once", "Summarise it", "--file", str(bad), "--model", no_model, home=seesay_home
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "seesay: error: locked.pdf is password-protected; open it and save a copy without a password."
    )
