"""One exception hierarchy whose messages are written for the person using the app.

The GUI shows ``str(error)`` in place and the CLI prints it as one line, so every
message must make sense on its own and, where possible, say what to do next.
"""

from __future__ import annotations


class SeeSayError(Exception):
    """Base of every error SeeSay reports to a user."""


class ConfigError(SeeSayError):
    """A settings file or value is unusable; the message names the key."""


class ModelError(SeeSayError):
    """A model cannot be found, downloaded or loaded."""


class ModelNotFoundError(ModelError):
    """The configured model is not on this machine and cannot be fetched."""


class EngineError(SeeSayError):
    """Generation failed (local or remote)."""


class RemoteEngineError(EngineError):
    """The remote OpenAI-compatible server failed or misbehaved."""


class StoreError(SeeSayError):
    """The history database cannot be opened or written."""


class InputError(SeeSayError):
    """Input from the user (a file, a prompt) cannot be used."""


class VisionError(SeeSayError):
    """An image could not be analysed or a page could not be generated from it."""


class AudioError(SeeSayError):
    """Sound cannot be captured, played, decoded or understood (no PortAudio, no device, bad file)."""
