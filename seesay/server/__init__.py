"""``seesay serve``: an OpenAI-compatible HTTP API over the same core the GUI uses.

A thin shell: routes translate OpenAI request shapes into ``ChatEngine.stream``,
``Transcriber.transcribe`` and ``Synthesizer.stream`` calls and back, so the server
can never drift from what the window does. FastAPI is imported only by this package.
"""

from __future__ import annotations

from seesay.server.app import create_app

__all__ = ["create_app"]
