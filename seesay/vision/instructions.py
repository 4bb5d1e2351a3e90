"""Revision instructions in plain words → clauses an edit rule can apply.

"make the header and footer dark blue, add a “Pricing” link to the menu and remove the
sign up button" becomes three clauses: a restyle of two targets, an addition into the
header, a removal by the element's text. The parser never guesses: a clause whose
action or target it does not recognise comes back with ``action=None``, so the caller
can hand exactly those words to a model, or say plainly that they were not applied.
It knows nothing of HTML; :mod:`seesay.vision.revision` applies the clauses to a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

CAN_DO = (
    "recolour, resize, align and round parts of the page, switch it to a dark theme, add or remove "
    "a header, footer, button, link, heading, paragraph, image or divider, and change a heading's, "
    "button's or link's text"
)


@dataclass(frozen=True)
class Target:
    """A kind of element an instruction can name."""

    kind: str
    singular: str
    plural: str
    selector: str
    fill: str = "background"  # what a bare colour changes: "background" or "color" (the text)
    one: bool = False  # the first match only: the site's header, not every <header> in it
    fallback: str = ""  # selector used when ``selector`` matches nothing

    def noun_for(self, count: int) -> str:
        return self.singular if count == 1 else self.plural


HEADER = Target("header", "header", "headers", "header, .site-header, [role=banner]", one=True)
FOOTER = Target("footer", "footer", "footers", "footer, .site-footer, [role=contentinfo]", one=True)
BUTTONS = Target("button", "button", "buttons", "button, .button, input[type=submit], input[type=button]")
LINKS = Target("link", "link", "links", "a", fill="color")
CARDS = Target("card", "card", "cards", ".card, article")
TITLE = Target("title", "title", "titles", "h1", fill="color", one=True, fallback="h2, h3")
HEADINGS = Target("heading", "heading", "headings", "h1, h2, h3, h4, h5, h6", fill="color")
PARAGRAPHS = Target("paragraph", "paragraph", "paragraphs", "p", fill="color")
IMAGES = Target("image", "image", "images", "figure, img")
FIELDS = Target("input", "field", "fields", "input, select, textarea")
DIVIDERS = Target("divider", "divider", "dividers", "hr")
PAGE = Target("page", "page", "pages", "body", one=True)
TEXT = Target("text", "text", "text", "body", fill="color", one=True)
CONTENT = Target("content", "content", "content", "main", one=True, fallback="body")

# Names of parts of a page, most specific first where two overlap ("main heading" before "heading").
_SPECIFIC: list[tuple[str, Target]] = [
    (r"headers?|nav ?bars?|navigation(?: bar)?|menu(?: bar)?|top bar|banner", HEADER),
    (r"footers?|bottom bar", FOOTER),
    (r"buttons?", BUTTONS),
    (r"links?", LINKS),
    (r"cards?|boxes|panels?", CARDS),
    (r"main heading|headline|title", TITLE),
    (r"(?:sub)?headings?", HEADINGS),
    (r"paragraphs?|body text|copy", PARAGRAPHS),
    (r"images?|pictures?|photos?|placeholders?", IMAGES),
    (r"search (?:box|bar|field)|(?:text |input )?fields?|inputs?|text ?boxes", FIELDS),
    (r"dividers?|separators?|horizontal (?:rules?|lines?)", DIVIDERS),
]
_GENERIC: list[tuple[str, Target]] = [
    (r"content|layout", CONTENT),
    (r"background|page|site|website|body", PAGE),
    (r"text|fonts?|writing|letters|everything", TEXT),
]
# What "add a …" can make, by the element's kind.
_KINDS: list[tuple[str, str]] = [
    (r"headers?|nav ?bars?|navigation(?: bar)?|menu(?: bar)?|top bar", "header"),
    (r"footers?", "footer"),
    (r"buttons?", "button"),
    (r"links?", "link"),
    (r"(?:sub)?headings?|titles?|headlines?", "heading"),
    (r"paragraphs?|(?:some |more )?text|copy|description", "paragraph"),
    (r"dividers?|separators?|horizontal (?:rule|line)|line", "divider"),
    (r"images?|pictures?|photos?|placeholders?", "image"),
    (r"search (?:box|bar|field)", "search"),
    (r"(?:text )?(?:input|field|text ?box)", "input"),
]

_BASE = {
    "red": "#dc2626",
    "orange": "#ea580c",
    "yellow": "#facc15",
    "green": "#16a34a",
    "teal": "#0d9488",
    "blue": "#2563eb",
    "navy": "#1e2a5a",
    "purple": "#7c3aed",
    "pink": "#db2777",
    "brown": "#78350f",
    "black": "#111111",
    "white": "#ffffff",
    "gray": "#6b7280",
    "grey": "#6b7280",
}
_NAMED = {
    "dark blue": "#1e3a8a",
    "navy blue": "#1e2a5a",
    "light blue": "#dbeafe",
    "dark red": "#7f1d1d",
    "dark green": "#14532d",
    "dark gray": "#374151",
    "dark grey": "#374151",
    "light gray": "#f3f4f6",
    "light grey": "#f3f4f6",
}
_COLOUR = re.compile(
    r"#[0-9a-f]{6}\b|#[0-9a-f]{3}\b|\b(?:(?:dark|light|pale|deep|bright|navy)\s+)?(?:"
    + "|".join(_BASE)
    + r")\b",
    re.I,
)
_TEXT_AFTER = re.compile(r"^\s*(?:text|font|writing|letters|lettering|words)\b", re.I)
_TEXT_BEFORE = re.compile(
    r"\b(?:text|font|writing)(?:\s+colou?r)?\s*(?:to|in|of|is|should be|=|:)?\s*$", re.I
)


def colour_hex(name: str) -> str:
    """#rrggbb for a colour as written: a hex code, a name, or a name with dark/light/pale/deep."""
    name = re.sub(r"\s+", " ", name.strip().lower())
    if name.startswith("#"):
        return name if len(name) == 7 else "#" + "".join(c * 2 for c in name[1:])
    if name in _NAMED:
        return _NAMED[name]
    shade, _, base = name.rpartition(" ")
    rgb = [int(_BASE[base][i : i + 2], 16) for i in (1, 3, 5)]
    if shade in ("dark", "deep"):
        rgb = [round(v * 0.55) for v in rgb]
    elif shade in ("light", "pale"):
        rgb = [round(v + (255 - v) * 0.8) for v in rgb]
    return "#" + "".join(f"{v:02x}" for v in rgb)


@dataclass(frozen=True)
class StylePart:
    """One look asked for: ``prop`` is fill, text, size, align, bold, italic, round or font."""

    prop: str
    value: str
    words: str  # as the user said it: "dark blue", "bigger", "centred"


@dataclass
class Clause:
    """One request: ``action`` is style, remove, add, text, theme, or None when not understood."""

    said: str
    action: str | None = None
    targets: list[Target] = field(default_factory=list)
    styles: list[StylePart] = field(default_factory=list)
    kind: str | None = None  # add: what to make
    label: str | None = None  # the text of the element to add, remove, or the new text
    old: str | None = None  # text: which element, by its current text
    into: str | None = None  # add: "header" or "footer", else the main content
    top: bool = False  # add: first rather than last
    many: bool = False  # remove: every match ("all buttons", "the buttons")
    ordinal: str | None = None  # remove: "first" or "last"
    unclear: bool = False  # it has words no rule knows: never merged into a neighbour


# --- splitting ------------------------------------------------------------------------------------

_QUOTE = re.compile(r"“([^”]*)”|\"([^\"]*)\"|‘([^’]*)’|(?<!\w)'([^']+)'(?!\w)")
_SPLIT = re.compile(r"\s*(?:[,;!]|\.(?=\s|$)|\b(?:and then|then|and|also|plus)\b)\s*", re.I)


def quoted(text: str) -> tuple[str, list[str]]:
    """``text`` with each quoted part replaced by «n», and the parts (so splitting spares them)."""
    parts: list[str] = []

    def keep(m: re.Match[str]) -> str:
        parts.append(next(g for g in m.groups() if g is not None).strip())
        return f"«{len(parts) - 1}»"

    return _QUOTE.sub(keep, text), parts


def clauses(instruction: str) -> list[Clause]:
    """The instruction's clauses in order, each with what a rule needs to apply it."""
    text, quotes = quoted(instruction)
    raw = [c.strip() for c in _SPLIT.split(text) if c and c.strip()]
    out: list[Clause] = []
    pending: list[Clause] = []  # "make the header" of "make the header and footer dark blue"
    for i, piece in enumerate(raw):
        clause = _carried(_clause(piece, quotes), piece, out[-1] if out else None, quotes, bool(pending))
        waits = clause.action is None and not clause.unclear and clause.targets and not clause.styles
        if waits and i + 1 < len(raw):
            pending.append(clause)
            continue
        if pending and clause.action == "style":
            clause.targets = [t for p in pending for t in p.targets if t not in clause.targets] + [
                *clause.targets
            ]
            clause.said = " and ".join([*(p.said for p in pending), clause.said])
        else:
            out += pending
        pending = []
        out.append(clause)
    return out + pending


def _carried(clause: Clause, piece: str, prev: Clause | None, quotes: list[str], waiting: bool) -> Clause:
    """A clause without a verb of its own takes the previous one's: "add a footer and a header"
    adds both, "make the title bigger and red" restyles the title twice."""
    if clause.action is not None or clause.unclear or prev is None:
        return clause
    if prev.action in ("add", "remove") and not _OWN_VERB.match(piece) and (clause.kind or clause.targets):
        again = _clause(f"{prev.action} {piece}", quotes)
        return replace(again, said=clause.said, into=again.into or prev.into)
    if prev.action == "style" and clause.styles and not clause.targets and not waiting:
        return replace(clause, action="style", targets=prev.targets)
    return clause


_OWN_VERB = re.compile(
    r"^\s*(?:make|turn|set|change|colou?r|paint|give|use|switch|have|center|centre)\b", re.I
)


# --- one clause -----------------------------------------------------------------------------------

_LEAD = r"^(?:(?:please|also|now|then|can you|could you|i want to|i'd like to|let's)\s+)*"
_REMOVE = re.compile(_LEAD + r"(?:remove|delete|drop|hide|get rid of|take (?:out|away)|without)\b", re.I)
_ADD = re.compile(_LEAD + r"(?:add|insert|include|create|append|give (?:it|the page))\b", re.I)
_RETEXT = re.compile(
    r"\b(?:(?:change|rename|set|replace|update)\s+(?P<what>.+?)\s+(?:text\s+)?(?:to|into)|"
    r"(?:make|have)\s+(?P<what2>.+?)\s+(?:say|says|read|reads))\s+(?P<new>.+)$",
    re.I,
)
_LABEL = re.compile(
    r"\b(?:(?:that|which)\s+(?:says|reads)|saying|reading|label(?:l)?ed|called|named|titled|"
    r"with (?:the )?(?:text|label|title|caption|words?))\s+(?P<label>.+)$",
    re.I,
)
_INTO = re.compile(
    r"\b(?:to|in|into|inside|on|at)\s+(?:the\s+)?"
    r"(?P<where>headers?|nav ?bar|navigation|menu|top bar|footer)\b",
    re.I,
)
_TOP = re.compile(r"\b(?:at the (?:top|start|beginning)|first)\b", re.I)
_BY_TEXT = re.compile(
    r"\bthe\s+(?P<label>[\w'’ -]+?)\s+(?P<noun>button|link|heading|title|image|field|card)s?\b", re.I
)
_NOT_LABELS = {"first", "last", "big", "small", "main", "top", "bottom", "new", "old", "only", "whole"}


def _clause(text: str, quotes: list[str]) -> Clause:
    """One clause, understood only if every word in it is: a word no rule knows ("sticky",
    "without a border") means a rule would do less than asked, so the clause is left unknown."""
    clause, rest = _read(text, quotes)
    if _leftover(rest):
        return replace(clause, action=None, unclear=True)
    return clause


def _read(text: str, quotes: list[str]) -> tuple[Clause, str]:
    """The clause ``text`` asks for, and the words of it that are not element texts."""
    said = _unquote(text, quotes)
    if re.search(r"\bdark\s+(?:mode|theme|look|colou?r scheme|version)\b", text, re.I):
        return Clause(said, "theme"), text
    if _REMOVE.search(text):
        return _removal(text, said, quotes)
    if _ADD.search(text):
        return _addition(text, said, quotes)
    m = _RETEXT.search(text)
    if m and ("«" in m["new"] or not _styles(m["new"])):
        what = m["what"] or m["what2"]
        targets = [t for t in _targets(what) if t.kind in ("title", "heading", "button", "link")]
        old = _label_in(what, quotes)
        clause = Clause(
            said,
            "text" if targets else None,
            targets=targets[:1],
            label=_unquote(m["new"], quotes).strip(" .") or None,
            old=old,
        )
        return clause, _without(text[: m.start("new")], old)
    styles = _styles(text)
    targets = _targets(text)
    if not targets and any(s.prop == "round" for s in styles):
        targets = [BUTTONS, CARDS, IMAGES, FIELDS]
    if styles and targets:
        if any(s.prop == "align" for s in styles):  # aligning "the text" or "the page" means its content
            targets = [CONTENT if t in (TEXT, PAGE) else t for t in targets]
        return Clause(said, "style", targets=targets, styles=styles), text
    return Clause(said, None, targets=targets, styles=styles, kind=_kind(text)), text


def _removal(text: str, said: str, quotes: list[str]) -> tuple[Clause, str]:
    targets = _targets(text)
    label = _label_in(text, quotes)
    ordinal = next((w.lower() for w in re.findall(r"\b(first|last)\b", text, re.I)), None)
    words = [m.group(0).lower() for pat, _ in _SPECIFIC for m in re.finditer(rf"\b(?:{pat})\b", text, re.I)]
    many = bool(re.search(r"\b(?:all|every|each|both)\b", text, re.I)) or any(
        w.endswith("s") and not w.endswith("ss") for w in words
    )
    action = "remove" if targets else None
    clause = Clause(said, action, targets=targets[:1], label=label, many=many, ordinal=ordinal)
    return clause, _without(text, label)


def _addition(text: str, said: str, quotes: list[str]) -> tuple[Clause, str]:
    into, top = None, bool(_TOP.search(text))
    text = _TOP.sub(" ", text)
    into_m = _INTO.search(text)
    if into_m:
        into = "footer" if into_m["where"].lower() == "footer" else "header"
        text = text[: into_m.start()] + text[into_m.end() :]
    label = None
    m = _LABEL.search(text)
    if m:
        label, text = m["label"], text[: m.start()]
        quote = re.search(r"«(\d+)»", label)
        label = quotes[int(quote.group(1))] if quote else _unquote(label, quotes).strip(" .")
    else:
        label = _label_in(text, quotes)
    kind = _kind(text)
    if kind == into:
        into = None
    styles = [s for s in _styles(text) if s.prop in ("fill", "text", "bold", "italic", "round")]
    clause = Clause(
        said, "add" if kind else None, kind=kind, label=label or None, into=into, top=top, styles=styles
    )
    return clause, _without(text, label)


# Every word a rule acts on, and the words that only hold a sentence together.
_KNOWN = re.compile(
    "|".join(
        [
            *(rf"\b(?:{pat})\b" for pat, _ in (*_SPECIFIC, *_GENERIC)),
            *(rf"\b(?:{pat})\b" for pat, _ in _KINDS),
            _COLOUR.pattern,
            r"«\d+»",
            r"\b(?:bigger|larger|huge|big|large|enlarge|increase|smaller|tiny|small|shrink|reduce|size|"
            r"cent(?:er|re)(?:ed|d)?|align\w*|left|right|bold(?:er)?|italics?|round(?:ed|er)?|corners?|"
            r"sans[- ]?serif|serif|mono(?:space|spaced)?|typeface|colou?rs?|shade|dark|theme|mode|"
            r"look|scheme|"
            r"remove|delete|drop|hide|get rid of|take (?:out|away)|without|add|insert|include|create|"
            r"append|give|change|rename|set|replace|update|say|says|read|reads|saying|reading|"
            r"label(?:l)?ed|called|named|titled|label|caption|words?)\b",
        ]
    ),
    re.I,
)
_FILLER = frozenset(
    re.split(
        r"\s+",
        "a an the all every each both it its them they to with of in on at and or more less bit little "
        "slightly much very really quite nice nicer new another one please some so that which this these "
        "those is are be should would could can you i i'd want like let's lets make turn use switch paint "
        "have has into as for me my our your their also now just too same first last top bottom start end "
        "beginning instead here there whole entire",
    )
)


def _leftover(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w'’]+", _KNOWN.sub(" ", text).lower()) if w not in _FILLER]


def _without(text: str, label: str | None) -> str:
    """``text`` less an unquoted element text it names (the words of "the sign up button")."""
    if not label:
        return text
    return re.sub(re.escape(label), " ", text, flags=re.I)


def _kind(text: str) -> str | None:
    found = [(m.start(), kind) for pat, kind in _KINDS for m in re.finditer(rf"\b(?:{pat})\b", text, re.I)]
    return min(found)[1] if found else None


def _targets(text: str) -> list[Target]:
    """The parts of the page ``text`` names, in the order named; a page-wide one only if none else."""
    for table in (_SPECIFIC, _GENERIC):
        spans: list[tuple[int, int, Target]] = []
        for pat, target in table:
            spans += [(m.start(), -m.end(), target) for m in re.finditer(rf"\b(?:{pat})\b", text, re.I)]
        chosen: list[Target] = []
        end = -1
        for start, neg_end, target in sorted(spans, key=lambda s: (s[0], s[1])):
            if start >= end:
                end = -neg_end
                if target not in chosen:
                    chosen.append(target)
        if chosen:
            return chosen
    return []


def _label_in(text: str, quotes: list[str]) -> str | None:
    """The element's text a clause names: quoted, or "the sign up button"."""
    m = re.search(r"«(\d+)»", text)
    if m:
        return quotes[int(m.group(1))] or None
    m = _BY_TEXT.search(text)
    if m:
        words = m["label"].strip()
        first = words.split()[0].lower()
        if (
            first not in _NOT_LABELS
            and not _COLOUR.fullmatch(words)
            and first not in ("all", "every", "each")
        ):
            return words
    return None


def _unquote(text: str, quotes: list[str]) -> str:
    return re.sub(r"«(\d+)»", lambda m: quotes[int(m.group(1))], text).strip()


# Looks asked for in words, by group: the first pattern of a group that matches is the one
# meant ("sans-serif" is not also "serif"); groups are independent ("bold and centred").
_LOOKS: tuple[tuple[tuple[str, StylePart], ...], ...] = (
    (
        (r"\b(?:bigger|larger|huge|big|large|enlarge|increase)\b", StylePart("size", "1.25", "bigger")),
        (r"\b(?:smaller|tiny|small|shrink|reduce)\b", StylePart("size", "0.8", "smaller")),
    ),
    (
        (r"\bcent(?:er|re)(?:ed|d)?\b", StylePart("align", "center", "centred")),
        (
            r"\b(?:align\w*\b.*\bleft|left[- ]align\w*|to the left)\b",
            StylePart("align", "left", "aligned left"),
        ),
        (
            r"\b(?:align\w*\b.*\bright|right[- ]align\w*|to the right)\b",
            StylePart("align", "right", "aligned right"),
        ),
    ),
    ((r"\bbold(?:er)?\b", StylePart("bold", "700", "bold")),),
    ((r"\bitalics?\b", StylePart("italic", "italic", "italic")),),
    ((r"\bround(?:ed|er)?\b", StylePart("round", "", "rounded")),),
    (
        (r"\bsans[- ]?serif\b", StylePart("font", "system-ui, 'Segoe UI', Roboto, sans-serif", "sans-serif")),
        (r"\bserif\b", StylePart("font", "Georgia, 'Times New Roman', serif", "serif")),
        (
            r"\bmono(?:space|spaced)?\b",
            StylePart("font", "ui-monospace, 'DejaVu Sans Mono', monospace", "monospace"),
        ),
    ),
)


def _styles(text: str) -> list[StylePart]:
    parts: list[StylePart] = []
    fill = tint = None
    for m in _COLOUR.finditer(text):
        on_text = _TEXT_AFTER.match(text[m.end() :]) or _TEXT_BEFORE.search(text[: m.start()])
        words = re.sub(r"\s+", " ", m.group(0).lower())
        if on_text and tint is None:
            tint = StylePart("text", colour_hex(words), words)
        elif not on_text and fill is None:
            fill = StylePart("fill", colour_hex(words), words)
    parts += [p for p in (fill, tint) if p is not None]
    for group in _LOOKS:
        part = next((p for pattern, p in group if re.search(pattern, text, re.I)), None)
        if part is not None:
            parts.append(part)
    return parts
