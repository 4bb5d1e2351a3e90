"""Regenerate and edit-and-resend in the shared chat layer, on a real (tiny) model: the old
branch is kept, the model is given only the branch being answered, and what follows
continues from the alternative shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seesay.chat import ChatSession
from seesay.config import Settings
from seesay.errors import EngineError, StoreError
from seesay.store import HistoryStore
from tests.engines import Recording


@pytest.fixture(scope="module")
def tiny_engine(tiny_model_dir: Path) -> Any:
    from seesay.inference.torch_engine import TorchEngine

    settings = Settings().replace({"model.name": str(tiny_model_dir), "model.device": "cpu"})
    engine = TorchEngine(settings)
    engine.load()
    return engine


@pytest.fixture
def session(tiny_engine: Any, tmp_path: Path) -> Iterator[ChatSession]:
    settings = Settings().replace({"generation.max_new_tokens": 6, "generation.temperature": 0.0})
    store = HistoryStore(tmp_path / "history.sqlite3")
    yield ChatSession(Watching(tiny_engine), settings, store)
    store.close()


def _said(session: ChatSession) -> list[tuple[str, str]]:
    assert session.store is not None and session.conversation_id is not None
    return [(m.role, m.content) for m in session.store.messages(session.conversation_id)]


class Watching(Recording):
    """Also keeps the messages each stream was given."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.contexts: list[list[dict[str, Any]]] = []

    def stream(self, messages: Any, params: Any = None) -> Any:
        self.contexts.append(list(messages))
        return super().stream(messages, params)


def test_regenerate_keeps_the_earlier_answer_and_does_not_show_it_to_the_model(
    session: ChatSession,
) -> None:
    assert session.store is not None
    session.send("Name a colour").text()
    first = session.store.messages(session.conversation_id or 0)[-1]
    session.regenerate().text()
    path = session.store.messages(session.conversation_id or 0)
    assert [m.role for m in path] == ["user", "assistant"]
    assert path[-1].id != first.id and path[-1].alternatives == (first.id, path[-1].id)
    assert path[-1].status == "complete"
    engine = session.engine
    assert isinstance(engine, Watching)
    assert [m["role"] for m in engine.contexts[-1] if m["role"] != "system"] == ["user"]


def test_resend_branches_beside_the_edited_message(session: ChatSession) -> None:
    store = session.store
    assert store is not None
    session.send("first question").text()
    session.send("second question").text()
    original = store.messages(session.conversation_id or 0)[2]
    session.resend(original.id, "second question, edited").text()
    path = store.messages(session.conversation_id or 0)
    assert [c for r, c in _said(session) if r == "user"] == ["first question", "second question, edited"]
    assert path[2].alternatives == (original.id, path[2].id)
    assert path[2].meta["edited_from"] == original.id
    store.show(original.id)
    assert [c for r, c in _said(session) if r == "user"] == ["first question", "second question"]
    assert len(_said(session)) == 4  # the old branch with its answer
    session.send("third question").text()  # continues from the branch shown
    assert [c for r, c in _said(session) if r == "user"] == [
        "first question",
        "second question",
        "third question",
    ]


def test_without_a_model_regenerate_and_resend_change_nothing(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        cid = store.create_conversation("c")
        q = store.add_message(cid, "user", "q")
        store.add_message(cid, "assistant", "a")
        session = ChatSession(None, Settings(), store, cid)
        before = store.messages(cid)
        with pytest.raises(EngineError):
            session.regenerate()
        with pytest.raises(EngineError):
            session.resend(q, "q edited")
        assert store.messages(cid) == before
        with pytest.raises(StoreError, match="cannot be edited"):
            session.resend(before[1].id, "not a user message")
    with pytest.raises(StoreError, match="saved conversation"):
        ChatSession(None, Settings(), save=False).resend(1, "x")
