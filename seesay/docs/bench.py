"""``seesay bench docs``: retrieval quality on the bundled question set, indexing speed, and
search latency over an index of 10,000 passages.

The set (``evalset/``) is real documents under permissive licences with questions written
from reading them, each tied to a verbatim passage. A question is answered at rank r when
the r-th passage found is from the right file and holds at least half of the passage's
word triples (a passage may straddle two overlapping pieces).
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

EVALSET = Path(__file__).parent / "evalset"


def questions(folder: Path = EVALSET) -> list[dict[str, Any]]:
    lines = (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _triples(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


def holds(passage: str, text: str) -> bool:
    wanted = _triples(passage)
    return len(wanted & _triples(text)) >= 0.5 * len(wanted)


def run(chunks: int = 10_000, folder: Path = EVALSET) -> dict[str, Any]:
    from seesay.docs.library import Library
    from seesay.inference.embeddings import embedder
    from seesay.store import HistoryStore

    embedder()  # loaded before the clock starts: the index's speed, not the model's load
    asked = questions(folder)
    with tempfile.TemporaryDirectory(prefix="seesay-bench-docs-") as tmp:
        library = Library(HistoryStore(Path(tmp) / "history.sqlite3"))
        library.add_folder(folder / "documents")
        report = library.sync()
        ranks: list[int | None] = []
        for q in asked:
            hits = library.search(q["question"], k=5)
            rank = next(
                (
                    n
                    for n, h in enumerate(hits, 1)
                    if Path(h.path).name == q["path"] and holds(q["passage"], h.text)
                ),
                None,
            )
            ranks.append(rank)
        latency = _latency(library, [q["question"] for q in asked], chunks)
        library.store.close()
    found = [r for r in ranks if r is not None]
    return {
        "questions": len(asked),
        "documents": report.indexed,
        "recall_at_1": round(sum(1 for r in found if r == 1) / len(asked), 3),
        "recall_at_5": round(len(found) / len(asked), 3),
        "mrr": round(sum(1 / r for r in found) / len(asked), 3),
        "missed": [q["question"] for q, r in zip(asked, ranks, strict=True) if r is None],
        "indexing": {
            "files": report.indexed,
            "pages": report.pages,
            "megabytes": round(report.megabytes, 2),
            "passages": report.passages,
            "seconds": round(report.seconds, 1),
            "passages_per_s": round(report.passages / report.seconds, 1),
            "megabytes_per_s": round(report.megabytes / report.seconds, 3),
        },
        "latency": latency,
    }


def _latency(library: Any, asked: list[str], chunks: int) -> dict[str, Any]:
    """Search time with the index grown to ``chunks`` passages: the real passages copied, their
    vectors moved a little so that no two are equal (the search's cost does not depend on the
    words, only on how many rows it ranks)."""
    with library.store.cursor() as conn:
        conn_rows = conn.execute(
            """SELECT c.document_id, c.text, v.embedding, c.windows
               FROM doc_chunks c JOIN doc_chunk_vectors v ON v.rowid = c.id"""
        ).fetchall()
        have = len(conn_rows)
    rng = np.random.default_rng(0)
    with library.store.cursor(write=True) as conn:
        for n in range(max(chunks - have, 0)):
            doc_id, text, blob, windows = conn_rows[n % have]
            vector = np.frombuffer(blob, np.float32) + rng.normal(0, 0.02, 384).astype(np.float32)
            vector /= np.linalg.norm(vector)
            chunk_id = conn.execute(
                "INSERT INTO doc_chunks (document_id, ordinal, section, text, windows) "
                "VALUES (?, -1, '', ?, ?)",
                (doc_id, text, windows),
            ).lastrowid
            conn.execute(
                "INSERT INTO doc_chunk_vectors (rowid, embedding) VALUES (?, ?)", (chunk_id, vector.tobytes())
            )
        total = conn.execute("SELECT COUNT(*) FROM doc_chunks").fetchone()[0]
    times = []
    for _round in range(3):
        for question in asked:
            started = time.perf_counter()
            library.search(question, k=5)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "chunks": total,
        "searches": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
    }
