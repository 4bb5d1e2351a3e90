"""The sources under a reply that answered from documents, and the passage each one is.

A reply cites passages as "[1]", "[2]"; the numbers only help if the user can check them,
so each becomes a link (in the list under the reply and, where the reply wrote it, in the
text) that opens the passage the model was given, with its file, page and section, and a
button that opens the file itself.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from seesay.docs.grounding import Source

log = logging.getLogger(__name__)

SCHEME = "source"
_MARKER = re.compile(r"\[(\d{1,2})\]")
_PRE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>|<a\b.*?</a>|<[^>]+>)", re.S | re.I)


def sources_from(meta: dict[str, Any]) -> list[Source]:
    return [Source.from_meta(s) for s in meta.get("sources", []) if isinstance(s, dict)]


def short_label(source: Source) -> str:
    """ "report.pdf p. 12 · Safety" — short enough for a line under a reply."""
    parts = [Path(source.path).name + (f" p. {source.page}" if source.page else "")]
    if source.section:
        parts.append(source.section)
    return " · ".join(parts)


def source_number(url: QUrl | str) -> int | None:
    """The N of a ``source:N`` link, None for any other link."""
    text = url.toString() if isinstance(url, QUrl) else url
    scheme, _, rest = text.partition(":")
    if scheme != SCHEME or not rest.isdigit():
        return None
    return int(rest)


def link_markers(rendered: str, numbers: Iterable[int]) -> str:
    """Rendered reply HTML with each "[N]" of a known source turned into a link; code, links
    and tags are left as they are (a "[1]" in a code block is code, not a citation)."""
    known = set(numbers)
    if not known:
        return rendered

    def link(m: re.Match[str]) -> str:
        n = m.group(1)
        return f'<a href="{SCHEME}:{n}">[{n}]</a>' if int(n) in known else m[0]

    def in_text(text: str) -> str:
        return _MARKER.sub(link, text)

    pieces = _PRE.split(rendered)
    return "".join(p if i % 2 else in_text(p) for i, p in enumerate(pieces))


class SourceList(QLabel):
    """ "Sources" and one numbered link per passage, under the reply."""

    opened = Signal(object)  # the Source clicked

    def __init__(self, sources: list[Source], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sourceList")
        self.sources = sources
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.setOpenExternalLinks(False)
        lines = [f'<a href="{SCHEME}:{s.n}">[{s.n}] {html.escape(short_label(s))}</a>' for s in sources]
        self.setText("<b>Sources</b><br>" + "<br>".join(lines))
        self.setToolTip("Click a source to read the passage the answer was given")
        self.linkActivated.connect(self._on_link)

    def labels(self) -> list[str]:
        return [f"[{s.n}] {short_label(s)}" for s in self.sources]

    def open_source(self, n: int) -> PassageDialog | None:
        source = next((s for s in self.sources if s.n == n), None)
        if source is None:
            return None
        self.opened.emit(source)
        return show_passage(source, self.window())

    def _on_link(self, href: str) -> None:
        n = source_number(href)
        if n is not None:
            self.open_source(n)


class PassageDialog(QDialog):
    """The passage a reply cited, where it comes from, and a way to open the file."""

    def __init__(self, source: Source, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        name = Path(source.path).name
        self.setWindowTitle(f"[{source.n}] {name}")
        self.setObjectName("passageDialog")
        self.resize(560, 380)
        where = [f"Page {source.page}"] if source.page else []
        if source.section:
            where.append(source.section)
        self.title = QLabel(f"<b>[{source.n}] {html.escape(name)}</b>")
        self.where = QLabel(" · ".join(where) or "Passage")
        self.where.setObjectName("passageWhere")
        self.path_label = QLabel(source.path)
        self.path_label.setObjectName("passagePath")
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit(source.text)
        self.text.setObjectName("passageText")
        self.text.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = QPushButton("Open file")
        self.copy_button = QPushButton("Copy passage")
        exists = Path(source.path).is_file()
        self.open_button.setEnabled(exists)
        self.open_button.setToolTip(
            "Open the file with its usual application" if exists else f"{source.path} no longer exists"
        )
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.open_button.clicked.connect(self.open_file)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(source.text))
        layout = QVBoxLayout(self)
        for widget in (self.title, self.where, self.path_label):
            layout.addWidget(widget)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)

    def open_file(self) -> bool:
        url = QUrl.fromLocalFile(self.source.path)
        ok = QDesktopServices.openUrl(url)
        if not ok:
            log.info("no application opened %s", self.source.path)
        return bool(ok)


def show_passage(source: Source, parent: QWidget | None) -> PassageDialog:
    """Non-modal, so the user can read the passage beside the reply."""
    dialog = PassageDialog(source, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
