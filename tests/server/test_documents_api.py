"""The document library through ``seesay serve`` as OpenAI's vector-store search, with the
official client."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from seesay.docs.library import Library
from seesay.store import HistoryStore


def test_library_search_with_the_openai_client(client: openai.OpenAI, server: object, tmp_path: Path) -> None:
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "leave.md").write_text("# Leave\n\nEvery employee gets 27 days of paid holiday a year.")
    (folder / "it.md").write_text("# IT\n\nLaptops are replaced every four years.")
    store = HistoryStore(server.home / "data" / "history.sqlite3")  # type: ignore[attr-defined]
    library = Library(store)
    library.add_folder(folder)
    assert library.sync().indexed == 2
    try:
        page = client.vector_stores.search(
            "library", query="How many vacation days do I get?", max_num_results=2
        )
        assert page.data[0].filename == "leave.md"
        assert "27 days" in page.data[0].content[0].text
        assert page.data[0].score > page.data[1].score
        assert page.data[0].attributes["path"] == str(folder.resolve() / "leave.md")
        with pytest.raises(openai.NotFoundError, match="the document library is 'library'"):
            client.vector_stores.search("vs_other", query="anything")
        with pytest.raises(openai.UnprocessableEntityError):
            client.vector_stores.search("library", query="")
    finally:
        library.remove_folder(folder)
        store.close()
