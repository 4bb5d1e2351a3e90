"""``GET /v1/models``: what this server can run, answered without touching any model."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import BaseModel

router = APIRouter(tags=["models"])

_STARTED = int(time.time())
TRANSCRIPTION_MODEL = "whisper-1"  # the OpenAI name clients default to; served by the configured Whisper
SPEECH_MODEL = "tts-1"  # likewise, served by the configured Piper voice


class Model(BaseModel):
    id: str
    object: str = "model"
    created: int
    owned_by: str = "seesay"


class ModelList(BaseModel):
    object: str = "list"
    data: list[Model]


@router.get("/v1/models", response_model=ModelList)
async def list_models(request: Request) -> ModelList:
    """The chat model (its real name), then the speech models under the names OpenAI clients use."""
    services = request.app.state.services
    names = [chat_model_name(request), TRANSCRIPTION_MODEL, SPEECH_MODEL]
    if services.settings.vision.vlm_model.strip():
        names.insert(1, services.settings.vision.vlm_model.strip())
    return ModelList(data=[Model(id=n, created=_STARTED) for n in names])


def chat_model_name(request: Request) -> str:
    return str(request.app.state.services.engine.model_name)
