"""Granted folders: reads stay inside them, links are followed before the check, writes ask."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seesay.tools.files import Folders, file_tools


@pytest.fixture()
def tools(tmp_path: Path) -> dict:
    granted = tmp_path / "granted"
    (granted / "sub").mkdir(parents=True)
    (granted / "notes.txt").write_text("Budget meeting on Tuesday.\nBring the tax forms.\n")
    (granted / "sub" / "todo.md").write_text("- call the plumber\n")
    (granted / "blob.bin").write_bytes(b"\0\1\2" * 10)
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2")
    os.symlink(secret, granted / "link.txt")
    return {t.name: t for t in file_tools(Folders([granted]))}


def test_read_search_and_list(tools: dict) -> None:
    read = tools["read_file"].call({"path": "notes.txt"})
    assert "Budget meeting" in read.content and read.untrusted and not read.is_error
    found = tools["search_files"].call({"query": "tax"})
    assert "notes.txt: Bring the tax forms." in found.content
    listed = tools["list_files"].call({})
    assert "todo.md" in listed.content and "secret" not in listed.content
    assert "binary" in tools["read_file"].call({"path": "blob.bin"}).content


def test_nothing_outside_the_granted_folders(tools: dict, tmp_path: Path) -> None:
    for path in (
        "../secret.txt",
        str(tmp_path / "secret.txt"),
        "link.txt",
        "/etc/passwd",
        "sub/../../secret.txt",
    ):
        result = tools["read_file"].call({"path": path})
        assert result.is_error and "outside the granted folders" in result.content, path
        assert "hunter2" not in result.content
    assert "hunter2" not in tools["search_files"].call({"query": "password"}).content


def test_write_is_side_effecting_and_stays_inside(tools: dict, tmp_path: Path) -> None:
    write = tools["write_file"]
    assert write.side_effects and not tools["read_file"].side_effects
    assert not write.call({"path": "sub/new.txt", "content": "hello"}).is_error
    assert (tmp_path / "granted" / "sub" / "new.txt").read_text() == "hello"
    assert write.call({"path": "../escape.txt", "content": "x"}).is_error
    assert not (tmp_path / "escape.txt").exists()
