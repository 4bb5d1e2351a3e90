"""Spelling correction of what the OCR read from handwriting, against word-frequency dictionaries.

The PP-OCR models read printed text well but handwriting less so: ``Actiou`` for *Action*,
``PRODNCT`` for *PRODUCT*, ``Fiud ovt More`` for *Find out More*. Sketches are written in
English or Spanish, so every word of a reading is checked against the English and Spanish
word-frequency lists that ``pyspellchecker`` ships, folded to ASCII as the reader folds its
own output, plus a short list of web-page words those lists lack or rank low (``UI_WORDS``).

How a word is treated, and why:

- **Left alone**: anything without letters (numbers, prices), e-mail addresses and URLs,
  words of one or two letters (too little evidence), abbreviations (``FAQ``, ``CVV``,
  ``Tel.``: up to four letters, in capitals or before a full stop), and words either
  dictionary knows unless rare (below).
  Plurals, British spellings and Spanish verb forms count as known through their stem,
  because the lists hold Hunspell stems (``entrada`` but not ``entradas``).
- **Corrected** by a noisy-channel choice: a candidate scores its Zipf frequency (log10 of
  occurrences per 10^9 words) in its language, plus the log of the share of the sketch
  written in that language, minus ``WEIGHT`` per edit of a weighted edit distance in which
  letters handwriting makes look alike (n/u, u/v, a/o, e/c, f/t, b/d, ...) cost half an
  edit. Leaving the word scores its own frequency when known, ``UNKNOWN_ZIPF`` when not;
  the higher score wins. The allowed distance grows with the word's length, and a rare
  known word may move by one look-alike letter only (``Nome`` -> ``Name``).
- **Joined or split** where the OCR put a space inside a word (``Wee kly`` -> ``Weekly``) or
  ran two common words together (``PRODUCTNAME``), when nothing closer explains it.
- **Capitalisation** of a corrected word follows the reading: UPPER, Title or lower (a
  mixed-case reading such as ``PRiCE`` goes by its majority).

The dictionaries load once per process on first use (about 0.6 s), from any thread; a
sketch's readings then take a few milliseconds: the candidate search is a weighted
Levenshtein DP vectorised over the targets in numpy, pruned by letter counts and by how
much edit distance each target's frequency can pay for.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

LANGUAGES = ("en", "es")

# Scoring (Zipf units). Tuned on half of the first 36 transcribed development sketches, checked
# on the other half and then on the last 12, unseen while tuning (tests/data/sketch_words.json).
WEIGHT = 2.0  # Zipf points one full edit costs
UNKNOWN_ZIPF = 1.5  # what keeping a word neither dictionary knows is worth
PROTECTED_ZIPF = 3.0  # known words at least this common are never changed
TARGET_ZIPF = 2.0  # rarer dictionary words are never proposed (they could not win anyway)
INFLECTED_PENALTY = 0.5  # a word known only through a suffix rule counts this much rarer
JOIN_ZIPF = 3.0  # two pieces are joined only into a word at least this common
SPLIT_ZIPF = 3.5  # a run-together word is split only into two words at least this common
SPLIT_MIN = 4  # ... of at least this many letters each (``Inbox`` is not ``In Box``)
KNOWN_MAX_COST = 0.5  # a rare known word may only change by one look-alike letter
ACRONYM_MAX = 4  # all capitals or a full stop after a word this short: an abbreviation, kept

# Letter pairs that handwriting makes look alike (either way round): half an edit each.
CONFUSABLE = (
    "nu uv vw uw nr nh mn mw "  # arches and hooks
    "ao eo ce co ae "  # round letters
    "bd bh ft lt il ij "  # ascenders and strokes
    "gq gy rz"  # tails
)
CONFUSABLE_COST = 0.5

# Web-page words the general lists lack or rank low (``carrito``, ``login``, ``checkout``),
# and the lorem-ipsum filler wireframes use: known, and proposed, at least this common.
UI_ZIPF = 4.0
UI_WORDS = {
    "en": """about account address analytics app apps archive avatar back banner billing blog
        cancel cart categories category chat checkbox checkout city comment comments confirm
        contact continue cookie cookies copyright country coupon currency dashboard delete
        discount download dropdown edit email faq faqs favorites favourites feedback filter
        follow footer forgot gallery header help home homepage icon inbox language like login
        logo logout menu messages navbar newsletter next notifications online order orders
        password payment paypal phone placeholder policy portfolio postcode previous price
        privacy product products profile promo quantity rating register remember review
        reviews save search send services settings share shipping shop sidebar signin signup
        slider sort store submit subscribe subtotal support tag tags tax terms thumbnail total
        unsubscribe update upload url username voucher website wishlist zip
        lorem ipsum dolor sit amet consectetur adipiscing elit sed eiusmod tempor""",
    "es": """acceder aceptar ajustes anterior apellido apellidos atras ayuda borrar buscador
        buscar busqueda cancelar cantidad carrito categorias cerrar cesta ciudad codigo
        comentarios compartir compra comprar condiciones configuracion contactanos contacto
        contrasena correo cuenta cupon descargar descuento direccion editar eliminar enviar
        envio envios factura favoritos fecha frecuentes gratis guardar idioma iniciar inicio
        menos mensajes nacimiento nombre nosotros notificaciones novedades noticias ofertas
        olvidaste pago pais pedido pedidos perfil politica postal precio precios preguntas
        privacidad producto productos provincia recordarme registrarse registrate servicios
        sesion siguenos siguiente subir subtotal suscribete suscribirse telefono terminos
        tienda total usuario ver volver""",
}

# Never proposed as a correction (a slur or obscenity the writer did not write); still known.
NEVER_PROPOSE = """fag fags faggot nigger nigga retard cunt whore slut bitch shit fuck dick cock
    pussy puta puto mierda marica maricon polla verga culo cabron"""

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_ADDRESS = re.compile(r"@|://|^www\.|\.(com|org|net|es|io)\b", re.IGNORECASE)
_TOKEN = re.compile(r"\S+|\s+")


def fold(text: str) -> str:
    """Lower case, accents dropped: how the reader's ASCII-folded output is compared."""
    if text.isascii():
        return text.lower()
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if ch.isascii()).lower()


def _max_cost(length: int) -> float:
    """How far a word of this many letters may move: short words barely, long ones more."""
    if length <= 3:
        return 0.5
    if length <= 4:
        return 1.0
    if length <= 6:
        return 1.5
    if length <= 9:
        return 2.0
    return 2.5


@dataclass(frozen=True)
class WordFix:
    """One word of a reading that changed, with why (for the layout JSON and for debugging)."""

    raw: str
    text: str
    language: str  # the dictionary the new word came from
    cost: float  # weighted edit distance from the reading


@dataclass(frozen=True)
class Correction:
    """A reading and its corrected text; ``fixes`` lists the words that changed."""

    text: str
    raw: str
    fixes: tuple[WordFix, ...] = ()

    @property
    def changed(self) -> bool:
        return self.text != self.raw


@dataclass(frozen=True)
class Accuracy:
    """Bag-of-words agreement between what was written and what was read (case and accents ignored)."""

    hits: int
    written: int
    read: int

    @property
    def recall(self) -> float:
        return self.hits / self.written if self.written else 1.0

    @property
    def precision(self) -> float:
        return self.hits / self.read if self.read else 1.0

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(self.hits + other.hits, self.written + other.written, self.read + other.read)


def words(text: str) -> list[str]:
    """The folded words of a text, as the accuracy measure counts them."""
    return _WORD.findall(fold(text))


def word_accuracy(written: Iterable[str], read: Iterable[str]) -> Accuracy:
    """Multiset overlap of the words written (a transcription) and the words read (OCR texts)."""
    truth = Counter(w for text in written for w in words(text))
    got = Counter(w for text in read for w in words(text))
    return Accuracy(sum((truth & got).values()), sum(truth.values()), sum(got.values()))


# --- dictionaries ---------------------------------------------------------------------------------


@dataclass
class Lexicon:
    """Folded word -> Zipf frequency per language, plus the correction targets as arrays."""

    zipf: dict[str, dict[str, float]]
    targets: list[str]
    target_zipf: np.ndarray  # (languages, n), -inf where a language lacks the word
    codes: np.ndarray  # (n, longest) letter codes 0..25, 26 = padding
    lengths: np.ndarray  # (n,)
    classes: np.ndarray  # (groups, n) letter counts by confusable group (by rows: fast sums)
    starts: np.ndarray  # starts[k]: first target of length >= k (targets are sorted by length)
    load_s: float = 0.0
    substitution: np.ndarray = field(default_factory=lambda: _substitution_costs())  # (27, 27)

    def known(self, word: str) -> tuple[float, str] | None:
        """(Zipf, language) of a folded word, counting Spanish plurals and regular verb forms."""
        best: tuple[float, str] | None = None
        for lang in LANGUAGES:
            z = self.zipf[lang].get(word)
            if z is None:
                z = self._inflected(word, lang)
            if z is not None and (best is None or z > best[0]):
                best = (z, lang)
        return best

    def _inflected(self, word: str, lang: str) -> float | None:
        table = self.zipf[lang]
        stems: list[str] = []
        if word.endswith("s") and len(word) > 3:
            stems.append(word[:-1])
            if word.endswith("es"):
                stems.append(word[:-2])
        if lang == "en":
            # British spellings of words the (American) list has: favourite, organise
            stems.extend(word.replace(a, b) for a, b in (("our", "or"), ("ise", "ize")) if a in word)
        if lang == "es":
            forms = [word]
            # an imperative with a pronoun attached: suscribete -> suscribe, contactanos -> contacta
            forms.extend(
                word[: -len(p)] for p in ("nos", "te", "me", "se", "lo", "la", "le") if word.endswith(p)
            )
            for form in forms:
                for ending in ("amos", "emos", "imos", "as", "an", "es", "en", "a", "e", "o"):
                    if form.endswith(ending) and len(form) - len(ending) >= 3:
                        stem = form[: -len(ending)]
                        # stem-changing verbs: quiero -> querer, puedo -> poder
                        for a, b in (("", ""), ("ie", "e"), ("ue", "o")):
                            if a in stem:
                                k = stem.rfind(a)
                                changed = stem[:k] + b + stem[k + len(a) :] if a else stem
                                stems.extend(changed + inf for inf in ("ar", "er", "ir"))
        found = [table[s] for s in stems if s in table]
        return max(found) - INFLECTED_PENALTY if found else None


def _substitution_costs() -> np.ndarray:
    """Cost of reading one letter as another: 1, or ``CONFUSABLE_COST`` for look-alikes."""
    cost = np.ones((27, 27), dtype=np.float32)
    np.fill_diagonal(cost, 0.0)
    for pair in CONFUSABLE.split():
        a, b = (ord(ch) - 97 for ch in pair)
        cost[a, b] = cost[b, a] = CONFUSABLE_COST
    cost[26, :] = cost[:, 26] = 1.0  # padding never matches
    return cost


def _letter_groups() -> np.ndarray:
    """Union of confusable letters: a substitution across groups costs a full edit."""
    parent = list(range(26))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for pair in CONFUSABLE.split():
        parent[root(ord(pair[0]) - 97)] = root(ord(pair[1]) - 97)
    roots = sorted({root(i) for i in range(26)})
    return np.array([roots.index(root(i)) for i in range(26)], dtype=np.intp)


_GROUP = _letter_groups()
_N_GROUPS = int(_GROUP.max()) + 1

_lexicon: Lexicon | None = None
_lexicon_lock = threading.Lock()


def lexicon() -> Lexicon:
    """The dictionaries, loaded on first use, once per process, whichever thread asks first."""
    global _lexicon
    if _lexicon is not None:
        return _lexicon
    with _lexicon_lock:
        if _lexicon is None:
            _lexicon = _load()
        return _lexicon


def _load() -> Lexicon:
    """Fold both lists to ASCII, convert counts to Zipf, and lay out the targets for the DP."""
    from spellchecker import SpellChecker

    t = time.perf_counter()
    zipf: dict[str, dict[str, float]] = {}
    pool: dict[str, list[float]] = {}
    never = frozenset(NEVER_PROPOSE.split())
    for i, lang in enumerate(LANGUAGES):
        freq = SpellChecker(language=lang, distance=1).word_frequency
        entries = list(freq.items())
        counts = np.fromiter((c for _, c in entries), dtype=np.float64, count=len(entries))
        z = np.log10(counts * (1e9 / max(freq.total_words, 1)))
        order = np.argsort(z, kind="stable")  # ascending: where folding merges words, the commonest wins
        keys = [w if w.isascii() else fold(w) for w in (entries[k][0] for k in order.tolist())]
        zipf[lang] = table = dict(zip(keys, z[order].tolist(), strict=True))
        for word in UI_WORDS.get(lang, "").split():
            table[word] = max(table.get(word, UI_ZIPF), UI_ZIPF)
        for word, zw in table.items():
            if zw >= TARGET_ZIPF and len(word) >= 2 and word.isalpha() and word not in never:
                pool.setdefault(word, [-math.inf] * len(LANGUAGES))[i] = zw
    targets = sorted(pool, key=len)  # by length: a length window is a slice
    lengths = np.fromiter(map(len, targets), dtype=np.intp, count=len(targets))
    longest = int(lengths[-1])
    codes = np.full((len(targets), longest), 26, dtype=np.intp)
    rows = np.repeat(np.arange(len(targets)), lengths)
    cols = np.arange(rows.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    codes[rows, cols] = np.frombuffer("".join(targets).encode("ascii"), dtype=np.uint8) - 97
    starts = np.searchsorted(lengths, np.arange(longest + 2))
    classes = np.zeros((_N_GROUPS, len(targets)), dtype=np.int16)
    np.add.at(classes, (_GROUP[codes[codes < 26]], rows), 1)
    lex = Lexicon(
        zipf=zipf,
        targets=targets,
        target_zipf=np.array([pool[w] for w in targets], dtype=np.float32).T.copy(),
        codes=codes,
        lengths=lengths,
        classes=classes,
        starts=starts,
    )
    lex.load_s = time.perf_counter() - t
    log.info(
        "spelling dictionaries: %s words, %d correction targets, loaded in %.2f s",
        " + ".join(f"{len(zipf[lang])} {lang}" for lang in LANGUAGES),
        len(targets),
        lex.load_s,
    )
    return lex


# --- search ---------------------------------------------------------------------------------------


def _best(
    lex: Lexicon, word: str, prior: Mapping[str, float], keep: float, limit: float
) -> tuple[str, str, float, float] | None:
    """The best target for a folded word if it beats ``keep``: (target, language, cost, score).

    A weighted Levenshtein DP, vectorised over the targets. A target needs
    ``zipf - WEIGHT * cost > keep``, so its own frequency caps the cost it can afford: rows are
    dropped before the DP by a letter-count lower bound on the cost, and during it as soon as
    the smallest cost so far in their row exceeds what they can afford.
    """
    bias = [math.log10(max(prior.get(lang, 0.0), 1e-3)) for lang in LANGUAGES]
    q = [ord(ch) - 97 for ch in word]
    q_classes = np.bincount(_GROUP[q], minlength=_N_GROUPS)
    reach = int(limit)
    lo = lex.starts[min(max(len(word) - reach, 0), len(lex.starts) - 1)]
    hi = lex.starts[min(len(word) + reach + 1, len(lex.starts) - 1)]
    # (numpy reduces long rows far faster than short columns, hence the per-row loops)
    zipf = lex.target_zipf[0, lo:hi] + bias[0]
    for k in range(1, len(LANGUAGES)):
        zipf = np.maximum(zipf, lex.target_zipf[k, lo:hi] + bias[k])
    afford = np.minimum(zipf - keep, WEIGHT * limit) / WEIGHT
    bound = np.abs(lex.classes[0, lo:hi] - q_classes[0])
    for g in range(1, _N_GROUPS):
        bound += np.abs(lex.classes[g, lo:hi] - q_classes[g])
    rows = np.flatnonzero(0.5 * bound <= afford + 1e-6)
    afford = afford[rows]
    rows += lo
    if rows.size == 0:
        return None
    cand = lex.codes[rows][:, : int(lex.lengths[rows].max())]
    steps = np.arange(cand.shape[1] + 1, dtype=np.float32)
    prev = np.broadcast_to(steps, (rows.size, steps.size)).copy()  # nothing read yet: insert all
    for code in q:
        cur = np.empty_like(prev)
        cur[:, 0] = prev[:, 0] + 1.0
        cur[:, 1:] = np.minimum(prev[:, 1:] + 1.0, prev[:, :-1] + lex.substitution[code, cand])
        # insertions along the row: cur[j] = min over k <= j of cur[k] + (j - k)
        cur = np.minimum.accumulate(cur - steps, axis=1) + steps
        alive = cur.min(axis=1) <= afford + 1e-6
        if not alive.all():
            rows, afford, cand, cur = rows[alive], afford[alive], cand[alive], cur[alive]
            if rows.size == 0:
                return None
        prev = cur
    cost = prev[np.arange(rows.size), lex.lengths[rows]]
    by_lang = lex.target_zipf[:, rows] + np.array(bias, dtype=np.float32)[:, None]
    lang_i = by_lang.argmax(axis=0)
    score = by_lang[lang_i, np.arange(rows.size)] - WEIGHT * cost
    score[(cost <= 0) | (cost > limit + 1e-6)] = -np.inf
    k = int(score.argmax())
    if not score[k] > keep:
        return None
    return lex.targets[int(rows[k])], LANGUAGES[int(lang_i[k])], float(cost[k]), float(score[k])


def _keep_score(lex: Lexicon, word: str, prior: Mapping[str, float]) -> tuple[float, float] | None:
    """What leaving a folded word as read is worth, and how far it may move; None: it stays."""
    hit = lex.known(word)
    if hit is None:
        return UNKNOWN_ZIPF, _max_cost(len(word))
    z, lang = hit
    if z >= PROTECTED_ZIPF:
        return None
    return z + math.log10(max(prior.get(lang, 0.0), 1e-3)), KNOWN_MAX_COST


def _case_like(model: str, word: str) -> str:
    """Give ``word`` the capitalisation of ``model``: UPPER, Title or lower."""
    letters = [ch for ch in model if ch.isalpha()]
    upper = sum(ch.isupper() for ch in letters)
    if len(letters) > 1 and upper * 2 > len(letters):
        return word.upper()
    if letters and letters[0].isupper():
        return word[:1].upper() + word[1:]
    return word


# --- readings -------------------------------------------------------------------------------------


class _Reading:
    """A reading cut into words (letter runs) and the text between them, kept verbatim."""

    def __init__(self, text: str) -> None:
        self.parts: list[str] = []
        self.is_word: list[bool] = []
        for token in _TOKEN.findall(text):
            if token.isspace() or _ADDRESS.search(token):
                self._add(token, False)
                continue
            pos = 0
            for m in _WORD.finditer(token):
                if m.start() > pos:
                    self._add(token[pos : m.start()], False)
                self._add(m.group(), True)
                pos = m.end()
            if pos < len(token):
                self._add(token[pos:], False)

    def _add(self, part: str, is_word: bool) -> None:
        self.parts.append(part)
        self.is_word.append(is_word)

    def text(self) -> str:
        return "".join(self.parts)


def language_prior(texts: Iterable[str]) -> dict[str, float]:
    """How much of the writing is in each language, from words only one dictionary knows."""
    lex = lexicon()
    counts = dict.fromkeys(LANGUAGES, 0.5)
    for text in texts:
        for word in words(text):
            if len(word) < 3:
                continue
            langs = [lang for lang in LANGUAGES if lex.zipf[lang].get(word, -1.0) >= TARGET_ZIPF]
            if len(langs) == 1:
                counts[langs[0]] += 1
    total = sum(counts.values())
    return {lang: c / total for lang, c in counts.items()}


def correct(text: str, *, prior: Mapping[str, float] | None = None) -> Correction:
    """Correct each word of one OCR reading; ``prior`` weighs the languages (default: from the text)."""
    if not text or not any(ch.isalpha() for ch in text):
        return Correction(text, text)
    lex = lexicon()
    if prior is None:
        prior = language_prior([text])
    reading = _Reading(text)
    fixes: list[WordFix] = []
    _join_pieces(lex, reading, fixes)
    for i, part in enumerate(reading.parts):
        if not reading.is_word[i] or len(part) <= 2 or _abbreviation(reading, i):
            continue
        fix = _correct_word(lex, part, prior)
        if fix is not None:
            reading.parts[i] = fix.text
            fixes.append(fix)
    return Correction(reading.text(), text, tuple(fixes))


def _abbreviation(reading: _Reading, i: int) -> bool:
    """An acronym (``FAQ``, ``CVV``) or a short word with a full stop (``Tel.``, ``Avda.``)."""
    part = reading.parts[i]
    if len(part) > ACRONYM_MAX:
        return False
    following = reading.parts[i + 1] if i + 1 < len(reading.parts) else ""
    return part.isupper() or following.startswith(".")


def _correct_word(lex: Lexicon, part: str, prior: Mapping[str, float]) -> WordFix | None:
    """The fix for one word of a reading, or None to leave it as read."""
    word = fold(part)
    if len(word) != len(part) or not (word.isascii() and word.isalpha()):
        return None  # apostrophes, letters outside the Latin alphabet
    keeping = _keep_score(lex, word, prior)
    if keeping is None:
        return None
    keep, limit = keeping
    best = _best(lex, word, prior, keep, limit)
    if keep == UNKNOWN_ZIPF and word.endswith("s") and len(word) >= 5:
        # a plural whose stem was misread: the lists hold stems only (entrades -> entradas)
        stem = _best(lex, word[:-1], prior, keep + INFLECTED_PENALTY, _max_cost(len(word) - 1))
        if stem is not None and (best is None or stem[3] - INFLECTED_PENALTY > best[3]):
            best = (stem[0] + "s", stem[1], stem[2], stem[3] - INFLECTED_PENALTY)
    if best is not None:
        return WordFix(part, _case_like(part, best[0]), best[1], round(best[2], 2))
    if keep == UNKNOWN_ZIPF:
        split = _split(lex, word)
        if split is not None:
            return WordFix(part, " ".join(_case_like(part, w) for w in split), "", 1.0)
    return None


def correct_texts(texts: Sequence[str]) -> list[Correction]:
    """Correct all readings of one sketch, weighing the languages by the whole sketch."""
    prior = language_prior(texts)
    return [correct(text, prior=prior) for text in texts]


def _join_pieces(lex: Lexicon, reading: _Reading, fixes: list[WordFix]) -> None:
    """``Wee kly`` -> ``Weekly``: a space inside a word, when a piece is rare and the whole is common.

    Only exact joins: joining and then correcting turned ``One Wy`` into ``Enemy`` and
    ``c sharp`` into ``sharp`` on the development sketches.
    """
    i = 0
    parts, is_word = reading.parts, reading.is_word
    while i + 2 < len(parts):
        a, gap, b = parts[i], parts[i + 1], parts[i + 2]
        if is_word[i] and is_word[i + 2] and gap == " " and a.isalpha() and b.isalpha():
            ka, kb = lex.known(fold(a)), lex.known(fold(b))
            rare = (ka is None or ka[0] < PROTECTED_ZIPF) or (kb is None or kb[0] < PROTECTED_ZIPF)
            joined = a + (b if a.isupper() and b.isupper() else b.lower())
            whole = lex.known(fold(joined)) if rare else None
            if whole is not None and whole[0] >= JOIN_ZIPF:
                fixes.append(WordFix(f"{a} {b}", joined, whole[1], 1.0))
                parts[i : i + 3] = [joined]
                is_word[i : i + 3] = [True]
                continue
        i += 1


def _split(lex: Lexicon, word: str) -> tuple[str, str] | None:
    """``productname`` -> (``product``, ``name``): the most common pair of known words, if any."""
    best: tuple[float, tuple[str, str]] | None = None
    for cut in range(SPLIT_MIN, len(word) - SPLIT_MIN + 1):
        a, b = word[:cut], word[cut:]
        ka, kb = lex.known(a), lex.known(b)
        if len(a) < SPLIT_MIN or len(b) < SPLIT_MIN or ka is None or kb is None:
            continue
        if min(ka[0], kb[0]) < SPLIT_ZIPF:
            continue
        score = min(ka[0], kb[0])
        if best is None or score > best[0]:
            best = (score, (a, b))
    return best[1] if best else None
