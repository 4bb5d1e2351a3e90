"""The user's document library: folders kept indexed in the history's database, searched by
keywords and by meaning at once.

Each file is one transaction (its passages, their FTS5 rows through triggers, and their
sqlite-vec vectors), written only after it has been read and embedded, so a crash or a
``kill -9`` leaves every file either fully indexed or not at all, and the next sync picks up
where the last one stopped. A file is re-read only when its size or modification time
changes; one that cannot be read is remembered with its reason until it changes.

Search takes the nearest passages by their vectors (sqlite-vec) and the best by keywords
(BM25 over FTS5), then scores each by meaning, the passage's similarity to the question and
its best two-sentence window's, plus a little of the keyword score: the windows find the one
sentence a question is about inside a passage about more, keywords find names, numbers and
rare terms that an embedding blurs. The five sources are then taken by maximal marginal
relevance, so that they are five places, not one paragraph and its neighbours.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seesay.docs.convert import Cancelled, Document, DocumentError, convert, supported
from seesay.docs.passages import Passage, passages
from seesay.errors import InputError
from seesay.inference.embeddings import DIMENSIONS
from seesay.store import HistoryStore

log = logging.getLogger(__name__)

CANDIDATES = 40  # from each of the two searches, before they are scored together
# A candidate's meaning score: its passage's cosine similarity (0.6) and its best sentence
# window's (0.4), plus the keyword score (BM25 divided by the query's best) at a small weight.
# On the bundled question set, recall@5: passage cosine alone 0.77, BM25 alone 0.56, the two
# fused by reciprocal rank 0.73-0.78 or summed 0.80-0.81; with the windows 0.83-0.89 for
# window weights 0.4-0.6, sentence windows or windows of joined short lines (2.7 times fewer
# to embed, within a question of the best). With PDF outlines and underlined headings as
# sections, and the sources taken by maximal marginal relevance: 0.922 here, 0.86-0.91 for
# window weights 0.3-0.5 and keyword weights 0-0.06.
WINDOWS = 0.4
KEYWORDS = 0.03
# Maximal marginal relevance's weight on the score against likeness to the hits already taken
# (see _diverse). Recall@5 on the bundled set: 0.906 without it (1.0) and at 0.97, 0.922 at
# 0.92-0.95, 0.86-0.89 at 0.8-0.9 (likeness outweighing an answer).
RELEVANCE = 0.95
EMBED_BATCH = 16
SKIPPED_DIRS = {"node_modules", "__pycache__", "venv", ".venv", "site-packages", "dist", "build"}
STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no
    nor not of off on once only or other our ours out over own same she should so some such than
    that the their theirs them then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Hit:
    path: str
    score: float  # similarity plus the weighted keyword score: higher is better
    similarity: float  # cosine similarity of the passage to the query, -1..1
    text: str
    page: int | None
    section: str
    chunk_id: int


@dataclass(frozen=True)
class FolderInfo:
    path: str
    documents: int
    passages: int
    failed: int
    exists: bool


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    path: str


@dataclass
class SyncReport:
    indexed: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    passages: int = 0
    pages: int = 0
    megabytes: float = 0.0


def match_any(text: str) -> str:
    """An FTS5 query matching any of the question's content words (quoted: never a syntax error)."""
    words = [w for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS]
    return " OR ".join('"' + w + '"' for w in dict.fromkeys(words))


def _vector(values: np.ndarray) -> bytes:
    return np.asarray(values, np.float32).tobytes()


class Library:
    def __init__(self, store: HistoryStore) -> None:
        self.store = store

    # --- folders -------------------------------------------------------------------------------
    def add_folder(self, folder: Path) -> Path:
        """Adds a folder (or one file) to the library; :meth:`sync` reads what it holds."""
        folder = Path(folder).expanduser()
        if not folder.exists():
            raise InputError(f"{folder} does not exist.")
        if folder.is_file() and not supported(folder):
            convert(folder)  # raises the sentence that says which kinds SeeSay reads
        folder = folder.resolve()
        with self.store.cursor(write=True) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO doc_folders (path, added_at) VALUES (?, ?)", (str(folder), time.time())
            )
        return folder

    def remove_folder(self, folder: Path) -> None:
        """Forgets the folder and everything indexed from it; the files themselves are untouched."""
        key = self._folder_key(folder)
        with self.store.cursor(write=True) as conn:
            conn.execute("DELETE FROM doc_folders WHERE path = ?", (key,))

    def _folder_key(self, folder: Path) -> str:
        known = {f.path for f in self.folders()}
        for candidate in (str(Path(folder).expanduser()), str(Path(folder).expanduser().resolve())):
            if candidate.rstrip("/") in known:
                return candidate.rstrip("/")
        raise InputError(f"{folder} is not in the library (see `seesay docs list`).")

    def folders(self) -> list[FolderInfo]:
        with self.store.cursor() as conn:
            rows = conn.execute(
                """SELECT f.path, COUNT(d.id), COALESCE(SUM(d.error != ''), 0),
                    (SELECT COUNT(*) FROM doc_chunks c JOIN documents d2 ON d2.id = c.document_id
                     WHERE d2.folder_id = f.id)
                   FROM doc_folders f LEFT JOIN documents d ON d.folder_id = f.id
                   GROUP BY f.id ORDER BY f.path"""
            ).fetchall()
        return [
            FolderInfo(path, documents - failed, chunks, failed, Path(path).is_dir())
            for path, documents, failed, chunks in rows
        ]

    def documents(self, folder: str | None = None) -> list[tuple[str, int, str]]:
        """(path, passages, error) of each file, for listings."""
        where, args = ("WHERE f.path = ?", (folder,)) if folder else ("", ())
        with self.store.cursor() as conn:
            return conn.execute(
                f"""SELECT d.path, (SELECT COUNT(*) FROM doc_chunks c WHERE c.document_id = d.id), d.error
                    FROM documents d LEFT JOIN doc_folders f ON f.id = d.folder_id {where} ORDER BY d.path""",
                args,
            ).fetchall()

    # --- indexing ------------------------------------------------------------------------------
    def is_current(self, path: Path) -> bool:
        """Whether ``path`` is indexed as it is on disk now (same size and modification time)."""
        path = Path(path).resolve()
        stat = path.stat()
        with self.store.cursor() as conn:
            row = conn.execute(
                "SELECT size, mtime, error FROM documents WHERE path = ?", (str(path),)
            ).fetchone()
        return row is not None and (row[0], row[1], row[2]) == (stat.st_size, stat.st_mtime, "")

    def sync(
        self,
        progress: Callable[[Progress], None] = lambda p: None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> SyncReport:
        """Brings every folder's index up to date: new and changed files read, removed ones dropped."""
        started = time.perf_counter()
        report = SyncReport()
        with self.store.cursor() as conn:
            folders = conn.execute("SELECT id, path FROM doc_folders").fetchall()
            known = {
                path: (doc_id, size, mtime)
                for doc_id, path, size, mtime in conn.execute(
                    "SELECT id, path, size, mtime FROM documents WHERE folder_id IS NOT NULL"
                )
            }
        todo: list[tuple[int, Path, os.stat_result]] = []
        seen: set[str] = set()
        for folder_id, folder in folders:
            for path in _walk(Path(folder)):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                seen.add(str(path))
                old = known.get(str(path))
                if old is not None and old[1] == stat.st_size and old[2] == stat.st_mtime:
                    report.unchanged += 1
                else:
                    todo.append((folder_id, path, stat))
        gone = [doc_id for path, (doc_id, _s, _m) in known.items() if path not in seen]
        if gone:
            with self.store.cursor(write=True) as conn:
                conn.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in gone])
            report.removed = len(gone)
        for done, (folder_id, path, stat) in enumerate(todo):
            if cancelled():
                break
            progress(Progress(done, len(todo), str(path)))
            try:
                document, count = self.index_file(path, folder_id, stat, cancelled)
            except Cancelled:
                break
            except DocumentError as e:
                report.failed.append((str(path), str(e)))
                continue
            report.indexed += 1
            report.passages += count
            report.pages += document.pages
            report.megabytes += stat.st_size / 2**20
        else:
            progress(Progress(len(todo), len(todo), ""))
        report.seconds = time.perf_counter() - started
        return report

    def index_file(
        self,
        path: Path,
        folder_id: int | None = None,
        stat: os.stat_result | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        document: Document | None = None,
        progress: Callable[[str], None] = lambda _m: None,
    ) -> tuple[Document, int]:
        """Reads (unless ``document`` is the file already read), cuts and embeds one file, then
        replaces its old passages in one transaction; returns the document and its number of
        passages.

        A file that cannot be read is recorded with the reason (and :class:`DocumentError`
        raised), so a sync does not try it again until it changes.
        """
        from seesay.inference.embeddings import embedder

        path = Path(path).resolve()
        stat = stat or path.stat()
        try:
            document = document or convert(path, cancelled, progress)
            pieces = passages(document)
            vectors = _embed(pieces, embedder().embed, cancelled, progress)
        except DocumentError as e:
            self._write(path, folder_id, stat, Document(path), [], [], str(e))
            raise
        self._write(path, folder_id, stat, document, pieces, vectors, "")
        return document, len(pieces)

    def _write(
        self,
        path: Path,
        folder_id: int | None,
        stat: os.stat_result,
        document: Document,
        pieces: Sequence[Passage],
        vectors: Sequence[tuple[np.ndarray, np.ndarray]],
        error: str,
    ) -> None:
        with self.store.cursor(write=True) as conn:
            conn.execute("DELETE FROM documents WHERE path = ?", (str(path),))
            doc_id = conn.execute(
                """INSERT INTO documents (path, folder_id, size, mtime, pages, chars, error, indexed_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    str(path),
                    folder_id,
                    stat.st_size,
                    stat.st_mtime,
                    document.pages,
                    document.chars,
                    error,
                    time.time(),
                ),
            ).lastrowid
            for piece, (vector, windows) in zip(pieces, vectors, strict=True):
                chunk_id = conn.execute(
                    "INSERT INTO doc_chunks (document_id, ordinal, page, section, text, windows) "
                    "VALUES (?,?,?,?,?,?)",
                    (doc_id, piece.ordinal, piece.page, piece.section, piece.text, windows.tobytes()),
                ).lastrowid
                conn.execute(
                    "INSERT INTO doc_chunk_vectors (rowid, embedding) VALUES (?, ?)",
                    (chunk_id, _vector(vector)),
                )

    # --- search --------------------------------------------------------------------------------
    def search(
        self, query: str, k: int = 5, paths: Iterable[str] | None = None, *, folders_only: bool = False
    ) -> list[Hit]:
        """The ``k`` passages that best answer ``query``: within ``paths`` (files) when given;
        ``folders_only`` leaves out files indexed only because they were attached to a chat."""
        from seesay.inference.embeddings import embedder

        if not query.strip():
            raise InputError("The search is empty; type what you are looking for.")
        asked = embedder().embed([query])[0]
        only = sorted({str(p) for p in paths}) if paths is not None else None
        with self.store.cursor() as conn:
            by_meaning = self._nearest(conn, asked, only)
            by_words = self._keywords(conn, query, only)
            if folders_only:
                attached = {
                    r[0]
                    for r in conn.execute(
                        "SELECT c.id FROM doc_chunks c JOIN documents d ON d.id = c.document_id "
                        "WHERE d.folder_id IS NULL"
                    )
                }
                by_meaning = [c for c in by_meaning if c not in attached]
                by_words = [(c, w) for c, w in by_words if c not in attached]
            words = dict(by_words)
            top = max(words.values(), default=0.0) or 1.0
            scored: list[Hit] = []
            vectors: list[np.ndarray] = []
            for chunk_id in dict.fromkeys([*by_meaning, *words]):
                row = conn.execute(
                    """SELECT d.path, c.text, c.page, c.section, v.embedding, c.windows FROM doc_chunks c
                       JOIN documents d ON d.id = c.document_id JOIN doc_chunk_vectors v ON v.rowid = c.id
                       WHERE c.id = ?""",
                    (chunk_id,),
                ).fetchone()
                if row is None:
                    continue
                whole = float(np.frombuffer(row[4], np.float32) @ asked)
                windows = np.frombuffer(row[5] or b"", np.float16).reshape(-1, DIMENSIONS)
                best = float((windows @ asked.astype(np.float16)).max()) if len(windows) else whole
                similarity = (1 - WINDOWS) * whole + WINDOWS * best
                score = similarity + KEYWORDS * words.get(chunk_id, 0.0) / top
                scored.append(Hit(row[0], round(score, 6), similarity, row[1], row[2], row[3], chunk_id))
                vectors.append(np.frombuffer(row[4], np.float32))
        return _diverse(scored, np.array(vectors, np.float32).reshape(-1, DIMENSIONS), k)

    def _nearest(self, conn: object, asked: np.ndarray, only: list[str] | None) -> list[int]:
        if only is None:
            rows = conn.execute(  # type: ignore[attr-defined]
                "SELECT rowid FROM doc_chunk_vectors WHERE embedding MATCH ? AND k = ? ORDER BY distance",
                (_vector(asked), CANDIDATES),
            ).fetchall()
        else:
            marks = ",".join("?" * len(only))
            rows = conn.execute(  # type: ignore[attr-defined]
                f"""SELECT c.id FROM doc_chunks c JOIN documents d ON d.id = c.document_id
                    JOIN doc_chunk_vectors v ON v.rowid = c.id WHERE d.path IN ({marks})
                    ORDER BY vec_distance_cosine(v.embedding, ?) LIMIT ?""",
                (*only, _vector(asked), CANDIDATES),
            ).fetchall()
        return [r[0] for r in rows]

    def _keywords(self, conn: object, query: str, only: list[str] | None) -> list[tuple[int, float]]:
        """(passage, BM25 score made positive: higher is better), best first."""
        expression = match_any(query)
        if not expression:
            return []
        where, args = "", tuple[str, ...]()
        if only is not None:
            where = f"AND d.path IN ({','.join('?' * len(only))})"
            args = tuple(only)
        rows = conn.execute(  # type: ignore[attr-defined]
            f"""SELECT c.id, -bm25(doc_chunk_fts) FROM doc_chunk_fts
                JOIN doc_chunks c ON c.id = doc_chunk_fts.rowid JOIN documents d ON d.id = c.document_id
                WHERE doc_chunk_fts MATCH ? {where} ORDER BY bm25(doc_chunk_fts) LIMIT ?""",
            (expression, *args, CANDIDATES),
        ).fetchall()
        return [(r[0], float(r[1])) for r in rows]


def _diverse(scored: list[Hit], vectors: np.ndarray, k: int) -> list[Hit]:
    """The ``k`` hits taken best first by maximal marginal relevance: each next one by its score
    less a little of its likeness to those already taken, so that neighbouring passages (which
    share their edges) or a paragraph repeated in several places do not fill the five sources
    with one answer while a second place that answers the question waits at sixth."""
    if not scored:
        return []
    gain = np.array([h.score for h in scored]) * RELEVANCE
    likeness = np.full(len(scored), -np.inf)
    chosen: list[int] = []
    while len(chosen) < min(k, len(scored)):
        value = gain - (1 - RELEVANCE) * np.maximum(likeness, 0.0)
        value[chosen] = -np.inf
        best = int(np.argmax(value))
        chosen.append(best)
        likeness = np.maximum(likeness, vectors @ vectors[best])
    return [scored[i] for i in chosen]


def _embed(
    pieces: Sequence[Passage],
    embed: Callable[[list[str]], np.ndarray],
    cancelled: Callable[[], bool],
    progress: Callable[[str], None] = lambda _m: None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each passage's vector and its sentence windows' (float16: only compared, never summed),
    embedded in batches of similar length (less padding)."""
    texts = [p.for_embedding() for p in pieces]
    owners = list(range(len(pieces)))
    for n, piece in enumerate(pieces):
        windows = piece.windows()
        texts.extend(windows)
        owners.extend([n] * len(windows))
    vectors = np.zeros((len(texts), DIMENSIONS), np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), EMBED_BATCH):
        if cancelled():
            raise Cancelled
        progress(f"Indexing for search: {100 * start // len(order)}%…")
        batch = order[start : start + EMBED_BATCH]
        vectors[batch] = embed([texts[i] for i in batch])
    rows: list[list[int]] = [[] for _ in pieces]
    for i in range(len(pieces), len(texts)):
        rows[owners[i]].append(i)
    return [(vectors[n], vectors[rows[n]].astype(np.float16)) for n in range(len(pieces))]


def _walk(folder: Path) -> Iterable[Path]:
    """Readable documents under ``folder`` (or the file itself); hidden files and build or
    package folders skipped."""
    if folder.is_file():
        yield folder
        return
    for root, dirs, files in os.walk(folder, onerror=lambda e: log.info("skipped %s: %s", e.filename, e)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and supported(path):
                yield path
