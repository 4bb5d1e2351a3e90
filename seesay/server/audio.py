"""``/v1/audio/transcriptions`` and ``/v1/audio/speech`` over the same Whisper and Piper as the voice loop.

Uploads are spooled to a temporary file and decoded by :mod:`seesay.audio.audiofile`
(any format FFmpeg reads, any rate), windowed by :func:`~seesay.audio.stt.transcribe_file`
so long files stay in bounded memory; errors name the upload as the client called it,
never the server's temporary path. Speech streams one sentence (or bounded piece of a
run-on) at a time as 16-bit PCM, inside a WAV header whose sizes say "unknown length"
(as OpenAI's streamed WAV does), so playback can start before the whole text is spoken.
"""

from __future__ import annotations

import re
import shutil
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import Field

from seesay.server.chat_schema import TextOnlyBody
from seesay.server.errors import APIError
from seesay.server.limits import CancellingStreamingResponse

router = APIRouter(tags=["audio"])

PCM_RATE = 24000  # OpenAI's raw pcm format: 24 kHz, 16-bit signed little-endian, mono


@router.post("/v1/audio/transcriptions", response_model=None)
async def transcriptions(
    request: Request,
    file: Annotated[UploadFile, File(description="wav, flac, mp3, ogg, m4a, webm …; any sample rate")],
    model: Annotated[
        str, Form(max_length=200, description="Any name; the configured Whisper runs.")
    ] = "whisper-1",
    response_format: Annotated[Literal["json", "text", "verbose_json"], Form()] = "json",
    language: Annotated[
        str | None, Form(pattern=r"^[A-Za-z]{2,3}$", description="ISO-639-1 code, e.g. en")
    ] = None,
    prompt: Annotated[str | None, Form(max_length=10000, description="Accepted, not used.")] = None,
    temperature: Annotated[float | None, Form(ge=0.0, le=1.0, description="Accepted, not used.")] = None,
) -> Any:
    """Speech to text; ``verbose_json`` adds language, duration and timed segments."""
    from seesay.audio.stt import transcribe_file

    services = request.app.state.services
    lane = services.transcription_lane
    ticket = lane.reserve()
    suffix = _safe_suffix(file.filename)
    name = _display_name(file.filename)

    def job() -> Any:
        transcriber = services.transcriber(language.lower() if language else None)
        with tempfile.NamedTemporaryFile(suffix=suffix, prefix="seesay-upload-") as tmp:
            file.file.seek(0)
            shutil.copyfileobj(file.file, tmp)
            tmp.flush()
            return transcribe_file(transcriber, tmp.name, name=name)

    result = await lane.run(ticket, job)
    if response_format == "text":
        return PlainTextResponse(result.text + "\n")
    if response_format == "json":
        return JSONResponse({"text": result.text})
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": result.language,
        "duration": round(result.duration, 3),
        "text": result.text,
        "segments": [
            {
                "id": i,
                "seek": 0,
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text,
                "tokens": [],
                "temperature": 0.0,
                "avg_logprob": 0.0,
                "compression_ratio": 0.0,
                "no_speech_prob": 0.0,
            }
            for i, s in enumerate(result.segments)
        ],
    }
    if result.words:
        body["words"] = [
            {"word": w.text.strip(), "start": round(w.start, 3), "end": round(w.end, 3)} for w in result.words
        ]
    return JSONResponse(body)


def _safe_suffix(filename: str | None) -> str:
    """Keep the extension (FFmpeg uses it as a hint), never the caller's path."""
    suffix = Path(filename or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".audio"


def _display_name(filename: str | None) -> str:
    """How error messages refer to an upload: the client's own file name (without its
    folders, control characters or excess length), else "the uploaded file"."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(c for c in base if c.isprintable()).strip()[:100]
    return f"'{base}'" if base else "the uploaded file"


class SpeechRequest(TextOnlyBody):
    model: str = Field("tts-1", max_length=200, description="Any name; the configured Piper voice speaks.")
    input: str = Field(min_length=1, max_length=4096, description="The text to speak.")
    voice: str | dict[str, Any] = Field("default", description="Any name; one voice is configured.")
    response_format: Literal["wav", "pcm"] = Field("wav", description="wav (streamed) or raw 24 kHz pcm.")
    speed: float | None = Field(None, ge=0.25, le=4.0, description="1 is natural; default from settings.")
    instructions: str | None = Field(None, max_length=4096, description="Accepted, not used.")


@router.post(
    "/v1/audio/speech", response_model=None, responses={200: {"content": {"audio/wav": {}, "audio/pcm": {}}}}
)
async def speech(body: SpeechRequest, request: Request) -> CancellingStreamingResponse:
    """Text to speech, streamed sentence by sentence."""
    from seesay.audio.tts import spoken_text

    if not spoken_text(body.input).strip():
        raise APIError(400, "There is no text to speak in 'input'.", param="input", code="empty_input")
    services = request.app.state.services
    lane = services.speech_lane
    ticket = lane.reserve()
    stop = threading.Event()
    pcm = body.response_format == "pcm"

    def produce() -> Iterator[bytes]:
        synth = services.synthesizer
        if body.speed is not None and hasattr(synth, "speed"):
            synth.speed = body.speed  # safe: only this lane's single worker touches the synthesizer
        rate = synth.sample_rate
        if not pcm:
            yield _streaming_wav_header(rate)
        chunks: Iterator[np.ndarray] = synth.stream(body.input)
        if pcm and rate != PCM_RATE:
            from seesay.audio.resample import resample_stream

            chunks = resample_stream(chunks, rate, PCM_RATE)  # one filter across pieces: no seams
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                yield _to_int16(chunk)
        finally:
            close = getattr(chunks, "close", None)  # end synthesis (and free the voice) at once
            if close is not None:
                close()

    chunks = lane.stream(ticket, produce, stop.set)
    media = "audio/pcm" if pcm else "audio/wav"
    headers = {"X-Sample-Rate": str(PCM_RATE)} if pcm else {}
    return CancellingStreamingResponse(chunks, on_close=stop.set, media_type=media, headers=headers)


def _to_int16(chunk: np.ndarray) -> bytes:
    return (np.clip(chunk, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def _streaming_wav_header(rate: int) -> bytes:
    """A 16-bit mono WAV header with maximal sizes: the length is unknown while we stream."""
    unknown = 0xFFFFFFFF
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", unknown - 36)
    )
