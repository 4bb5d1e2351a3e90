"""``seesay bench llm``: the engine against plain ``model.generate`` on the same model.

Each side runs in its own child process so load time and peak RSS are its own.
Both decode greedily, with no repetition penalty, the same prompts and token budget;
the JSON says whether the engine's tokens equal generate's over the first 64.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import statistics
import time
from typing import Any

from seesay.config import Settings

PROMPTS = [
    "Give me three tips for sleeping better, with a sentence on each.",
    "Explain how a bicycle works to a ten-year-old.",
    "Write a short story about a lighthouse keeper and a storm.",
]
MATCH_TOKENS = 64
# Peak memory bandwidth (GB/s) of cards a model's decode step is bound by.
BANDWIDTH_GBS = {"H200": 4800, "H100 SXM": 3350, "H100 PCIe": 2000, "H100": 3350, "A100": 2039,
                 "L40S": 864, "RTX 4090": 1008, "RTX 3090": 936}


def bench_llm(settings: Settings, tokens: int = 64, runs: int = 3, baseline: bool = True,
              random_config: str | None = None) -> dict[str, Any]:
    from seesay.inference.resolve import convert_gguf, resolve

    model = resolve(settings.model.name)
    if model.source == "hub":
        raise_missing(model.name)
    load_dir = convert_gguf(model) if not model.ready else model.load_dir
    job = {"settings": settings, "dir": str(load_dir), "tokens": tokens, "prompts": PROMPTS[:runs],
           "random_config": random_config}
    result: dict[str, Any] = {"model": model.name if not random_config else f"random {random_config}",
                              "tokens": tokens, "prompts": len(job["prompts"])}
    result["engine"] = _in_child(_engine_side, job)
    if baseline:
        result["generate"] = _in_child(_generate_side, job)
        e, g = result["engine"], result["generate"]
        result["speedup_decode"] = round(e["decode_tok_s"] / g["decode_tok_s"], 2)
        n = min(MATCH_TOKENS, tokens)
        result["greedy_match_first_64"] = all(
            a[:n] == b[:n] for a, b in zip(e.pop("token_ids"), g.pop("token_ids"), strict=True))
    else:
        result["engine"].pop("token_ids")
    if result["engine"]["device"].startswith("cuda"):
        result["bandwidth"] = _bandwidth_report(result["engine"])
    return result


def raise_missing(name: str) -> None:
    from seesay.errors import ModelNotFoundError

    raise ModelNotFoundError(f"Model '{name}' is not on this machine; `seesay models pull {name}` first.")


def _in_child(fn: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Run ``fn(job)`` in a fresh process (not a daemonic pool worker: the engine starts its
    own draft process, which a daemonic process may not)."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_run_and_send, args=(fn, job, send))
    child.start()
    send.close()
    try:
        ok, value = receive.recv()
    except EOFError:
        raise RuntimeError(f"benchmark process died (exit code {child.exitcode})") from None
    finally:
        child.join()
    if not ok:
        raise RuntimeError(value)
    return value


def _run_and_send(fn: Any, job: dict[str, Any], send: Any) -> None:
    try:
        send.send((True, fn(job)))
    except Exception as e:  # reported in the parent
        import traceback

        send.send((False, "".join(traceback.format_exception(e))))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _random_model(job: dict[str, Any], device: Any, dtype: Any) -> tuple[Any, Any]:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(job["dir"])
    sizes = {"1b": (2048, 8192, 16, 32, 8), "3b": (3072, 8192, 28, 24, 8), "8b": (4096, 14336, 32, 32, 8)}
    hidden, inter, layers, heads, kv = sizes[job["random_config"]]
    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=inter,
                      num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv,
                      max_position_embeddings=4096, tie_word_embeddings=True,
                      eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(dtype).eval()
    return model, tokenizer


def _engine_side(job: dict[str, Any]) -> dict[str, Any]:
    import torch

    from seesay.inference.engine import GenerationParams
    from seesay.inference.local import LocalEngine

    settings: Settings = job["settings"]
    started = time.perf_counter()
    engine = LocalEngine(settings)
    if job["random_config"]:
        _install_random(engine, job)
    else:
        engine.load()
    load_s = time.perf_counter() - started
    engine.wait_for_draft()
    ready_s = time.perf_counter() - started
    params = GenerationParams(max_new_tokens=job["tokens"], temperature=0.0, repetition_penalty=1.0)
    ttfts, rates, ids = [], [], []
    for prompt in job["prompts"]:
        prompt_ids = engine._encode([{"role": "user", "content": prompt}])
        times: list[float] = []
        start = time.perf_counter()
        out = []
        for token in engine._tokens(prompt_ids, params, _NeverCancelled()):
            if engine.torch_device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter())
            out.append(token)
        ttfts.append(times[0] - start)
        rates.append((len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0)
        ids.append(out)
    loop = engine.loop
    return {"load_s": round(load_s, 2), "draft_ready_s": round(ready_s, 2),
            "ttft_s": round(statistics.median(ttfts), 3),
            "decode_tok_s": round(statistics.median(rates), 1), "peak_rss_mb": round(_peak_rss_mb()),
            "device": engine.device, "threads": torch.get_num_threads(),
            "decoder": "lean" if loop else "generic",
            "speculative": bool(loop and loop.draft is not None),
            "draft_acceptance": round(loop.accepted / loop.drafted, 3) if loop and loop.drafted else None,
            "weights_gb": round(engine.weight_bytes / 1e9, 3),
            "token_ids": ids}


def _install_random(engine: Any, job: dict[str, Any]) -> None:
    """Load a random model of the asked size into the engine (GPU throughput runs)."""
    from seesay.inference import decoder
    from seesay.inference.generate import DecodeLoop

    model, tokenizer = _random_model(job, engine.torch_device, engine.dtype)
    engine.model, engine.tokenizer = model, tokenizer
    engine.weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    engine.max_len = min(4096, engine.settings.model.context_tokens)
    engine.eos_ids = engine._eos_ids()
    engine.loop = DecodeLoop(decoder.LeanDecoder(model, engine.max_len), None, engine.eos_ids)


class _NeverCancelled:
    cancelled = False


def _generate_side(job: dict[str, Any]) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.generation.streamers import BaseStreamer

    from seesay.inference.device import pick_device, pick_dtype

    settings: Settings = job["settings"]
    device = pick_device(settings.model.device)
    dtype = pick_dtype(settings.model.dtype, device)
    started = time.perf_counter()
    if job["random_config"]:
        model, tokenizer = _random_model(job, device, dtype)
    else:
        tokenizer = AutoTokenizer.from_pretrained(job["dir"])
        model = AutoModelForCausalLM.from_pretrained(job["dir"], dtype=dtype).to(device).eval()
    load_s = time.perf_counter() - started

    class Clock(BaseStreamer):
        def __init__(self) -> None:
            self.times: list[float] = []

        def put(self, value: Any) -> None:
            if device.type == "cuda":
                torch.cuda.synchronize()
            self.times.append(time.perf_counter())

        def end(self) -> None:
            pass

    ttfts, rates, ids = [], [], []
    for prompt in job["prompts"]:
        enc = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                            return_tensors="pt", return_dict=True).to(device)
        clock = Clock()
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=job["tokens"], do_sample=False, repetition_penalty=1.0,
                                 streamer=clock, pad_token_id=tokenizer.eos_token_id)
        times = clock.times[1:]  # the first put() is the prompt
        ttfts.append(times[0] - start)
        rates.append((len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0)
        new = out[0, enc["input_ids"].shape[1]:].tolist()
        eos = set(_as_list(model.generation_config.eos_token_id))
        ids.append(_until(new, eos))
    return {"load_s": round(load_s, 2), "ttft_s": round(statistics.median(ttfts), 3),
            "decode_tok_s": round(statistics.median(rates), 1), "peak_rss_mb": round(_peak_rss_mb()),
            "threads": torch.get_num_threads(), "token_ids": ids}


def _as_list(value: Any) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)


def _until(tokens: list[int], eos: set[int]) -> list[int]:
    for i, t in enumerate(tokens):
        if t in eos:
            return tokens[:i]
    return tokens


def _bandwidth_report(engine: dict[str, Any]) -> dict[str, Any]:
    name = engine["device"]
    peak = next((bw for key, bw in BANDWIDTH_GBS.items() if key in name), None)
    bound = peak / engine["weights_gb"] if peak else None
    return {"peak_gb_s": peak, "bound_tok_s": round(bound, 1) if bound else None,
            "fraction_of_bound": round(engine["decode_tok_s"] / bound, 3) if bound else None}
