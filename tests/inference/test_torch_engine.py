"""TorchEngine (transformers) end to end on a tiny random Llama (fast) and bad-input handling."""

import threading
import time
from pathlib import Path

import pytest
import torch

from seesay.config import Settings
from seesay.errors import ConfigError, ModelError, ModelNotFoundError
from seesay.inference import create_engine
from seesay.inference.engine import GenerationParams, Message
from seesay.inference.torch_engine import TorchEngine

HELLO: list[Message] = [{"role": "user", "content": "Hello there"}]


def engine_for(path: Path | str, **overrides: object) -> TorchEngine:
    settings = Settings().replace({"model.name": str(path), **overrides})
    engine = create_engine(settings)
    assert isinstance(engine, TorchEngine)
    return engine


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path) -> TorchEngine:
    engine = engine_for(tiny_model_dir)
    engine.load()
    return engine


def test_streams_text_with_stats(tiny: TorchEngine) -> None:
    stream = tiny.stream(HELLO, GenerationParams(max_new_tokens=20, temperature=0.0))
    deltas = list(stream)
    assert deltas and all(isinstance(d, str) for d in deltas)
    stats = stream.stats
    assert stats.prompt_tokens > 5
    assert 1 <= stats.completion_tokens <= 20
    assert stats.time_to_first_token is not None and stats.time_to_first_token > 0
    assert stats.finish_reason in ("stop", "length")
    assert tiny.loop is not None  # the lean path is what runs


def test_progress_reported_while_loading(tiny_model_dir: Path) -> None:
    seen: list[tuple[float, str]] = []
    engine = engine_for(tiny_model_dir)
    engine.load(lambda f, m: seen.append((f, m)))
    assert seen[-1] == (1.0, "Ready")
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)


def test_cancel_takes_effect_within_200ms(tiny: TorchEngine) -> None:
    stream = tiny.stream(HELLO, GenerationParams(max_new_tokens=3000, temperature=1.0, top_k=0))
    got_first = threading.Event()
    ended = threading.Event()

    def consume() -> None:
        for _ in stream:
            got_first.set()
        ended.set()

    worker = threading.Thread(target=consume)
    worker.start()
    assert got_first.wait(30)
    cancelled_at = time.perf_counter()
    stream.cancel()
    assert ended.wait(2)
    assert time.perf_counter() - cancelled_at < 0.2
    worker.join()
    assert stream.stats.finish_reason == "cancelled"


def test_huge_paste_is_truncated_and_reported(tiny_model_dir: Path) -> None:
    engine = engine_for(tiny_model_dir, **{"model.context_tokens": 512})
    paste = "lorem ipsum dolor sit amet " * 40_000  # ~1 MB
    history: list[Message] = [
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": paste},
    ]
    stream = engine.stream(history, GenerationParams(max_new_tokens=8, temperature=0.0))
    stream.text()
    assert stream.stats.trim.truncated_chars > len(paste) // 2
    assert stream.stats.trim.dropped_messages == 2
    assert stream.stats.prompt_tokens <= 512 - 8


def test_long_history_drops_oldest_turns(tiny_model_dir: Path) -> None:
    engine = engine_for(tiny_model_dir, **{"model.context_tokens": 300})
    history: list[Message] = []
    for i in range(40):
        history += [
            {"role": "user", "content": f"question number {i}"},
            {"role": "assistant", "content": f"answer number {i}"},
        ]
    history.append({"role": "user", "content": "last one"})
    stream = engine.stream(
        [{"role": "system", "content": "sys"}, *history], GenerationParams(max_new_tokens=16, temperature=0.0)
    )
    stream.text()
    assert stream.stats.trim.dropped_messages > 0
    assert stream.stats.trim.truncated_chars == 0


def test_generic_path_for_other_architectures(tmp_path: Path, tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    cfg = GPT2Config(
        vocab_size=len(tok),
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=256,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.bos_token_id,
    )
    GPT2LMHeadModel(cfg).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    engine = engine_for(tmp_path)
    stream = engine.stream(HELLO, GenerationParams(max_new_tokens=10, temperature=0.0))
    stream.text()
    assert engine.loop is None
    assert stream.stats.completion_tokens >= 1


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        engine_for(tmp_path / "nope")


def test_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        engine_for(tmp_path)


def test_corrupt_weights_are_a_clear_error(tmp_path: Path, tiny_model_dir: Path) -> None:
    import shutil

    broken = tmp_path / "m"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="Cannot load model"):
        engine_for(broken).load()


def test_model_not_on_this_machine_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match=r"not on this machine.*models pull SomeOrg/some-model"):
        create_engine(Settings().replace({"model.name": "SomeOrg/some-model-that-is-not-here"}))


def test_cuda_without_gpu_is_a_config_error(tiny_model_dir: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match=r"model\.device: 'cuda'"):
        engine_for(tiny_model_dir, **{"model.device": "cuda"})


def test_model_without_chat_template(tmp_path: Path, tiny_model_dir: Path) -> None:
    import shutil

    plain = tmp_path / "m"
    shutil.copytree(tiny_model_dir, plain)
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    cfg = plain / "tokenizer_config.json"
    import json

    data = json.loads(cfg.read_text())
    data.pop("chat_template", None)
    cfg.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="no chat template"):
        engine_for(plain).load()


def test_json_schema_makes_even_a_random_model_reply_valid_json(tiny: TorchEngine) -> None:
    import json

    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    for seed in (1, 2, 3):
        params = GenerationParams(max_new_tokens=200, temperature=1.0, top_k=0, seed=seed, json_schema=schema)
        stream = tiny.stream(HELLO, params)
        reply = json.loads(stream.text())
        assert set(reply) == {"name", "age"} and isinstance(reply["age"], int)
        assert stream.stats.finish_reason == "stop"


def test_grammar_constrains_the_reply(tiny: TorchEngine) -> None:
    params = GenerationParams(
        max_new_tokens=20, temperature=1.0, top_k=0, seed=4, grammar='root ::= "yes" | "no"'
    )
    assert tiny.stream(HELLO, params).text() in ("yes", "no")


def test_invalid_schema_is_an_input_error(tiny: TorchEngine) -> None:
    from seesay.errors import InputError

    with pytest.raises(InputError, match="constraint is not valid"):
        tiny.stream(HELLO, GenerationParams(json_schema={"type": "bogus"})).text()


def test_stop_while_waiting_for_another_reply(tiny: TorchEngine) -> None:
    """One KV cache: a second reply waits, and a Stop during that wait ends it at once."""
    long = tiny.stream(HELLO, GenerationParams(max_new_tokens=3000, temperature=1.0, top_k=0))
    first = threading.Event()
    reader = threading.Thread(target=lambda: [first.set() for _ in long])
    reader.start()
    assert first.wait(30)
    waiting = tiny.stream(HELLO, GenerationParams(max_new_tokens=8))
    threading.Timer(0.3, waiting.cancel).start()
    started = time.perf_counter()
    assert waiting.text() == ""
    assert time.perf_counter() - started < 1.0
    assert waiting.stats.finish_reason == "cancelled"
    long.cancel()
    reader.join(5)
