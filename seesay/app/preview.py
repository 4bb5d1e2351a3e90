"""A live HTML preview that cannot reach anything: generated pages are untrusted code.

Layers, each enough on its own for most attacks and together for all we test:

1. A private, off-the-record ``QWebEngineProfile`` (no disk cache, cookies or storage
   shared with anything), whose ``QWebEngineUrlRequestInterceptor`` blocks every
   request whose scheme is not ``data:``, ``blob:`` or ``about:`` - network and
   ``file:`` alike, for the page, its frames, images, fetch() and workers.
2. What the interceptor never sees: Chromium's switches
   (:data:`seesay.vision.safety.CHROMIUM_ISOLATION_FLAGS`) stop WebRTC's UDP transports
   and send every connection Chromium opens by itself (TURN over TCP, ``<link
   rel=preconnect>``) to a proxy that cannot exist, and a script that runs in the page's
   own world before any of the page's scripts removes ``RTCPeerConnection`` from it and
   from every frame it makes. The switches hold for the whole process, so QtWebEngine in
   SeeSay has no network at all; they take effect only if the first QtWebEngine profile
   of the process is made here.
3. Page settings: local content may not reach remote or file URLs, no plugins, no
   windows opened from script, WebRTC restricted to public interfaces (no LAN probing).
4. Navigation away is refused (``acceptNavigationRequest``): only the loads this widget
   starts are let through, so ``location = …``, meta refresh, link clicks and form posts go
   nowhere, and new windows are never created. Pages run from an opaque origin
   (``setHtml`` with an ``about:blank`` base: ``window.origin`` is ``"null"``).
5. A Content-Security-Policy ``<meta>`` forbidding all network access is injected into
   the page before display, first in its real ``<head>`` (see :mod:`seesay.vision.safety`).

JavaScript stays on: generated pages may have menus and tabs that need it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from seesay.vision.safety import CHROMIUM_ISOLATION_FLAGS, WEBRTC_GUARD, with_csp

log = logging.getLogger(__name__)

ALLOWED_SCHEMES = frozenset({"data", "blob", "about"})
MAX_HTML_BYTES = 1_900_000  # setHtml goes through a data: URL, limited to 2 MB
FLAGS_VARIABLE = "QTWEBENGINE_CHROMIUM_FLAGS"


@contextmanager
def chromium_switches() -> Iterator[None]:
    """Chromium reads its switches once, when QtWebEngine starts (at its first profile), and they
    hold for the whole process; this module is the only one that uses QtWebEngine. They are put
    in the environment only while a profile is made, after any it already has (the last of a
    switch wins), so programs started from the app (a browser, for one) never inherit them."""
    before = os.environ.get(FLAGS_VARIABLE)
    current = (before or "").split()
    os.environ[FLAGS_VARIABLE] = " ".join(
        [*current, *(f for f in CHROMIUM_ISOLATION_FLAGS if f not in current)]
    )
    try:
        yield
    finally:
        if before is None:
            del os.environ[FLAGS_VARIABLE]
        else:
            os.environ[FLAGS_VARIABLE] = before


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

    def __init__(self, profile: QWebEngineProfile, parent: QObject | None = None) -> None:
        super().__init__(profile, parent)
        self._loads_started = 0

    def show_html(self, html: str) -> None:
        """Load ``html`` from an opaque origin; the one navigation this page will accept next."""
        self._loads_started += 1
        self.setHtml(html, QUrl("about:blank"))

    def acceptNavigationRequest(
        self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType, is_main_frame: bool
    ) -> bool:
        qurl = QUrl(url) if isinstance(url, str) else url
        scheme = qurl.scheme().lower()
        if is_main_frame:
            # setHtml arrives as a typed data: navigation; whatever a page starts (location=,
            # meta refresh, links, forms, reload) is renderer-initiated and never "typed".
            ours = nav_type == QWebEnginePage.NavigationType.NavigationTypeTyped and scheme == "data"
            if ours and self._loads_started > 0:
                self._loads_started -= 1
                return True
        elif scheme in ("about", "data"):  # srcdoc and data: frames stay inside the page
            return True
        log.debug("preview refused navigation to %s", qurl.toString()[:200])
        self.navigationBlocked.emit(qurl.toString()[:200])
        return False

    def createWindow(self, _type: QWebEnginePage.WebWindowType) -> QWebEnginePage | None:
        return None

    def javaScriptConsoleMessage(
        self, level: QWebEnginePage.JavaScriptConsoleMessageLevel, message: str, line: int, source: str
    ) -> None:
        log.debug("preview console: %s", message[:200])


def webrtc_guard_script() -> QWebEngineScript:
    """The WebRTC guard, run in the page's own world before any of its scripts, in every frame."""
    script = QWebEngineScript()
    script.setName("seesay-webrtc-guard")
    script.setSourceCode(WEBRTC_GUARD)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
    script.setRunsOnSubFrames(True)
    return script


def make_profile(
    parent: QObject | None = None, *, guard_webrtc: bool = True
) -> tuple[QWebEngineProfile, BlockingInterceptor]:
    """A fresh off-the-record profile with the blocking interceptor and the WebRTC guard installed."""
    with chromium_switches():
        profile = QWebEngineProfile(parent)  # no storage name: off the record, nothing touches disk
    assert profile.isOffTheRecord()
    interceptor = BlockingInterceptor(profile)
    profile.setUrlRequestInterceptor(interceptor)
    if guard_webrtc:
        profile.scripts().insert(webrtc_guard_script())
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

    def __init__(
        self, parent: QWidget | None = None, *, inject_csp: bool = True, guard_webrtc: bool = True
    ) -> None:
        """``inject_csp`` and ``guard_webrtc`` exist so tests can show each layer holds alone."""
        super().__init__(parent)
        # The profile must outlive its page. As the page's child it does, whenever and however
        # the page goes (closed, deleted with the window, or never until exit): a parent's
        # destructor finishes before its children are deleted. As the view's child it would be
        # deleted first, as the application's child it would outlive the application's teardown
        # of pages still shown, and Chromium can crash on a profile released with a page in use.
        self.profile, self.interceptor = make_profile(guard_webrtc=guard_webrtc)
        self.sandbox_page = SandboxPage(self.profile, self)
        self.profile.setParent(self.sandbox_page)
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
        # about:blank base: an opaque origin, and relative URLs resolve to nothing reachable.
        self.sandbox_page.show_html(shown)

    def closeEvent(self, event: object) -> None:
        # A closed preview frees its renderer now (its profile goes with the page), not when the
        # window that holds it is deleted.
        if not self._released:
            self._released = True
            self.setPage(None)  # type: ignore[arg-type]
            self.sandbox_page.deleteLater()
        super().closeEvent(event)  # type: ignore[arg-type]
