"""The official ``openai`` client against the real server: every endpoint, unmodified."""

from __future__ import annotations

import base64
import io
import time
import wave
from pathlib import Path

import httpx
import openai
import pytest

from tests.server.conftest import Server

WAV = Path("/usr/share/sounds/alsa/Front_Center.wav")


def test_lists_models(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "SmolLM2-135M-Instruct"
    assert "whisper-1" in ids and "tts-1" in ids


def test_chat_plain_and_streaming_agree(client: openai.OpenAI) -> None:
    ask = {
        "model": "seesay",
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": 12,
        "temperature": 0,
        "seed": 1,
    }
    plain = client.chat.completions.create(**ask)
    text = plain.choices[0].message.content
    assert text and plain.object == "chat.completion"
    assert plain.usage.completion_tokens <= 12 and plain.usage.prompt_tokens > 0
    assert plain.choices[0].finish_reason in ("stop", "length")

    chunks = list(client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {c.id for c in chunks} == {chunks[0].id}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    final = chunks[-1].usage
    assert final is not None and final.completion_tokens == plain.usage.completion_tokens


def test_stop_sequence_and_max_completion_tokens(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="seesay",
        messages=[{"role": "user", "content": "Count from one to ten in words."}],
        max_completion_tokens=40,
        temperature=0,
        stop=[","],
    )
    assert "," not in (reply.choices[0].message.content or "")


def test_response_format_json_object_and_json_schema(client: openai.OpenAI) -> None:
    import json

    person = [{"role": "user", "content": "Give me a JSON object for a person with a name and an age."}]
    reply = client.chat.completions.create(
        model="seesay",
        messages=person,
        max_tokens=200,
        temperature=0,
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(reply.choices[0].message.content or ""), dict)
    ask = {
        "model": "seesay",
        "messages": [{"role": "user", "content": "Describe Paris."}],
        "max_tokens": 200,
        "temperature": 0,
    }
    schema = {
        "type": "object",
        "required": ["city", "country"],
        "additionalProperties": False,
        "properties": {
            "city": {"type": "string", "maxLength": 30},
            "country": {"type": "string", "maxLength": 30},
        },
    }
    reply = client.chat.completions.create(
        **ask,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "place", "schema": schema, "strict": True},
        },
    )
    assert set(json.loads(reply.choices[0].message.content or "")) == {"city", "country"}
    assert reply.choices[0].finish_reason == "stop"


def test_transcribes_a_wav(client: openai.OpenAI) -> None:
    if not WAV.exists():
        pytest.skip("alsa-utils' Front_Center.wav is not installed")
    with WAV.open("rb") as f:
        text = client.audio.transcriptions.create(model="whisper-1", file=f)
    assert "front" in text.text.lower() and "center" in text.text.lower()
    with WAV.open("rb") as f:
        verbose = client.audio.transcriptions.create(
            model="whisper-1", file=f, response_format="verbose_json"
        )
    assert verbose.segments and verbose.segments[0].end > verbose.segments[0].start
    assert verbose.duration > 0.5
    with WAV.open("rb") as f:
        plain = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="text")
    assert "front" in str(plain).lower()


def test_speech_is_a_streamed_wav(client: openai.OpenAI) -> None:
    audio = client.audio.speech.create(
        model="tts-1", voice="alloy", input="Hello from SeeSay.", response_format="wav"
    )
    data = audio.read()
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == 22050
        frames = w.readframes(10**7)
    assert len(frames) / 2 / 22050 > 0.5  # at least half a second of speech

    pcm = client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.", response_format="pcm").read()
    assert len(pcm) % 2 == 0 and len(pcm) > 24000 * 2 * 0.2


def test_image_in_chat_goes_to_the_sketch_pipeline(client: openai.OpenAI) -> None:
    from seesay.vision.evalset import make

    png = io.BytesIO()
    make("form", "clean", seed=0).image.save(png, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    reply = client.chat.completions.create(
        model="seesay",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Make this a page"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ],
    )
    text = reply.choices[0].message.content or ""
    assert "looks like a page sketch" in text and "<!DOCTYPE html>" in text.upper().replace(
        "<!DOCTYPE HTML>", "<!DOCTYPE html>"
    )
    assert reply.model == "seesay-sketch"


def test_remote_image_urls_are_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(
            model="seesay",
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}],
                }
            ],
        )
    assert e.value.body["param"] == "messages[0].content[0].image_url.url"


def test_auth_is_required(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {server.key}"}):
        r = httpx.get(f"{server.url}/models", headers=headers)
        assert r.status_code == 401
        assert r.json()["error"]["type"] == "authentication_error"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.url, api_key="not-the-key", max_retries=0).models.list()
    assert (server.home / "config" / "server-api-key").stat().st_mode & 0o777 == 0o600


def test_no_listening_socket_answers_without_the_key(server: Server, client: openai.OpenAI) -> None:
    """seesay serve's own port and llama.cpp's private one inside the same process."""
    from tests.sockets import assert_nothing_answers_without_the_key

    client.models.list()
    client.chat.completions.create(model="seesay", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    sockets = assert_nothing_answers_without_the_key(server.process.pid)
    assert len(sockets) == 2  # the API and the engine's locked door, nothing else


def test_body_limit_and_validation(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.key}"}
    big = httpx.post(f"{server.url}/chat/completions", headers=auth, content=b"x" * 3_000_000)
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"

    bad_json = httpx.post(
        f"{server.url}/chat/completions",
        content=b'{"messages": [',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422 and "not valid JSON" in bad_json.json()["error"]["message"]

    hi = [{"role": "user", "content": "hi"}]
    for body, field in [
        ({"model": "m", "messages": "x"}, "messages"),
        ({"model": "m", "messages": hi, "max_tokens": "many"}, "max_tokens"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": hi, "temperature": 9}, "temperature"),
    ]:
        r = httpx.post(f"{server.url}/chat/completions", headers=auth, json=body)
        assert r.status_code == 422, body
        error = r.json()["error"]
        assert error["param"] == field and field in error["message"]
        assert "Traceback" not in r.text


@pytest.mark.slow
def test_disconnect_frees_the_engine_and_models_stay_responsive(
    server: Server, client: openai.OpenAI
) -> None:
    long = client.chat.completions.create(
        model="seesay",
        messages=[{"role": "user", "content": "Write a very long story about a dragon."}],
        max_tokens=1500,
        temperature=0.7,
        stream=True,
    )
    received = 0
    for chunk in long:
        received += bool(chunk.choices and chunk.choices[0].delta.content)
        if received == 3:
            break
    t = time.perf_counter()
    client.models.list()
    assert time.perf_counter() - t < 0.5  # the event loop is free while the model generates
    long.close()  # hang up mid-stream
    t = time.perf_counter()
    reply = client.chat.completions.create(
        model="seesay", messages=[{"role": "user", "content": "Hi"}], max_tokens=3, temperature=0
    )
    waited = time.perf_counter() - t
    assert reply.choices[0].message.content is not None
    assert waited < 1.5, f"the next request waited {waited:.2f} s: the cancelled stream kept the engine"
