"""A live HTML preview that cannot reach anything: generated pages are untrusted code.

Layers, each enough on its own for most attacks and together for all we test:

1. A private, off-the-record ``QWebEngineProfile`` (no disk cache, cookies or storage
   shared with anything), whose ``QWebEngineUrlRequestInterceptor`` blocks every
   request whose scheme is not ``data:``, ``blob:`` or ``about:`` - network and
   ``file:`` alike, for the page, its frames, images, fetch() and workers.
2. Page settings: local content may not reach remote or file URLs, no plugins, no
   windows opened from script, WebRTC restricted to public interfaces (no LAN probing).
3. Navigation away is refused (``acceptNavigationRequest``), and new windows are never
   created, so a page cannot replace itself with something else.
4. A Content-Security-Policy ``<meta>`` forbidding all network access is injected into
   the page before display (see :mod:`seesay.vision.safety`).

JavaScript stays on: generated pages may have menus and tabs that need it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QObject, QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from seesay.vision.safety import with_csp

log = logging.getLogger(__name__)

ALLOWED_SCHEMES = frozenset({"data", "blob", "about"})
MAX_HTML_BYTES = 1_900_000  # setHtml goes through a data: URL, limited to 2 MB


class BlockingInterceptor(QWebEngineUrlRequestInterceptor):
    """Blocks every request but data:/blob:/about:, and counts what it blocked (for tests and UI)."""

    def __init__(self, parent: QWebEngineProfile | None = None) -> None:
        super().__init__(parent)
        self.blocked: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        if url.scheme().lower() not in ALLOWED_SCHEMES:
            info.block(True)
            self.blocked.append(url.toString()[:200])
            log.debug("preview blocked %s", url.toString()[:200])


class SandboxPage(QWebEnginePage):
    """Shows exactly the HTML it was given and refuses to go anywhere else."""

    navigationBlocked = Signal(str)

    def acceptNavigationRequest(
        self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        qurl = QUrl(url) if isinstance(url, str) else url
        if qurl.scheme().lower() in ("data", "about"):
            return True
        self.navigationBlocked.emit(qurl.toString()[:200])
        return False

    def createWindow(self, _type: QWebEnginePage.WebWindowType) -> QWebEnginePage | None:
        return None

    def javaScriptConsoleMessage(
        self, level: QWebEnginePage.JavaScriptConsoleMessageLevel, message: str, line: int, source: str
    ) -> None:
        log.debug("preview console: %s", message[:200])


def make_profile(parent: QObject | None = None) -> tuple[QWebEngineProfile, BlockingInterceptor]:
    """A fresh off-the-record profile with the blocking interceptor installed."""
    profile = QWebEngineProfile(parent)  # no storage name: off the record, nothing touches disk
    assert profile.isOffTheRecord()
    interceptor = BlockingInterceptor(profile)
    profile.setUrlRequestInterceptor(interceptor)
    profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
    profile.setPersistentCookiesPolicy(QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies)
    return profile, interceptor


def harden(settings: QWebEngineSettings) -> None:
    attr = QWebEngineSettings.WebAttribute
    for name, value in (
        ("LocalContentCanAccessRemoteUrls", False),
        ("LocalContentCanAccessFileUrls", False),
        ("JavascriptEnabled", True),
        ("JavascriptCanOpenWindows", False),
        ("JavascriptCanAccessClipboard", False),
        ("PluginsEnabled", False),
        ("DnsPrefetchEnabled", False),
        ("WebRTCPublicInterfacesOnly", True),
        ("HyperlinkAuditingEnabled", False),
        ("LocalStorageEnabled", False),
        ("AllowRunningInsecureContent", False),
        ("NavigateOnDropEnabled", False),
        ("ScreenCaptureEnabled", False),
        ("AutoLoadIconsForPage", False),
    ):
        settings.setAttribute(getattr(attr, name), value)


class SandboxedPreview(QWebEngineView):
    """The preview widget: ``set_html(page)`` shows a page inside the sandbox."""

    def __init__(self, parent: QWidget | None = None, *, inject_csp: bool = True) -> None:
        super().__init__(parent)
        # The profile must outlive its page; parented to the application it is released
        # after the page (see closeEvent) rather than before it, as a child of this view would be.
        self.profile, self.interceptor = make_profile(QCoreApplication.instance())  # type: ignore[arg-type]
        self.sandbox_page = SandboxPage(self.profile, self)
        harden(self.sandbox_page.settings())
        self.setPage(self.sandbox_page)
        self.setAcceptDrops(False)  # a dropped file must reach the studio, not navigate the preview
        self.inject_csp = inject_csp
        self.current_html = ""
        self._released = False

    def set_html(self, page: str) -> None:
        self.current_html = page
        shown = with_csp(page) if self.inject_csp else page
        if len(shown.encode("utf-8")) > MAX_HTML_BYTES:
            shown = (
                "<!DOCTYPE html><html><body><p>This page is larger than 2 MB and is not shown in "
                "the preview. Save it and open it in your browser.</p></body></html>"
            )
        # about:blank base: relative URLs resolve to nothing reachable.
        self.sandbox_page.setHtml(shown, QUrl("about:blank"))

    def closeEvent(self, event: object) -> None:
        # The page must go before its profile, or Qt warns about a profile released in use.
        if not self._released:
            self._released = True
            self.setPage(None)  # type: ignore[arg-type]
            self.sandbox_page.deleteLater()
            self.profile.deleteLater()  # posted after the page's deletion, so processed after it
        super().closeEvent(event)  # type: ignore[arg-type]
