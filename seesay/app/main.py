"""Starting the app: settings and history that never stop the window from opening.

A broken settings file, an unusable history database or a missing model each become a
notice in the window's banner instead of a crash, because the window is where the user
can read the problem and fix it (Settings) without a terminal.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtWidgets import QApplication

from seesay.config import Settings, load_settings
from seesay.errors import ConfigError, StoreError
from seesay.store import HistoryStore

log = logging.getLogger(__name__)

Notice = tuple[str, str, str]  # key, text, level


@dataclass
class Startup:
    settings: Settings
    store: HistoryStore | None
    notices: list[Notice] = field(default_factory=list)


def prepare(overrides: Mapping[str, Any]) -> Startup:
    """Settings and history, with every failure turned into a notice."""
    notices: list[Notice] = []
    try:
        settings = load_settings(overrides=overrides)
    except ConfigError as exc:
        log.warning("settings unusable, starting with defaults: %s", exc)
        try:
            settings = Settings().replace(overrides, source="command line")
        except ConfigError:  # the flags themselves are bad: plain defaults
            settings = Settings()
        notices.append(
            (
                "config",
                f"Your settings could not be used, so SeeSay started with default settings. {exc}",
                "error",
            )
        )
    store: HistoryStore | None = None
    try:
        store = HistoryStore.open()
    except StoreError as exc:
        log.error("history unavailable: %s", exc)
        notices.append(("store", f"{exc} Chats in this window work but are not saved.", "error"))
    else:
        if store.notice:
            notices.append(("store", store.notice, "warning"))
    return Startup(settings, store, notices)


def create_application(argv: list[str] | None = None, *, collect_on_gui_thread: bool = True) -> QApplication:
    """The QApplication with SeeSay's names, icon and look (reused if one exists, as in tests)."""
    from seesay.app import theme
    from seesay.app.collector import MainThreadCollector

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        _allow_root_webengine()
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("SeeSay")
    app.setApplicationDisplayName("SeeSay")
    app.setOrganizationName("SeeSay")
    app.setDesktopFileName("seesay")
    theme.apply(app)
    if collect_on_gui_thread and app.findChild(MainThreadCollector) is None:
        MainThreadCollector(parent=app)
    return app


def _allow_root_webengine() -> None:
    """Chromium refuses to start its sandbox as root, which would leave the page preview blank;
    for root (containers, kiosks) run it without one. The preview stays cut off from the network
    and the disk by its request interceptor and page policy (seesay/app/preview.py)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "QTWEBENGINE_DISABLE_SANDBOX" not in os.environ:
        log.warning("running as root: the page preview runs without Chromium's sandbox")
        os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"


def build_window(overrides: Mapping[str, Any] | None = None) -> Any:
    """The main window for these overrides, not yet shown (call ``start()`` to show and load)."""
    from seesay.app.main_window import MainWindow

    startup = prepare(overrides or {})
    return MainWindow(startup.settings, startup.store, startup.notices)


def run_app(overrides: dict[str, Any]) -> int:
    """Open the window at once, load the model behind it, and run until the user quits."""
    app = create_application()
    window = build_window(overrides)
    window.start()
    code = app.exec()
    window.host.shutdown()
    delete_windows(app)
    return int(code)


def delete_windows(app: Any) -> None:
    """Delete every window (and with them their web pages) while Qt is still whole.

    A page that outlives the application is torn down with Chromium half gone, and the
    process can crash on its way out after a clean quit.
    """
    import shiboken6
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for widget in app.topLevelWidgets():
        if shiboken6.isValid(widget) and widget.parent() is None:
            shiboken6.delete(widget)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
