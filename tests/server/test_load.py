"""20 concurrent streaming clients on the bundled model: none fail, none lose or borrow text."""

from __future__ import annotations

import asyncio
import time

import openai
import pytest

from tests.server.conftest import Server

PROMPTS = ("Name three colours.", "What is the capital of France?", "Say hello in French.",
           "Count from one to five.")


@pytest.mark.slow
def test_twenty_concurrent_streams(server: Server) -> None:
    async def one(client: openai.AsyncOpenAI, prompt: str) -> tuple[str, str, str, int]:
        stream = await client.chat.completions.create(
            model="seesay", messages=[{"role": "user", "content": prompt}], max_tokens=12, temperature=0,
            stream=True, stream_options={"include_usage": True})
        ids, parts, finish, tokens = set(), [], None, 0
        async for chunk in stream:
            ids.add(chunk.id)
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
                finish = choice.finish_reason or finish
            if chunk.usage:
                tokens = chunk.usage.completion_tokens
        assert len(ids) == 1 and finish in ("stop", "length")
        return prompt, ids.pop(), "".join(parts), tokens

    async def run() -> list[tuple[str, str, str, int]]:
        client = openai.AsyncOpenAI(base_url=server.url, api_key=server.key, max_retries=0, timeout=120)
        try:
            return await asyncio.gather(*(one(client, PROMPTS[i % 4]) for i in range(20)))
        finally:
            await client.close()

    started = time.perf_counter()
    results = asyncio.run(run())
    assert time.perf_counter() - started < 60
    assert len({r[1] for r in results}) == 20  # every stream is its own reply
    for prompt in PROMPTS:  # greedy: the same prompt must give the same, complete text on every stream
        texts = {r[2] for r in results if r[0] == prompt}
        assert len(texts) == 1 and next(iter(texts)).strip(), (prompt, texts)
    assert len({r[2] for r in results}) == len(PROMPTS)  # and different prompts different texts
    assert all(0 < r[3] <= 12 for r in results)
