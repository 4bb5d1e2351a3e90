"""Whether a page a model made may replace ours: it parses, keeps the drawn labels, and has
nothing that reaches out (:mod:`seesay.vision.safety`); and the page found in a model's reply."""

from __future__ import annotations

import html as _html
import re
from collections.abc import Sequence

from seesay.vision import safety


def extract_html(reply: str) -> str | None:
    """The HTML document in a model reply: a fenced block, or from <!DOCTYPE/<html to </html>."""
    m = re.search(r"```(?:html)?\s*\n(.*?)```", reply, re.S | re.I)
    if m and "<" in m.group(1):
        reply = m.group(1)
    m = re.search(r"(<!DOCTYPE html.*?</html>|<html.*?</html>)", reply, re.S | re.I)
    return m.group(1).strip() if m else None


def validate(page: str, labels: Sequence[str] = (), *, min_kept: float = 1.0) -> list[str]:
    """Problems that disqualify a model-made page; empty when it may replace the current one."""
    problems, tags, text = safety.scan(page)
    if "body" not in tags and "main" not in tags:
        problems.append("no page body")
    visible = _norm(text + " " + " ".join(re.findall(r'(?:placeholder|value)="([^"]*)"', page)))
    wanted = [lab for lab in labels if _norm(lab)]
    kept = [lab for lab in wanted if _norm(lab) in visible]
    if wanted and len(kept) < min_kept * len(wanted):
        missing = [lab for lab in wanted if lab not in kept]
        problems.append("drops drawn labels: " + ", ".join(missing[:5]))
    return problems


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower()).strip()


def page_labels(page: str) -> list[str]:
    """Texts of the labelled elements of a page we generated (data-kind markers)."""
    found = re.findall(
        r'data-kind="(?:heading|label|link|button|checkbox|radio)"[^>]*>(?:<input[^>]*>\s*'
        r"<span>)?([^<]+)<",
        page,
    )
    found += re.findall(r'data-kind="(?:text_input)"[^>]*placeholder="([^"]+)"', page)
    return [_html.unescape(f).strip() for f in found if f.strip()]
