"""Typed settings: defaults < TOML file in the user config dir < ``SEESAY_*`` env < CLI flags.

Every key is addressed as ``section.key`` everywhere (file, env, CLI, errors), so a
message such as ``generation.temperature: expected a number ...`` tells the user
exactly what to fix wherever the value came from.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seesay.errors import ConfigError
from seesay.paths import config_dir, write_private

DEFAULT_SYSTEM_PROMPT = (
    "You are SeeSay, a private assistant running on the user's own computer. "
    "Answer clearly and concisely. Use Markdown for lists, tables and code."
)


def _opt(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] = (),
    lo: float | None = None,
    hi: float | None = None,
) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices, "lo": lo, "hi": hi})


@dataclass(frozen=True)
class ModelSettings:
    name: str = _opt(
        "",
        "Model to load: empty for the bundled SmolLM2-135M-Instruct, a local "
        "directory, a .gguf file, or a Hugging Face id already in the cache.",
    )
    backend: str = _opt(
        "auto",
        "What runs the model: auto runs GGUF files with llama.cpp and safetensors "
        "models with transformers; transformers also runs a GGUF, dequantised "
        "once (needs 4 bytes a parameter).",
        choices=("auto", "llama.cpp", "transformers"),
    )
    device: str = _opt(
        "auto",
        "Where to run: auto picks CUDA when present, else CPU.",
        choices=("auto", "cpu", "cuda", "cuda:N"),
    )
    dtype: str = _opt(
        "auto",
        "Weights precision: auto is bfloat16 on CUDA, float32 on CPU.",
        choices=("auto", "float32", "bfloat16", "float16"),
    )
    threads: int = _opt(0, "CPU threads for generation; 0 picks what is fastest for the model.", lo=0, hi=256)
    parallel: int = _opt(
        4,
        "Replies llama.cpp generates at once (chat, voice, sketch revisions and API "
        "clients share them); more wait their turn.",
        lo=1,
        hi=64,
    )
    context_tokens: int = _opt(
        4096,
        "Longest prompt plus reply in tokens (capped by the model's own "
        "window); older turns are left out beyond it.",
        lo=256,
        hi=1_048_576,
    )


@dataclass(frozen=True)
class GenerationSettings:
    max_new_tokens: int = _opt(512, "Longest reply in tokens.", lo=1, hi=32768)
    temperature: float = _opt(0.2, "Randomness; 0 always picks the most likely token.", lo=0.0, hi=2.0)
    top_p: float = _opt(0.9, "Nucleus sampling mass.", lo=0.01, hi=1.0)
    top_k: int = _opt(50, "Sample among this many most likely tokens; 0 for all.", lo=0, hi=100000)
    repetition_penalty: float = _opt(1.1, "Above 1 discourages repeating earlier tokens.", lo=1.0, hi=2.0)
    seed: int = _opt(-1, "Random seed for sampling; -1 for a fresh one each reply.", lo=-1, hi=2**31 - 1)


@dataclass(frozen=True)
class ChatSettings:
    system_prompt: str = _opt(DEFAULT_SYSTEM_PROMPT, "Custom instructions sent before every conversation.")


@dataclass(frozen=True)
class RemoteSettings:
    base_url: str = _opt("", "OpenAI-compatible server, e.g. http://localhost:8000/v1; empty runs locally.")
    api_key: str = _opt("", "Bearer key for the server, if it needs one.")
    model: str = _opt("", "Model name to ask the server for; empty takes the server's first model.")
    timeout: float = _opt(60.0, "Seconds to wait for the server before giving up.", lo=1.0, hi=3600.0)


@dataclass(frozen=True)
class VisionSettings:
    refine_with_llm: bool = _opt(
        False,
        "Let the chat model polish generated pages (copy text, colours); "
        "a reply that breaks the page is ignored.",
    )
    max_image_pixels: int = _opt(
        120_000_000,
        "Largest image accepted, in pixels; bigger files are refused as possible decompression bombs.",
        lo=1_000_000,
        hi=170_000_000,
    )
    max_side: int = _opt(
        1600, "Images are analysed at most this many pixels on their longer side.", lo=400, hi=8000
    )
    vlm_model: str = _opt(
        "",
        "Vision-language model that draws pages from sketches: empty for none (the "
        "offline pipeline), else a local folder or a Hugging Face id already in the "
        "cache (Qwen2.5-VL, SmolVLM/Idefics3 or LLaVA families).",
    )
    vlm_device: str = _opt(
        "auto",
        "Where the vision-language model runs: auto picks CUDA (bfloat16) when present, else CPU (float32).",
        choices=("auto", "cpu", "cuda", "cuda:N"),
    )
    vlm_max_new_tokens: int = _opt(
        2048, "Longest page the vision-language model may write, in tokens.", lo=64, hi=32768
    )


@dataclass(frozen=True)
class VoiceSettings:
    mode: str = _opt(
        "hands-free",
        "Hands-free listens for speech on its own; push-to-talk listens only while the key (Space) is held.",
        choices=("hands-free", "push-to-talk"),
    )
    headset: bool = _opt(
        False,
        "Headset mode: keep listening while SeeSay speaks, so talking over it "
        "interrupts (barge-in). Off for loudspeakers, whose echo would interrupt it.",
    )
    input_device: str = _opt(
        "",
        "Microphone: empty for the system default, else a device name (or part "
        "of one) or its number from `seesay voice --list-devices`.",
    )
    output_device: str = _opt("", "Speaker: empty for the system default, else a device name or number.")
    stt_backend: str = _opt(
        "faster-whisper",
        "Speech recogniser: faster-whisper (CTranslate2) or "
        "openai-whisper (needs the openai-whisper package and a .pt "
        "checkpoint).",
        choices=("faster-whisper", "openai-whisper"),
    )
    stt_model: str = _opt(
        "",
        "Whisper model: empty for the bundled tiny.en, a CTranslate2 model directory, "
        "a model id such as base.en, or a .pt file for openai-whisper.",
    )
    stt_device: str = _opt(
        "auto",
        "Where Whisper runs: auto picks CUDA (float16) when present, else CPU (int8).",
        choices=("auto", "cpu", "cuda", "cuda:N"),
    )
    language: str = _opt(
        "en",
        "Language spoken, as a code such as en or fr; empty to detect it "
        "(English-only models such as tiny.en always use en).",
    )
    word_timestamps: bool = _opt(False, "Also time every word when transcribing (slower).")
    tts_voice: str = _opt(
        "",
        "Piper voice: empty for the bundled Joe (US English), or a .onnx voice file "
        "with its .onnx.json beside it.",
    )
    tts_speed: float = _opt(
        1.0, "Speaking speed; 1 is the voice's natural pace, 1.5 is half as fast again.", lo=0.5, hi=2.0
    )
    end_silence_ms: int = _opt(
        500,
        "Silence that ends an utterance, in milliseconds; longer waits out pauses, shorter answers sooner.",
        lo=100,
        hi=5000,
    )
    min_speech_ms: int = _opt(
        250,
        "Shortest speech that counts as talking, in milliseconds, so coughs and clicks do not start a turn.",
        lo=50,
        hi=3000,
    )
    vad_threshold: float = _opt(
        0.5, "How sure the voice detector must be that a frame is speech.", lo=0.05, hi=0.95
    )


@dataclass(frozen=True)
class ServerSettings:
    host: str = _opt(
        "127.0.0.1",
        "Address `seesay serve` listens on; anything but loopback exposes the "
        "API to the network and always needs the API key.",
    )
    port: int = _opt(8765, "TCP port for `seesay serve`; 0 picks a free one.", lo=0, hi=65535)
    api_key_file: str = _opt(
        "",
        "File holding the API key: empty for server-api-key in the config dir "
        "(made on first run, 0600). SEESAY_API_KEY overrides it.",
    )
    require_key_on_loopback: bool = _opt(
        True,
        "Ask for the API key even from this computer; off lets local "
        "tools connect without one (never on other addresses).",
    )
    max_body_mb: int = _opt(
        25, "Largest request body in megabytes (audio uploads, images in chat).", lo=1, hi=1024
    )
    queue_size: int = _opt(
        32, "Requests that may wait for each model before new ones get 429 Too Many Requests.", lo=1, hi=4096
    )
    cors_origins: str = _opt(
        "",
        "Comma-separated browser origins allowed to call the API (CORS); empty for none. "
        "'*' (any web site) is refused without the API key.",
    )
    max_connections: int = _opt(
        100,
        "Open connections `seesay serve` accepts at once; more are answered 503 and closed.",
        lo=4,
        hi=10000,
    )
    read_timeout_s: float = _opt(
        15.0,
        "Seconds a client may take to send a request's headers, or pause while sending its "
        "body, before the connection is closed.",
        lo=0.5,
        hi=3600.0,
    )


@dataclass(frozen=True)
class ToolsSettings:
    enabled: bool = _opt(
        True, "Let the assistant use tools: the calculator, code, your granted folders, MCP servers."
    )
    folders: str = _opt(
        "",
        "Folders the assistant may read and search (writing asks first), separated by the path "
        "separator (: on Linux); empty for none.",
    )
    code: bool = _opt(True, "Let the assistant run Python in a sandbox with no network (asks first).")
    code_cpu_seconds: int = _opt(
        10, "CPU seconds a piece of code may use before it is stopped.", lo=1, hi=600
    )
    code_memory_mb: int = _opt(512, "Memory a piece of code may use, in megabytes.", lo=32, hi=65536)
    mcp_servers: str = _opt(
        "",
        'JSON file listing MCP servers ({"mcpServers": {...}}); empty for mcp.json in the config dir.',
    )
    max_rounds: int = _opt(
        5, "Tool calls the assistant may make in a row before it must answer.", lo=1, hi=50
    )


@dataclass(frozen=True)
class DocsSettings:
    search_library: bool = _opt(
        False,
        "Answer from the folders in your document library, citing the passages used "
        "(the chat's “Search my documents” switch; seesay chat --docs in the terminal).",
    )


@dataclass(frozen=True)
class AppearanceSettings:
    theme: str = _opt(
        "system",
        "Colours of the window: system follows the desktop's light or dark mode.",
        choices=("system", "light", "dark"),
    )


@dataclass(frozen=True)
class Settings:
    appearance: AppearanceSettings = field(default_factory=AppearanceSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    remote: RemoteSettings = field(default_factory=RemoteSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    vision: VisionSettings = field(default_factory=VisionSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    tools: ToolsSettings = field(default_factory=ToolsSettings)
    docs: DocsSettings = field(default_factory=DocsSettings)

    def get(self, key: str) -> Any:
        section, name = _split(key)
        return getattr(getattr(self, section), name)

    def replace(self, overrides: Mapping[str, Any], source: str = "override") -> Settings:
        """Return a copy with ``section.key`` values coerced and validated."""
        sections = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key, raw in overrides.items():
            section, name = _split(key)
            spec = _field(section, name)
            value = _coerce(key, spec, raw, source)
            sections[section] = dataclasses.replace(sections[section], **{name: value})
        return Settings(**sections)

    def to_toml(self) -> str:
        lines: list[str] = []
        for section, cls in _SECTIONS.items():
            lines.append(f"[{section}]")
            for f in dataclasses.fields(cls):
                lines.append(f"{f.name} = {_toml_value(getattr(getattr(self, section), f.name))}")
            lines.append("")
        return "\n".join(lines)


_SECTIONS: dict[str, type] = {
    "appearance": AppearanceSettings,
    "model": ModelSettings,
    "generation": GenerationSettings,
    "chat": ChatSettings,
    "remote": RemoteSettings,
    "vision": VisionSettings,
    "voice": VoiceSettings,
    "server": ServerSettings,
    "tools": ToolsSettings,
    "docs": DocsSettings,
}


def keys() -> list[str]:
    """Every ``section.key``, in declaration order (for help, env docs and the dialog)."""
    return [f"{s}.{f.name}" for s, cls in _SECTIONS.items() for f in dataclasses.fields(cls)]


def describe(key: str) -> dict[str, Any]:
    section, name = _split(key)
    spec = _field(section, name)
    return {
        "help": spec.metadata["help"],
        "choices": spec.metadata["choices"],
        "type": spec.type,
        "default": spec.default,
    }


def env_name(key: str) -> str:
    return "SEESAY_" + key.replace(".", "_").upper()


def config_path() -> Path:
    return config_dir() / "config.toml"


def load_settings(
    path: Path | None = None, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Defaults, then the file, then the environment, then explicit overrides."""
    path = path or config_path()
    env = os.environ if env is None else env
    settings = Settings()
    if path.exists():
        settings = settings.replace(_read_file(path), source=str(path))
    from_env = {k: env[env_name(k)] for k in keys() if env_name(k) in env}
    settings = settings.replace(from_env, source="environment")
    return settings.replace(overrides or {}, source="command line")


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    path = path or config_path()
    write_private(path, settings.to_toml())
    return path


def persist(changes: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write ``changes`` into the settings file: the file's own values plus these, never values
    that came from the environment or the command line; a broken file is replaced by good values."""
    try:
        base = load_settings(path, env={})
    except ConfigError:
        base = Settings()
    return save_settings(base.replace(changes, source="settings"), path)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"Cannot read settings file {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"Settings file {path} is not valid TOML: {e}") from e
    flat: dict[str, Any] = {}
    for section, table in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"{section}: unknown section in {path}; known sections: {', '.join(_SECTIONS)}")
        if not isinstance(table, dict):
            raise ConfigError(f"{section}: expected a [{section}] table in {path}")
        for name, value in table.items():
            flat[f"{section}.{name}"] = value
    return flat


def _split(key: str) -> tuple[str, str]:
    section, _, name = key.partition(".")
    if section not in _SECTIONS:
        raise ConfigError(f"{key}: unknown setting; known sections: {', '.join(_SECTIONS)}")
    return section, name


def _field(section: str, name: str) -> dataclasses.Field[Any]:
    for f in dataclasses.fields(_SECTIONS[section]):
        if f.name == name:
            return f
    known = ", ".join(f.name for f in dataclasses.fields(_SECTIONS[section]))
    raise ConfigError(f"{section}.{name}: unknown setting; {section} accepts: {known}")


def _coerce(key: str, spec: dataclasses.Field[Any], raw: Any, source: str) -> Any:
    kind = (
        spec.type
        if isinstance(spec.type, type)
        else {"int": int, "float": float, "str": str, "bool": bool}[str(spec.type)]
    )
    meta = spec.metadata
    where = f" (from {source})" if source else ""
    try:
        if kind is bool:
            value: Any = _boolean(raw)
        elif kind is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            value = int(raw)
        elif kind is float:
            if isinstance(raw, bool):
                raise ValueError
            value = float(raw)
        else:
            if not isinstance(raw, str):
                raise ValueError
            value = raw
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected {_describe_type(kind, meta)}, got {raw!r}{where}") from None
    if meta["lo"] is not None and not (meta["lo"] <= value <= meta["hi"]):
        raise ConfigError(f"{key}: expected {_describe_type(kind, meta)}, got {raw!r}{where}")
    if meta["choices"] and not _choice_ok(value, meta["choices"]):
        raise ConfigError(f"{key}: expected one of {', '.join(meta['choices'])}, got {raw!r}{where}")
    return value


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _boolean(raw: Any) -> bool:
    """Only the usual spellings: a typo must not quietly turn a safety switch off."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError


def _choice_ok(value: str, choices: tuple[str, ...]) -> bool:
    for choice in choices:
        if choice.endswith(":N"):
            prefix = choice[:-1]
            if value.startswith(prefix) and value[len(prefix) :].isdigit():
                return True
        elif value == choice:
            return True
    return False


def _describe_type(kind: type, meta: Mapping[str, Any]) -> str:
    name = {
        int: "a whole number",
        float: "a number",
        str: "text",
        bool: "true or false (also yes/no, on/off, 1/0)",
    }[kind]
    if meta["lo"] is not None:
        return f"{name} from {meta['lo']} to {meta['hi']}"
    return name


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'
