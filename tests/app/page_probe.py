"""Open HTML files the way a browser would, and report what each one became.

Run as a script in its own process (``python page_probe.py EARLY_MS LATE_MS SCRIPT FILE...``)
so none of the preview's process-wide Chromium switches apply: the only protection a page
has is what its file carries. Local files may reach the network and ``window.open``
opens real windows, as in a desktop browser. Prints one JSON line per file: the main
frame's final URL and ``SCRIPT``'s value in the main frame and in each child frame,
``EARLY_MS`` after the load (before a test page tries to leave) and ``LATE_MS`` after it.
The pages are open side by side, so a run takes about ``LATE_MS`` however many there are.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer, QUrl
from PySide6.QtWebEngineCore import QWebEngineFrame, QWebEnginePage, QWebEngineProfile, QWebEngineSettings
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QApplication


class BrowserPage(QWebEnginePage):
    """Popups are opened (and kept) like a browser's tabs, so a popup's request is seen."""

    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.popups: list[QWebEnginePage] = []
        settings = self.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, True)

    def createWindow(self, _type: QWebEnginePage.WebWindowType) -> QWebEnginePage:
        popup = BrowserPage(self.profile())
        self.popups.append(popup)
        return popup


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def evaluate(frame: QWebEngineFrame, script: str) -> Any:
    """``script``'s value in ``frame``, waited for no longer than it takes (5 s at most)."""
    box: list[Any] = []
    loop = QEventLoop()

    def answered(value: Any) -> None:
        box.append(value)
        loop.quit()

    frame.runJavaScript(script, 0, answered)
    QTimer.singleShot(5000, loop.quit)
    if not box:
        loop.exec()
    return box[0] if box else "<no answer>"


def report(page: QWebEnginePage, script: str) -> dict[str, Any]:
    main_frame = page.mainFrame()
    return {
        "main": evaluate(main_frame, script),
        "frames": [evaluate(child, script) for child in main_frame.children()],
    }


def main() -> int:
    """All pages are open at once, as tabs are: each is probed at its own ``EARLY_MS`` and
    ``LATE_MS`` after its load (a page that never finishes loading is probed from 10 s)."""
    early_ms, late_ms, script, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    app = QApplication(sys.argv[:1])
    profile = QWebEngineProfile(app)  # off the record
    views, records = [], []
    for name in files:
        view = QWebEngineView()
        page = BrowserPage(profile)
        view.setPage(page)
        view.resize(800, 600)
        view.show()
        record: dict[str, Any] = {"file": name}
        records.append(record)
        views.append(view)
        loaded = QTimer(view, singleShot=True, interval=10_000)

        def probe(_ok: bool = True, page: BrowserPage = page, record: dict[str, Any] = record) -> None:
            if "loaded" in record:
                return
            record["loaded"] = True
            QTimer.singleShot(early_ms, lambda: record.setdefault("early", report(page, script)))
            QTimer.singleShot(
                late_ms, lambda: record.update(url=page.url().toString(), late=report(page, script))
            )

        page.loadFinished.connect(probe)
        loaded.timeout.connect(probe)
        loaded.start()
        page.load(QUrl.fromLocalFile(str(Path(name).resolve())))
    for _ in range(600):  # at most a minute
        if all("late" in r for r in records):
            break
        wait(100)
    for record in records:
        del record["loaded"]
        print(json.dumps(record), flush=True)
    for view in views:
        page = view.page()
        view.setPage(None)  # type: ignore[arg-type]
        for popup in page.popups:
            popup.deleteLater()
        page.deleteLater()
        view.deleteLater()
    wait(100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
