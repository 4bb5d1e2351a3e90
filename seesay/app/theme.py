"""The light look: one palette, one stylesheet and the app icon, applied once per QApplication.

Widgets get an ``objectName`` and are styled here rather than each calling
``setStyleSheet``, so the whole look can be read (and changed) in one place.
"""

from __future__ import annotations

from importlib.resources import files

from PySide6.QtGui import QColor, QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#2a5bd7"
TEXT = "#1f2328"
MUTED = "#656d76"
SIDEBAR_BG = "#f6f7f9"
USER_BUBBLE = "#e8effd"
ERROR_TEXT = "#b42318"

STYLESHEET = f"""
QMainWindow, QWidget#chatPage, QWidget#chatCanvas {{ background: #ffffff; }}
QWidget#sidebar {{ background: {SIDEBAR_BG}; border-right: 1px solid #e4e7eb; }}
QLineEdit#searchField {{ border: 1px solid #d8dde3; border-radius: 8px; padding: 6px 8px;
    background: #ffffff; }}
QLineEdit#searchField:focus {{ border-color: {ACCENT}; }}
QListView#conversationList {{ background: transparent; border: none; outline: none; }}
QPushButton#newChatButton {{ background: #ffffff; border: 1px solid #d8dde3; border-radius: 8px;
    padding: 7px 10px; text-align: left; font-weight: 600; }}
QPushButton#newChatButton:hover {{ background: #eef2f8; }}
QFrame#userBubble {{ background: {USER_BUBBLE}; border-radius: 14px; }}
QLabel#messageRole {{ color: {MUTED}; font-weight: 600; }}
QLabel#messageMeta {{ color: {MUTED}; }}
QLabel#messageStatus {{ color: {MUTED}; font-style: italic; }}
QLabel#messageError {{ color: {ERROR_TEXT}; }}
QLabel#trimNotice {{ color: #7a5b00; background: #fff8e1; border: 1px solid #f2e0a6;
    border-radius: 6px; padding: 4px 8px; }}
QLabel#emptyTitle {{ color: {TEXT}; font-size: 20pt; font-weight: 600; }}
QLabel#emptyHint {{ color: {MUTED}; }}
QFrame#composerFrame {{ background: #ffffff; border: 1px solid #d0d7de; border-radius: 12px; }}
QPlainTextEdit#promptEdit {{ border: none; background: transparent; }}
QPushButton#sendButton {{ background: {ACCENT}; color: white; border: none; border-radius: 8px;
    padding: 6px 16px; font-weight: 600; }}
QPushButton#sendButton:disabled {{ background: #a9bdf0; }}
QPushButton#sendButton[streaming="true"] {{ background: #c0392b; }}
QPushButton#regenerateButton {{ background: transparent; border: 1px solid #d0d7de;
    border-radius: 8px; padding: 6px 12px; color: {TEXT}; }}
QPushButton#regenerateButton:hover {{ background: #f3f4f6; }}
QPushButton#regenerateButton:disabled {{ color: #a0a7b0; border-color: #e4e7eb; }}
QFrame#bannerItem[level="error"] {{ background: #fdecea; border: 1px solid #f5c2c0; border-radius: 8px; }}
QFrame#bannerItem[level="warning"] {{ background: #fff6dd; border: 1px solid #f1dc9a;
    border-radius: 8px; }}
QFrame#bannerItem[level="info"] {{ background: #e9f2ff; border: 1px solid #c4d9fb; border-radius: 8px; }}
QFrame#bannerItem QLabel {{ color: {TEXT}; }}
QFrame#bannerItem QPushButton {{ background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px;
    padding: 3px 10px; }}
QToolButton#bannerClose {{ border: none; padding: 2px 6px; }}
QStatusBar {{ background: {SIDEBAR_BG}; border-top: 1px solid #e4e7eb; color: {MUTED}; }}
QStatusBar QLabel {{ color: {MUTED}; padding: 0px 6px; }}
QProgressBar#loadProgress {{ border: 1px solid #d0d7de; border-radius: 4px; background: #ffffff;
    max-height: 10px; }}
QProgressBar#loadProgress::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QLabel#fieldError {{ color: {ERROR_TEXT}; }}
QLabel#fieldHelp {{ color: {MUTED}; }}
QScrollArea#chatScroll {{ border: none; background: #ffffff; }}
QTextBrowser#richText {{ background: transparent; border: none; }}
"""


def icon() -> QIcon:
    """The app icon, drawn from the SVG in the package data so it is crisp at any size."""
    path = files("seesay.assets") / "icons" / "seesay.svg"
    return QIcon(str(path))


def apply(app: QApplication) -> None:
    """Fusion style with a light palette, so the app looks the same on every desktop."""
    app.setStyle("Fusion")
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#ffffff",
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: SIDEBAR_BG,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#f6f7f9",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: "#cfe0fc",
        QPalette.ColorRole.HighlightedText: TEXT,
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: "#8c959f",
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSizeF(max(font.pointSizeF(), 10.5))
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
    app.setWindowIcon(icon())
