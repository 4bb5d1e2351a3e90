"""Everything that produces text: one ChatEngine interface, local and remote engines."""

from __future__ import annotations

from seesay.config import Settings
from seesay.inference.engine import ChatEngine, GenerationParams, Message, Stream, StreamStats, TrimReport

__all__ = [
    "ChatEngine",
    "GenerationParams",
    "Message",
    "Stream",
    "StreamStats",
    "TrimReport",
    "create_engine",
]


def create_engine(settings: Settings) -> ChatEngine:
    """The engine for the settings (not loaded yet).

    A server URL means the remote engine; otherwise GGUF files run on llama.cpp and
    safetensors models on transformers, unless ``model.backend`` says otherwise.
    """
    if settings.remote.base_url:
        from seesay.inference.remote import RemoteEngine

        return RemoteEngine(settings.remote, parallel=settings.model.parallel)
    from seesay.errors import ConfigError, ModelNotFoundError
    from seesay.inference.resolve import resolve

    model = resolve(settings.model.name)
    if model.source == "hub":
        raise ModelNotFoundError(
            f"Model '{model.name}' is not on this machine; download it with "
            f"`seesay models pull {model.name}` (or pick another in Settings)."
        )
    backend = settings.model.backend
    if backend == "auto":
        backend = "llama.cpp" if model.is_gguf else "transformers"
    if backend == "llama.cpp":
        if not model.is_gguf:
            raise ConfigError(
                f"model.backend: llama.cpp runs GGUF files, and {model.describe()} is not one; "
                "use 'auto' or 'transformers' for it"
            )
        from seesay.inference.llamacpp import LlamaCppEngine

        return LlamaCppEngine(settings, model)
    from seesay.inference.torch_engine import TorchEngine

    return TorchEngine(settings, model)
