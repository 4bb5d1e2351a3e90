"""Documents in a conversation on the bundled model: what the model is given, what is kept
with the reply, and the refusal to guess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from seesay.chat import ChatSession
from seesay.config import Settings
from seesay.docs.grounding import INSTRUCTION, NOTHING_FOUND, WHOLE_CHARS, attach
from seesay.docs.library import Library
from seesay.inference.engine import GenerationParams
from seesay.store import HistoryStore

PARAMS = GenerationParams(max_new_tokens=24, temperature=0.0)


class Watched:
    """The real engine, with the messages of each reply it was asked for kept."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.asked: list[list[dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def stream(self, messages: Any, params: Any = None) -> Any:
        self.asked.append(list(messages))
        return self.engine.stream(messages, params)


@pytest.fixture()
def setup(tmp_path: Path, bundled_llama: Any) -> tuple[ChatSession, Watched, Library]:
    store = HistoryStore(tmp_path / "history.sqlite3")
    library = Library(store)
    watched = Watched(bundled_llama)
    session = ChatSession(watched, Settings().replace({"tools.enabled": False}), store, library=library)
    return session, watched, library


def test_a_short_file_is_read_whole_before_the_question(setup: Any, tmp_path: Path) -> None:
    session, watched, _library = setup
    note = tmp_path / "parking.md"
    note.write_text("Visitors park on level -2; the code for the barrier is 4471.")
    attachment = attach(note, session.library)
    assert attachment.whole and attachment.describe() == "parking.md: all 60 characters read"
    session.send("Where do visitors park?", PARAMS, attachments=[attachment]).text()
    user = watched.asked[-1][-1]["content"]
    assert user.index("code for the barrier is 4471") < user.index("Where do visitors park?")
    assert '<untrusted source="attached file parking.md">' in user
    saved = session.store.messages(session.conversation_id)[0]
    assert saved.content == "Where do visitors park?" and saved.meta["attachments"][0]["name"] == "parking.md"


def test_a_long_file_is_searched_and_its_sources_kept(setup: Any, tmp_path: Path) -> None:
    session, watched, library = setup
    long = tmp_path / "handbook.md"
    filler = "\n\n".join(
        f"## Rule {n}\n\nForms for department {n} are filed on the {n}th floor." for n in range(400)
    )
    long.write_text(f"# Handbook\n\n{filler}\n\n## Holidays\n\nStaff get 27 days of paid holiday each year.")
    attachment = attach(long, library)
    assert not attachment.whole and attachment.chars > WHOLE_CHARS
    assert library.is_current(long)
    session.send("How many vacation days do employees get?", PARAMS, attachments=[attachment]).text()
    user = watched.asked[-1][-1]["content"]
    assert user.startswith(INSTRUCTION) and "27 days of paid holiday" in user
    assert user.endswith("How many vacation days do employees get?")
    reply = session.store.messages(session.conversation_id)[-1]
    first = reply.meta["sources"][0]
    assert first["n"] == 1 and first["path"] == str(long.resolve()) and "Holidays" in first["section"]
    assert [s.n for s in session.sources] == list(range(1, len(session.sources) + 1))


def test_nothing_relevant_means_no_guess(setup: Any, tmp_path: Path) -> None:
    session, watched, library = setup
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "boiler.md").write_text("Reset the boiler by holding the red button for five seconds.")
    library.add_folder(folder)
    library.sync()
    session.use_library = True
    answer = session.send("Who painted the Mona Lisa?", PARAMS).text()
    assert answer == NOTHING_FOUND and watched.asked == []
    assert session.store.messages(session.conversation_id)[-1].meta["sources"] == []
    session.send("How do I reset the boiler?", PARAMS).text()
    assert "holding the red button" in watched.asked[-1][-1]["content"]
