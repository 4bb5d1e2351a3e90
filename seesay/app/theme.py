"""The look: a light and a dark palette, one stylesheet made from either, and the app icon.

Widgets get an ``objectName`` and are styled here rather than each calling
``setStyleSheet``; the few that paint themselves (conversation rows, the voice controls,
Markdown) read :func:`colours` when they paint, so switching the theme (following the
desktop, or the user's choice in Settings) restyles everything at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Colours:
    dark: bool
    window: str  # the chat canvas and dialogs
    surface: str  # inputs, buttons, cards
    sidebar: str  # the chat list and the status bar
    border: str
    strong_border: str
    text: str
    muted: str
    disabled: str
    accent: str
    accent_disabled: str
    on_accent: str
    hover: str
    selected: str
    user_bubble: str
    error: str
    error_bg: str
    warning_bg: str
    info_bg: str
    trim_text: str
    code_bg: str
    code_header: str
    link: str
    good: str
    good_bg: str


LIGHT = Colours(
    dark=False,
    window="#ffffff",
    surface="#ffffff",
    sidebar="#f6f7f9",
    border="#e4e7eb",
    strong_border="#d0d7de",
    text="#1f2328",
    muted="#656d76",
    disabled="#a0a7b0",
    accent="#2a5bd7",
    accent_disabled="#a9bdf0",
    on_accent="#ffffff",
    hover="#eef2f8",
    selected="#e1e8f5",
    user_bubble="#e8effd",
    error="#b42318",
    error_bg="#fdecea",
    warning_bg="#fff6dd",
    info_bg="#e9f2ff",
    trim_text="#7a5b00",
    code_bg="#f6f8fa",
    code_header="#eaeef2",
    link="#0b62d6",
    good="#1a7f37",
    good_bg="#dafbe1",
)
DARK = Colours(
    dark=True,
    window="#1b1d21",
    surface="#25282d",
    sidebar="#16181b",
    border="#30343a",
    strong_border="#444a52",
    text="#e6e8eb",
    muted="#9aa2ad",
    disabled="#5d646d",
    accent="#5b8def",
    accent_disabled="#34497a",
    on_accent="#ffffff",
    hover="#2c3037",
    selected="#2b3a57",
    user_bubble="#233352",
    error="#ff8a80",
    error_bg="#3b1e1e",
    warning_bg="#3a3220",
    info_bg="#1e2c44",
    trim_text="#e8c66a",
    code_bg="#22252a",
    code_header="#2b2f35",
    link="#7aa7ff",
    good="#56d37a",
    good_bg="#173323",
)
_current = LIGHT


def colours() -> Colours:
    """The palette in use now (read at paint time, so a theme switch needs no rebuild)."""
    return _current


def stylesheet(c: Colours) -> str:
    return f"""
QMainWindow, QDialog, QWidget#chatPage, QWidget#chatCanvas {{ background: {c.window}; }}
QWidget#sidebar {{ background: {c.sidebar}; border-right: 1px solid {c.border}; }}
QLineEdit, QPlainTextEdit, QComboBox, QSpinBox, QDoubleSpinBox {{ background: {c.surface};
    color: {c.text}; border: 1px solid {c.strong_border}; border-radius: 6px; padding: 3px 6px; }}
QLineEdit:disabled, QComboBox:disabled, QSpinBox:disabled, QDoubleSpinBox:disabled {{
    color: {c.disabled}; border-color: {c.border}; }}
QLineEdit#searchField {{ border-radius: 8px; padding: 6px 8px; }}
QLineEdit:focus, QComboBox:focus {{ border-color: {c.accent}; }}
QPushButton {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.strong_border};
    border-radius: 6px; padding: 5px 12px; }}
QPushButton:hover {{ background: {c.hover}; }}
QPushButton:disabled {{ color: {c.disabled}; background: {c.window}; border-color: {c.border}; }}
QListView#conversationList {{ background: transparent; border: none; outline: none; }}
QPushButton#newChatButton {{ border-radius: 8px; padding: 7px 10px; text-align: left; font-weight: 600; }}
QFrame#userBubble {{ background: {c.user_bubble}; border-radius: 14px; }}
QLabel#messageRole {{ color: {c.muted}; font-weight: 600; }}
QLabel#messageMeta {{ color: {c.muted}; }}
QToolButton#messageAction, QToolButton#branchArrow {{ border: none; border-radius: 6px; color: {c.muted};
    padding: 2px 7px; }}
QToolButton#branchArrow {{ font-weight: 600; padding: 1px 6px; }}
QToolButton#messageAction:hover, QToolButton#branchArrow:hover {{ background: {c.hover}; color: {c.text}; }}
QToolButton#messageAction:disabled, QToolButton#branchArrow:disabled {{ color: {c.disabled}; }}
QLabel#branchPosition {{ color: {c.muted}; }}
QFrame#inlineEditor {{ background: {c.user_bubble}; border: 1px solid {c.strong_border};
    border-radius: 14px; }}
QPlainTextEdit#inlineEdit {{ background: {c.surface}; }}
QFrame#toolCard {{ background: {c.sidebar}; border: 1px solid {c.border}; border-radius: 8px; }}
QFrame#toolCard[state="asking"] {{ background: {c.warning_bg}; border: 1px solid {c.strong_border}; }}
QFrame#toolCard[state="error"], QFrame#toolCard[state="denied"] {{ border: 1px solid {c.error}; }}
QToolButton#toolToggle {{ border: none; color: {c.muted}; font-family: monospace; text-align: left; }}
QLabel#toolReason {{ color: {c.text}; }}
QPlainTextEdit#toolBody {{ font-family: monospace; background: {c.code_bg}; }}
QLabel#messageStatus {{ color: {c.muted}; font-style: italic; }}
QLabel#messageError {{ color: {c.error}; }}
QLabel#trimNotice {{ color: {c.trim_text}; background: {c.warning_bg}; border: 1px solid {c.border};
    border-radius: 6px; padding: 4px 8px; }}
QLabel#emptyTitle {{ color: {c.text}; font-size: 20pt; font-weight: 600; }}
QLabel#emptyHint {{ color: {c.muted}; }}
QFrame#composerFrame {{ background: {c.surface}; border: 1px solid {c.strong_border}; border-radius: 12px; }}
QPlainTextEdit#promptEdit {{ border: none; background: transparent; }}
QPushButton#sendButton {{ background: {c.accent}; color: {c.on_accent}; border: none; border-radius: 8px;
    padding: 6px 16px; font-weight: 600; }}
QPushButton#sendButton:disabled {{ background: {c.accent_disabled}; color: {c.on_accent}; }}
QPushButton#sendButton[streaming="true"] {{ background: #c0392b; }}
QPushButton#regenerateButton {{ background: transparent; border-radius: 8px; padding: 6px 12px; }}
QFrame#bannerItem[level="error"] {{ background: {c.error_bg}; border: 1px solid {c.border};
    border-radius: 8px; }}
QFrame#bannerItem[level="warning"] {{ background: {c.warning_bg}; border: 1px solid {c.border};
    border-radius: 8px; }}
QFrame#bannerItem[level="info"] {{ background: {c.info_bg}; border: 1px solid {c.border};
    border-radius: 8px; }}
QFrame#bannerItem QLabel {{ color: {c.text}; }}
QFrame#bannerItem QPushButton {{ padding: 3px 10px; }}
QToolButton#bannerClose {{ border: none; padding: 2px 6px; color: {c.text}; }}
QStatusBar {{ background: {c.sidebar}; border-top: 1px solid {c.border}; color: {c.muted}; }}
QStatusBar QLabel {{ color: {c.muted}; padding: 0px 6px; }}
QProgressBar#loadProgress {{ border: 1px solid {c.strong_border}; border-radius: 4px; background: {c.surface};
    max-height: 10px; }}
QProgressBar#loadProgress::chunk {{ background: {c.accent}; border-radius: 3px; }}
QLabel#fieldError {{ color: {c.error}; }}
QLabel#fieldHelp {{ color: {c.muted}; }}
QScrollArea#chatScroll {{ border: none; background: {c.window}; }}
QTextBrowser#richText {{ background: transparent; border: none; color: {c.text}; }}
QFrame#voicePanel {{ background: {c.window}; border-top: 1px solid {c.border}; }}
QPushButton#talkButton:pressed {{ background: {c.good_bg}; border-color: {c.good}; }}
QToolButton#voiceSettingsButton, QToolButton#voiceCollapse {{ border: none; color: {c.muted};
    padding: 4px 8px; border-radius: 6px; }}
QToolButton#voiceSettingsButton:hover, QToolButton#voiceCollapse:hover {{ background: {c.hover}; }}
QToolButton#voiceSettingsButton:checked {{ background: {c.hover}; color: {c.text}; }}
QLabel#voiceDetail {{ color: {c.muted}; }}
QLabel#modelFit[fits="false"] {{ color: {c.error}; }}
QLabel#sketchImage {{ border: 1px dashed {c.strong_border}; color: {c.muted}; }}
QFrame#attachmentChip {{ background: {c.sidebar}; border: 1px solid {c.border}; border-radius: 8px; }}
QFrame#attachmentChip[state="failed"] {{ background: {c.error_bg}; border: 1px solid {c.error}; }}
QLabel#attachmentKind {{ background: {c.selected}; color: {c.text}; border-radius: 4px; padding: 1px 4px;
    font-size: 8pt; font-weight: 600; min-width: 28px; }}
QLabel#attachmentKind[state="failed"] {{ background: {c.error}; color: {c.on_accent}; }}
QFrame#attachmentChip QLabel#attachmentName {{ font-weight: 600; color: {c.text}; }}
QLabel#attachmentDetail {{ color: {c.muted}; }}
QLabel#attachmentDetail[state="failed"] {{ color: {c.error}; }}
QProgressBar#attachmentProgress {{ border: 1px solid {c.strong_border}; border-radius: 3px; max-height: 6px;
    background: {c.surface}; }}
QProgressBar#attachmentProgress::chunk {{ background: {c.accent}; }}
QToolButton#attachmentRemove {{ border: none; color: {c.muted}; padding: 1px 5px; border-radius: 4px; }}
QToolButton#attachmentRemove:hover {{ background: {c.hover}; color: {c.text}; }}
QToolButton#attachButton, QToolButton#searchDocsButton {{ border: none; border-radius: 8px; padding: 5px 7px;
    font-size: 13pt; }}
QToolButton#attachButton:hover, QToolButton#searchDocsButton:hover {{ background: {c.hover}; }}
QToolButton#searchDocsButton:checked {{ background: {c.selected}; border: 1px solid {c.accent}; }}
QLabel#attachedFile {{ color: {c.muted}; }}
QLabel#sourceList {{ color: {c.muted}; background: {c.sidebar}; border: 1px solid {c.border};
    border-radius: 8px; padding: 6px 10px; }}
QLabel#passageWhere, QLabel#passagePath {{ color: {c.muted}; }}
"""


def palette(c: Colours) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.surface,
        QPalette.ColorRole.AlternateBase: c.sidebar,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.surface,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.Highlight: c.selected,
        QPalette.ColorRole.HighlightedText: c.text,
        QPalette.ColorRole.ToolTipBase: c.surface,
        QPalette.ColorRole.ToolTipText: c.text,
        QPalette.ColorRole.PlaceholderText: c.muted,
        QPalette.ColorRole.Link: c.link,
        QPalette.ColorRole.Mid: c.border,
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.disabled))
    return p


def icon() -> QIcon:
    """The app icon, drawn from the SVG in the package data so it is crisp at any size."""
    path = files("seesay.assets") / "icons" / "seesay.svg"
    return QIcon(str(path))


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def apply(app: QApplication, mode: str = "system") -> Colours:
    """Fusion style with the light or dark palette (``system`` follows the desktop)."""
    global _current
    _current = DARK if mode == "dark" or (mode == "system" and system_is_dark()) else LIGHT
    app.setStyle("Fusion")
    app.setPalette(palette(_current))
    font = QFont(app.font())
    font.setPointSizeF(max(font.pointSizeF(), 10.5))
    app.setFont(font)
    app.setStyleSheet(stylesheet(_current))
    app.setWindowIcon(icon())
    return _current
