"""LlamaCppEngine on the real bundled GGUF: streaming, stop, parallel replies, prompt reuse,
constrained output, context budget, bad files, and the private listener's locked door."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seesay.config import Settings
from seesay.errors import InputError, ModelError
from seesay.inference import create_engine
from seesay.inference.engine import GenerationParams, Message, Stream
from seesay.inference.llamacpp import LlamaCppEngine, TokenPool
from tests.sockets import assert_nothing_answers_without_the_key

ROOT = Path(__file__).resolve().parents[2]
HELLO: list[Message] = [{"role": "user", "content": "What is the capital of France?"}]
GREEDY = GenerationParams(max_new_tokens=24, temperature=0.0)


def engine_for(**overrides: object) -> LlamaCppEngine:
    engine = create_engine(Settings().replace(dict(overrides)))
    assert isinstance(engine, LlamaCppEngine)
    return engine


@pytest.fixture(scope="module")
def engine() -> Iterator[LlamaCppEngine]:
    engine = engine_for()
    engine.load()
    yield engine
    engine.close()


def test_bundled_gguf_runs_on_llama_cpp_as_it_is(engine: LlamaCppEngine) -> None:
    assert engine.backend == "llama.cpp" and "llama.cpp Q4_1" in engine.device
    assert engine.load_seconds < 10
    stream = engine.stream(HELLO, GREEDY)
    deltas = list(stream)
    assert len(deltas) > 3 and "Paris" in "".join(deltas)
    stats = stream.stats
    assert stats.prompt_tokens > 10 and 1 <= stats.completion_tokens <= 24
    assert stats.time_to_first_token is not None and stats.finish_reason in ("stop", "length")
    assert stats.prompt_tokens == engine.count_tokens(HELLO)


def test_any_order_of_turns_is_taken_as_openai_takes_it(engine: LlamaCppEngine) -> None:
    """Two assistant messages at the end made llama.cpp's template step refuse (a 500 in the API)."""
    odd: list[Message] = [
        {"role": "user", "content": "Hi."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Let me think."},
        {"role": "assistant", "content": "The capital of France is"},
    ]
    stream = engine.stream(odd, GREEDY)
    assert stream.text().strip() and stream.stats.finish_reason in ("stop", "length")
    assert engine.count_tokens(odd) > 10


def test_greedy_repeats_and_a_seed_reproduces_a_sampled_reply(engine: LlamaCppEngine) -> None:
    assert engine.stream(HELLO, GREEDY).text() == engine.stream(HELLO, GREEDY).text()
    sampled = GenerationParams(max_new_tokens=24, temperature=1.0, top_k=0, seed=11)
    first = engine.stream(HELLO, sampled).text()
    assert first == engine.stream(HELLO, sampled).text()


def _consume_until_cancelled(stream: Stream, after_deltas: int) -> float:
    """Cancel once ``after_deltas`` arrived (0: right away); seconds from cancel to the stream's end."""
    done = threading.Event()
    seen = threading.Event()

    def read() -> None:
        for i, _ in enumerate(stream):
            if i + 1 >= after_deltas:
                seen.set()
        done.set()

    reader = threading.Thread(target=read)
    reader.start()
    if after_deltas:
        assert seen.wait(30)
    else:
        time.sleep(0.3)  # well inside the prompt's prefill
    cancelled_at = time.perf_counter()
    stream.cancel()
    assert done.wait(5)
    reader.join()
    return time.perf_counter() - cancelled_at


def test_stop_takes_effect_within_200ms_while_decoding(engine: LlamaCppEngine) -> None:
    stream = engine.stream(HELLO, GenerationParams(max_new_tokens=3000, temperature=1.0))
    assert _consume_until_cancelled(stream, 3) < 0.2
    assert stream.stats.finish_reason == "cancelled"


def test_stop_takes_effect_within_200ms_while_reading_a_long_prompt(engine: LlamaCppEngine) -> None:
    paste = "The history of Rome spans many centuries; its law shaped Europe. " * 200  # ~3,000 tokens
    stream = engine.stream([{"role": "user", "content": paste}], GREEDY)
    assert _consume_until_cancelled(stream, 0) < 0.2
    assert stream.stats.first_token_at is None and stream.stats.finish_reason == "cancelled"
    # the slot was freed: the engine answers the next request normally
    assert "Paris" in engine.stream(HELLO, GREEDY).text()


def test_replies_run_at_the_same_time(engine: LlamaCppEngine) -> None:
    prompts = [
        "Write a poem about the sea.",
        "Write a story about a cat.",
        "Describe a busy market.",
        "Explain how rain forms.",
    ]
    spans: dict[int, list[float]] = {}
    running: list[int] = []
    ready = threading.Barrier(4)

    def run(i: int) -> None:
        stream = engine.stream(
            [{"role": "user", "content": prompts[i]}], GenerationParams(max_new_tokens=200, temperature=0.0)
        )
        ready.wait()
        for _ in stream:
            spans.setdefault(i, []).append(time.perf_counter())

    assert engine.pool is not None
    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        running.append(engine.pool.running)
        time.sleep(0.005)
    assert len(spans) == 4
    assert max(running) == 4  # all four held a slot at once
    # and none waited for another to finish: every first token came before the longest reply ended
    assert max(s[0] for s in spans.values()) < max(s[-1] for s in spans.values())


def test_a_conversation_prefix_is_not_computed_again(engine: LlamaCppEngine) -> None:
    history: list[Message] = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Tell me about the moon in three sentences."},
    ]
    first = engine.stream(history, GenerationParams(max_new_tokens=40, temperature=0.0))
    history.append({"role": "assistant", "content": first.text()})
    history.append({"role": "user", "content": "And the sun?"})
    second = engine.stream(history, GenerationParams(max_new_tokens=8, temperature=0.0))
    second.text()
    assert second.stats.cached_tokens >= first.stats.prompt_tokens
    assert second.stats.prompt_tokens - second.stats.cached_tokens < 60


def test_json_schema_constrains_the_reply(engine: LlamaCppEngine) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 40}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    stream = engine.stream(
        [{"role": "user", "content": "Describe Paris."}],
        GenerationParams(max_new_tokens=200, temperature=0.0, json_schema=schema),
    )
    data = json.loads(stream.text())
    assert stream.stats.finish_reason == "stop"
    assert isinstance(data["city"], str) and isinstance(data["population"], int)
    any_object = engine.stream(
        [{"role": "user", "content": "Describe Paris."}],
        GenerationParams(max_new_tokens=200, temperature=0.0, json_schema={}),
    ).text()
    assert isinstance(json.loads(any_object), dict)


def test_grammar_constrains_the_reply(engine: LlamaCppEngine) -> None:
    params = GenerationParams(max_new_tokens=8, temperature=1.0, seed=3, grammar='root ::= "yes" | "no"')
    assert engine.stream([{"role": "user", "content": "Is the sky blue?"}], params).text() in ("yes", "no")


def test_invalid_schema_is_an_input_error(engine: LlamaCppEngine) -> None:
    with pytest.raises(InputError, match="constraint is not valid"):
        engine.stream(HELLO, GenerationParams(json_schema={"type": "bogus"})).text()
    with pytest.raises(InputError, match="constraint is not valid"):
        engine.stream(HELLO, GenerationParams(grammar='root ::= "unclosed')).text()


def test_long_replies_wait_for_room_instead_of_failing() -> None:
    """Four replies that cannot all fit the shared KV cache take turns; none fails."""
    small = engine_for(**{"model.context_tokens": 512, "model.parallel": 2})
    try:
        small.load()
        paste = "Rome had roads, laws and aqueducts. " * 40  # ~400 tokens: two fit, not four
        results: list[str] = []

        def run() -> None:
            stream = small.stream(
                [{"role": "user", "content": paste}], GenerationParams(max_new_tokens=32, temperature=0.0)
            )
            stream.text()
            results.append(str(stream.stats.finish_reason))

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(results) == 4 and set(results) <= {"stop", "length"}
    finally:
        small.close()


def test_token_pool_admits_in_arrival_order() -> None:
    pool = TokenPool(tokens=100, slots=4)
    assert pool.acquire(80, lambda: False)
    order: list[str] = []
    big = threading.Thread(target=lambda: pool.acquire(60, lambda: False) and order.append("big"))
    big.start()
    time.sleep(0.1)
    small = threading.Thread(target=lambda: pool.acquire(10, lambda: False) and order.append("small"))
    small.start()
    time.sleep(0.2)
    assert order == []  # the small one fits, but waits behind the big one that came first
    pool.release(80)
    big.join(2)
    small.join(2)
    assert order == ["big", "small"]
    assert not pool.acquire(100, lambda: True)  # cancelled while waiting


def test_huge_paste_is_cut_and_old_turns_dropped() -> None:
    small = engine_for(**{"model.context_tokens": 512})
    try:
        history: list[Message] = []
        for i in range(30):
            history += [
                {"role": "user", "content": f"question number {i}"},
                {"role": "assistant", "content": f"answer number {i}"},
            ]
        history.append({"role": "user", "content": "lorem ipsum dolor sit amet " * 40_000})  # ~1 MB
        stream = small.stream(history, GenerationParams(max_new_tokens=8, temperature=0.0))
        stream.text()
        assert stream.stats.trim.dropped_messages == 60
        assert stream.stats.trim.truncated_chars > 1_000_000 // 2
        assert stream.stats.prompt_tokens <= 512 - 8
    finally:
        small.close()


def test_damaged_or_foreign_files_are_clear_errors(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.gguf"
    foreign.write_text("not a model")
    with pytest.raises(ModelError, match="is not a GGUF file"):
        engine_for(**{"model.name": str(foreign)}).load()
    from seesay.inference.resolve import bundled_gguf

    bundled = bundled_gguf()
    assert bundled is not None
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(bundled.read_bytes()[:1_000_000])
    with pytest.raises(ModelError, match="damaged, incomplete"):
        engine_for(**{"model.name": str(truncated)}).load()


def test_no_listening_socket_answers_without_the_key(engine: LlamaCppEngine) -> None:
    """llama.cpp's own HTTP listener: loopback only, every path refused without the key, no CORS."""
    sockets = assert_nothing_answers_without_the_key(os.getpid())
    assert sockets and all(ip in ("127.0.0.1", "::1") for ip, _ in sockets)


def test_the_engine_process_never_imports_torch_and_stays_small() -> None:
    code = (
        "import sys\n"
        "from seesay.inference.bench import _peak_rss_mb\n"
        "from seesay.config import Settings\n"
        "from seesay.inference import create_engine\n"
        "from seesay.inference.engine import GenerationParams\n"
        "e = create_engine(Settings()); e.load()\n"
        "e.stream([{'role': 'user', 'content': 'Hello'}], GenerationParams(max_new_tokens=32)).text()\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules,"
        " round(_peak_rss_mb()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    torch_loaded, transformers_loaded, peak_mb = out.stdout.split()
    assert torch_loaded == "False" and transformers_loaded == "False"
    assert int(peak_mb) <= 400


def test_close_ends_a_reply_in_progress() -> None:
    engine = engine_for()
    engine.load()
    stream = engine.stream(HELLO, GenerationParams(max_new_tokens=3000, temperature=1.0))
    it = iter(stream)
    next(it)
    started = time.perf_counter()
    engine.close()
    rest = list(it)
    assert time.perf_counter() - started < 5
    assert len(rest) < 3000
