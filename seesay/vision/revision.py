"""Revising a page by instruction: edits of its structure first, a model only for the rest.

Most requests ("make the header dark blue and add a footer") are a few changes to a
known structure. A parser applies them in milliseconds; a model rewriting the whole
page for them takes up to a minute on a CPU and can get them wrong. So the instruction
is split into clauses (:mod:`seesay.vision.instructions`), each clause a rule
understands becomes an edit of the parsed page (:mod:`seesay.vision.page_edits`), and
only the clauses no rule understands go to a chat model, whose page is validated like
any model page and counts only if its DOM differs.

Honesty is checked, not assumed: every edit compares the DOM before and after it (the
element exists, now carries the style or text, or is gone), the edited page must parse
back to the same DOM, and a request the page cannot take ("the page has no buttons")
is reported as not applied. Nothing that did not happen is ever reported as done.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from seesay.inference.engine import Message
from seesay.vision import safety
from seesay.vision.html import DEFAULT_THEME, PageResult, _css
from seesay.vision.instructions import CAN_DO, clauses
from seesay.vision.page_edits import Done, edit, elements, fingerprint, looks, parse, serialise, texts
from seesay.vision.validation import extract_html, page_labels, validate

log = logging.getLogger(__name__)

# --- what a model sees ----------------------------------------------------------------------------

# The stylesheet every generated page shares after its :root theme line; a revision shows the model
# this marker instead (a page's own CSS is short, the shared one is ~900 tokens that never change).
_ROOT_RULE = re.compile(r":root\s*\{[^}]*\}")
STOCK_CSS = _ROOT_RULE.split(_css(DEFAULT_THEME), maxsplit=1)[1]
STOCK_MARKER = "/* base styles */"


def editable_view(page: str) -> str:
    """What a model edits: the page without the shared stylesheet, saved-page comment and CSP."""
    view = page.replace(STOCK_CSS, "\n" + STOCK_MARKER + "\n", 1)
    return view.replace(safety.SAVED_HEADER + "\n", "").replace(safety.CSP_META + "\n", "")


def restore_view(edited: str, page: str) -> str:
    """A revised :func:`editable_view` made whole again: the shared stylesheet back in place."""
    if STOCK_CSS not in page or STOCK_CSS in edited:
        return edited
    if STOCK_MARKER in edited:
        return edited.replace(STOCK_MARKER, STOCK_CSS.strip("\n"), 1)
    root = _ROOT_RULE.search(edited)  # the model dropped the marker: the stock rules go first
    if root:
        return edited[: root.end()] + STOCK_CSS + edited[root.end() :]
    return re.sub(r"<style[^>]*>", lambda m: m.group(0) + STOCK_CSS, edited, count=1, flags=re.I)


def revision_request(page: str, instruction: str) -> tuple[list[Message], Any]:
    """The messages and generation settings that ask a chat model to revise ``page``.

    Greedy, because edits should stay close to the page (which the engine's n-gram drafting
    then verifies many tokens at a time), ending at the page's end, with room for all of it.
    """
    from seesay.inference.engine import GenerationParams

    view = editable_view(page)
    messages: list[Message] = [
        {
            "role": "system",
            "content": "You edit HTML pages. Reply with the complete revised page in one "
            "```html code block. Keep it self-contained: no external URLs, "
            f"fonts, images or scripts that load anything. Keep the {STOCK_MARKER} line in the "
            "<style> element: it stands for the page's shared stylesheet.",
        },
        {"role": "user", "content": f"Page:\n```html\n{view}\n```\n\nChange: {instruction}"},
    ]
    params = GenerationParams(
        max_new_tokens=min(4096, len(view) // 2 + 256),
        temperature=0.0,
        repetition_penalty=1.0,
        stop=("</html>",),
    )
    return messages, params


# --- instruction → result -------------------------------------------------------------------------


def apply_instruction(page: str, instruction: str, engine: Any = None, params: Any = None) -> PageResult:
    """Revise a page by instruction: rule edits for what they understand, ``engine`` (a
    ChatEngine) for the rest. Notes say what was done and, as plainly, what was not."""
    if not instruction.strip():
        return PageResult(page, "unchanged", ["No instruction given; the page is unchanged."])
    rules = apply_rules(page, instruction)
    notes = rules.done + rules.refused
    source = "rules" if rules.done else "unchanged"
    if not rules.unknown:
        return PageResult(rules.html, source, notes)
    rest = " and ".join(rules.unknown)
    if engine is None:
        notes.append(not_understood(rest, changed=bool(rules.done)))
        return PageResult(rules.html, source, notes)
    revised, note = model_revision(rules.html, rest, engine, params)
    notes.append(note)
    if revised is None:
        return PageResult(rules.html, source, notes)
    return PageResult(revised, "model", notes)


def not_understood(rest: str, *, changed: bool) -> str:
    """The note for clauses no rule understands when no model can take them."""
    lead = "Not applied" if changed else "Nothing changed"
    return f"{lead}: “{rest}” needs a chat model, and none is loaded. Without one SeeSay can {CAN_DO}."


def model_revision(page: str, instruction: str, engine: Any, params: Any = None) -> tuple[str | None, str]:
    """(the model's validated, actually different page or None, a note saying which and why)."""
    removing = re.search(r"\b(remove|delete|drop|without|rename|replace)\b", instruction, re.I)
    messages, default_params = revision_request(page, instruction)
    try:
        stream = engine.stream(messages, params or default_params)
        reply = stream.text()
    except Exception as e:  # the model failing leaves the page as the rules made it
        log.info("model revision failed: %s", e)
        return None, f"The model could not revise the page ({e}); “{instruction}” is not applied."
    if stream.cancelled:
        return None, f"Stopped; “{instruction}” is not applied."
    revised = extract_html(reply if "</html>" in reply.lower() else reply + "\n</html>")
    if revised is None:
        problems = ["no HTML page in its reply"]
    else:
        revised = restore_view(revised, page)
        problems = validate(revised, page_labels(page), min_kept=0.6 if removing else 1.0)
    if revised is None or problems:
        log.info("model revision rejected: %s", problems)
        why = "; ".join(problems)
        return None, f"The model's revision was rejected ({why}); “{instruction}” is not applied."
    change = describe_change(page, revised)
    if not change:
        return None, f"The model returned the page unchanged; “{instruction}” is not applied."
    return revised, f"The model revised the page for “{instruction}” ({change})."


def describe_change(before: str, after: str) -> str:
    """What differs between two pages' DOMs, in a few words; empty when nothing does."""
    a, b = parse(before), parse(after)
    if fingerprint(a) == fingerprint(b):
        return ""
    tags_a = Counter(n.tag for n in elements(a))
    tags_b = Counter(n.tag for n in elements(b))
    parts = []
    if added := sum((tags_b - tags_a).values()):
        parts.append(f"{added} element{'s' * (added != 1)} added")
    if removed := sum((tags_a - tags_b).values()):
        parts.append(f"{removed} element{'s' * (removed != 1)} removed")
    if texts(a) != texts(b):
        parts.append("text changed")
    if looks(a) != looks(b):
        parts.append("styles changed")
    return ", ".join(parts) or "markup changed"


# --- rule edits -----------------------------------------------------------------------------------


@dataclass
class RuleRevision:
    """What the rules made of an instruction, each list in the user's order."""

    html: str
    done: list[str] = field(default_factory=list)  # sentences for edits the revised DOM shows
    refused: list[str] = field(default_factory=list)  # understood, but the page cannot take them
    unknown: list[str] = field(default_factory=list)  # the user's words no rule understands


def apply_rules(page: str, instruction: str) -> RuleRevision:
    """Apply what the rules understand of ``instruction`` to the parsed page; verified edits only."""
    tree = parse(page)
    original = fingerprint(tree)
    result = RuleRevision(page)
    for clause in clauses(instruction):
        if clause.action is None or tree.body is None:
            result.unknown.append(clause.said)
            continue
        outcome = edit(tree, clause)
        (result.done if isinstance(outcome, Done) else result.refused).append(str(outcome))
    if not result.done:
        return result
    html = serialise(tree)
    final = fingerprint(parse(html))
    if final != fingerprint(tree):  # the serialiser could not round-trip this page: keep it as it was
        log.warning("rule revision did not read back the same; page kept")
        result.refused.append("The edited page would not read back the same way, so nothing was changed.")
    elif final == original:
        result.refused.append("Nothing changed: the edits cancel each other out.")
    else:
        result.html = html
        return result
    result.done = []
    return result
