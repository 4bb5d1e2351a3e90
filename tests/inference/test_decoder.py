"""The lean decoder and decode loop against transformers, on a tiny random Llama."""

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from seesay.inference import generate
from seesay.inference.decoder import LeanDecoder
from seesay.inference.engine import GenerationParams
from seesay.inference.generate import DecodeLoop

PROMPT = [1, 504, 3459, 282, 4649, 314, 253, 1789, 30, 2]


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path) -> torch.nn.Module:
    net = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    net.generation_config.eos_token_id = None  # compare raw greedy streams, EOS included
    return net


def test_logits_match_transformers(model: torch.nn.Module) -> None:
    ids = torch.tensor(PROMPT)
    with torch.no_grad():
        ref = model(ids[None]).logits[0]
    dec = LeanDecoder(model, 64)
    assert torch.allclose(dec.forward(ids, 0, all_logits=True), ref, atol=1e-4)
    # then token by token after a prefix: same rows
    dec2 = LeanDecoder(model, 64)
    dec2.forward(ids[:4], 0)
    for i in range(4, len(PROMPT)):
        assert torch.allclose(dec2.step(int(ids[i]), i), ref[i], atol=1e-4)


def test_chunked_prefill_equals_one_pass(model: torch.nn.Module, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = generate.prefill(LeanDecoder(model, 64), PROMPT, 0, lambda: False)
    monkeypatch.setattr(generate, "PREFILL_CHUNK", 3)
    chunked = generate.prefill(LeanDecoder(model, 64), PROMPT, 0, lambda: False)
    assert whole is not None and chunked is not None
    assert torch.allclose(whole, chunked, atol=1e-5)


def hf_greedy(model: torch.nn.Module, n: int) -> list[int]:
    with torch.no_grad():
        out = model.generate(
            torch.tensor([PROMPT]), max_new_tokens=n, do_sample=False, repetition_penalty=1.0, pad_token_id=0
        )
    return out[0, len(PROMPT) :].tolist()


def test_greedy_equals_generate(model: torch.nn.Module) -> None:
    loop = DecodeLoop(LeanDecoder(model, 256), eos_ids=set())
    params = GenerationParams(max_new_tokens=48, temperature=0.0, repetition_penalty=1.0)
    assert list(loop.run(PROMPT, params, lambda: False)) == hf_greedy(model, 48)


def test_repetition_penalty_greedy_matches_generate(model: torch.nn.Module) -> None:
    loop = DecodeLoop(LeanDecoder(model, 256), eos_ids=set())
    params = GenerationParams(max_new_tokens=32, temperature=0.0, repetition_penalty=1.3)
    with torch.no_grad():
        ref = model.generate(
            torch.tensor([PROMPT]), max_new_tokens=32, do_sample=False, repetition_penalty=1.3, pad_token_id=0
        )[0, len(PROMPT) :].tolist()
    assert list(loop.run(PROMPT, params, lambda: False)) == ref


def test_seed_reproduces_sampled_reply(model: torch.nn.Module) -> None:
    loop = DecodeLoop(LeanDecoder(model, 256), eos_ids=set())
    params = GenerationParams(max_new_tokens=24, temperature=1.0, top_k=0, top_p=1.0, seed=7)
    first = list(loop.run(PROMPT, params, lambda: False))
    assert first == list(loop.run(PROMPT, params, lambda: False))
    other = GenerationParams(max_new_tokens=24, temperature=1.0, top_k=0, top_p=1.0, seed=8)
    assert first != list(loop.run(PROMPT, other, lambda: False))


def test_eos_and_limits(model: torch.nn.Module) -> None:
    greedy = hf_greedy(model, 20)
    stop_at = greedy[5]
    loop = DecodeLoop(LeanDecoder(model, 256), eos_ids={stop_at})
    params = GenerationParams(max_new_tokens=20, temperature=0.0, repetition_penalty=1.0)
    out = list(loop.run(PROMPT, params, lambda: False))
    assert out == greedy[: greedy.index(stop_at)]
    short = DecodeLoop(LeanDecoder(model, len(PROMPT) + 7), set())
    params = GenerationParams(max_new_tokens=50, temperature=0.0)
    assert len(list(short.run(PROMPT, params, lambda: False))) == 7


def test_cancel_stops_the_loop(model: torch.nn.Module) -> None:
    loop = DecodeLoop(LeanDecoder(model, 256), set())
    flag = {"stop": False}
    out = []
    params = GenerationParams(max_new_tokens=200, temperature=0.0)
    for token in loop.run(PROMPT, params, lambda: flag["stop"]):
        out.append(token)
        if len(out) == 3:
            flag["stop"] = True
    assert len(out) == 3


@pytest.mark.gpu
def test_cuda_graph_step_matches_eager(model: torch.nn.Module) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    gpu = model.to("cuda", torch.bfloat16)
    try:
        graphed, eager = LeanDecoder(gpu, 64), LeanDecoder(gpu, 64)
        ids = torch.tensor(PROMPT, device="cuda")
        graphed.forward(ids, 0)
        eager.forward(ids, 0)
        for pos, token in enumerate([5, 17, 99], start=len(PROMPT)):
            a = graphed.step(token, pos)
            b = eager.forward(torch.tensor([token], device="cuda"), pos)
            assert torch.allclose(a, b, atol=0.05, rtol=0.02)
    finally:
        model.to("cpu", torch.float32)


def test_static_step_matches_forward(model: torch.nn.Module) -> None:
    """The shape-static step that CUDA graphs capture computes what forward does."""
    static, dynamic = LeanDecoder(model, 64), LeanDecoder(model, 64)
    ids = torch.tensor(PROMPT)
    static.forward(ids, 0)
    dynamic.forward(ids, 0)
    for pos, token in enumerate([5, 17, 99], start=len(PROMPT)):
        a = static._static_step(torch.tensor([token]), torch.tensor([pos]))
        b = dynamic.forward(torch.tensor([token]), pos)
        assert torch.allclose(a, b, atol=1e-4)


def test_extreme_sampling_settings_stay_finite(model: torch.nn.Module) -> None:
    """A temperature of 1e-300 (as a fuzzer sends) must not turn into NaN probabilities."""
    loop = DecodeLoop(LeanDecoder(model, 256), set())
    for temperature in (1e-300, 1e-5, 1e-3):
        params = GenerationParams(max_new_tokens=4, temperature=temperature, top_p=0.01, top_k=1)
        assert len(list(loop.run(PROMPT, params, lambda: False))) == 4
