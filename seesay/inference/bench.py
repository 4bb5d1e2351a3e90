"""``seesay bench llm``: the engine beside llama.cpp's own server and plain ``generate``.

Each side runs in its own child process, so load time and peak RSS are its own:

- ``engine``: SeeSay's engine for the settings (llama.cpp in-process for a GGUF, torch for
  safetensors, or the remote server with ``--remote``), timed through ``ChatEngine.stream``
  exactly as the app uses it;
- ``llama_server``: llama.cpp's server on the same GGUF file and thread count, with its own
  defaults, driven over HTTP by streaming requests (the reference a llama.cpp user would
  measure);
- ``generate``: transformers' ``model.generate`` on the same weights (dequantised).

The two llama.cpp sides run three times each, taking turns, and each keeps its fastest run. A
last process times what only a serving engine does: time to first token on turn 1 and
turn 10 of a conversation grown to about 2,000 tokens (the earlier turns stay cached; the
median of one conversation per prompt), and a sketch-page revision decoded with and
without n-gram drafting.

All decode greedily with no repetition penalty, the same prompts and token budget; the
JSON says whether the engine's replies equal each reference's, text for text. (``generate``
computes in float32 from dequantised weights, llama.cpp in its quantized kernels, so those
two may part ways after a near tie; the llama.cpp server runs the very same kernels.)
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
REPEATS = 3
# Peak memory bandwidth (GB/s) of cards a model's decode step is bound by.
BANDWIDTH_GBS = {
    "H200": 4800,
    "H100 SXM": 3350,
    "H100 PCIe": 2000,
    "H100": 3350,
    "A100": 2039,
    "L40S": 864,
    "RTX 4090": 1008,
    "RTX 3090": 936,
}


def bench_llm(
    settings: Settings,
    tokens: int = 64,
    runs: int = 3,
    baseline: bool = True,
    random_config: str | None = None,
) -> dict[str, Any]:
    job: dict[str, Any] = {
        "settings": settings,
        "tokens": tokens,
        "prompts": PROMPTS[:runs],
        "random_config": random_config,
    }
    remote = bool(settings.remote.base_url)
    model = None
    if not remote:
        from seesay.inference.resolve import resolve

        model = resolve(settings.model.name)
        if model.source == "hub":
            raise_missing(model.name)
        job["model"] = model
    if model is None:
        name = settings.remote.base_url
    else:
        name = f"random {random_config}" if random_config else model.name
    result: dict[str, Any] = {"model": name, "tokens": tokens, "prompts": len(job["prompts"])}
    reference = baseline and model is not None and model.is_gguf and not random_config
    if reference:
        # The two llama.cpp sides take turns, three times, and each keeps its fastest run: on a shared
        # machine one process's run can be 10 % off the next one's, which would swamp the ratio.
        runs_of: dict[str, list[dict[str, Any]]] = {"engine": [], "llama_server": []}
        for _ in range(REPEATS):
            runs_of["engine"].append(_in_child(_engine_side, job))
            runs_of["llama_server"].append(_in_child(_llama_server_side, job))
        for side, side_runs in runs_of.items():
            result[side] = max(side_runs, key=lambda r: r["decode_tok_s"])
            result[side]["decode_tok_s_runs"] = [r["decode_tok_s"] for r in side_runs]
        result["ratio_to_llama_server"] = round(
            result["engine"]["decode_tok_s"] / result["llama_server"]["decode_tok_s"], 3
        )
    else:
        result["engine"] = _in_child(_engine_side, job)
    texts: dict[str, list[str]] = {
        side: result[side].pop("texts") for side in ("engine", "llama_server") if side in result
    }
    if not random_config:
        result["engine"].update(_in_child(_serving_side, job))
    if baseline and model is not None:
        result["generate"] = _in_child(_generate_side, job)
        texts["generate"] = result["generate"].pop("texts")
        result["speedup_vs_generate"] = round(
            result["engine"]["decode_tok_s"] / result["generate"]["decode_tok_s"], 2
        )
        for side in ("llama_server", "generate"):
            if side in texts:
                result[f"greedy_match_{side}"] = texts["engine"] == texts[side]
    if result["engine"]["device"].startswith("cuda"):
        result["bandwidth"] = _bandwidth_report(result["engine"])
    return result


def raise_missing(name: str) -> None:
    from seesay.errors import ModelNotFoundError

    raise ModelNotFoundError(f"Model '{name}' is not on this machine; `seesay models pull {name}` first.")


def _in_child(fn: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Run ``fn(job)`` in a fresh process, so its load time and peak memory are its own."""
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
    """This process's peak resident memory. Linux's VmHWM belongs to the process image; getrusage's
    figure survives exec, so a child started from a big process would report the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rates(times: list[list[float]], starts: list[float], counts: list[int]) -> dict[str, float]:
    """Median time to first token and decode rate (tokens after the first per second)."""
    ttfts = [t[0] - s for t, s in zip(times, starts, strict=True) if t]
    rates = [(n - 1) / (t[-1] - t[0]) for t, n in zip(times, counts, strict=True) if len(t) > 1 and n > 1]
    return {"ttft_s": round(statistics.median(ttfts), 3), "decode_tok_s": round(statistics.median(rates), 1)}


def _engine_side(job: dict[str, Any]) -> dict[str, Any]:
    from seesay.inference import create_engine
    from seesay.inference.engine import GenerationParams

    settings: Settings = job["settings"]
    started = time.perf_counter()
    engine = create_engine(settings)
    if job["random_config"]:
        _install_random(engine, job)
    else:
        engine.load()
    load_s = time.perf_counter() - started
    params = GenerationParams(max_new_tokens=job["tokens"], temperature=0.0, repetition_penalty=1.0)
    engine.stream([{"role": "user", "content": "Hi"}], GenerationParams(max_new_tokens=4)).text()  # warm up
    times, starts, counts, texts = [], [], [], []
    for prompt in job["prompts"]:
        stamps: list[float] = []
        parts: list[str] = []
        starts.append(time.perf_counter())
        stream = engine.stream([{"role": "user", "content": prompt}], params)
        for delta in stream:
            _sync(engine)
            stamps.append(time.perf_counter())
            parts.append(delta)
        times.append(stamps)
        counts.append(stream.stats.completion_tokens)
        texts.append("".join(parts))
    out = {
        "backend": getattr(engine, "backend", "remote"),
        "device": engine.device,
        "load_s": round(load_s, 2),
        **_rates(times, starts, counts),
        "peak_rss_mb": round(_peak_rss_mb()),
        "texts": texts,
    }
    if getattr(engine, "backend", "") == "transformers":
        import torch

        out.update(threads=torch.get_num_threads(), weights_gb=round(engine.weight_bytes / 1e9, 3))  # type: ignore[attr-defined]
    close = getattr(engine, "close", None)
    if callable(close):
        close()
    return out


def _serving_side(job: dict[str, Any]) -> dict[str, Any]:
    """What only a serving engine does: cached conversation turns, and drafted page revisions."""
    from seesay.inference import create_engine

    settings: Settings = job["settings"]

    def fresh() -> Any:
        return _loaded(create_engine(settings))

    out = {"conversation": _conversation(fresh, runs=len(job["prompts"]))}
    if "model" in job and job["model"].is_gguf and settings.model.backend != "transformers":
        out["revision"] = _revision(settings, job["model"])
    return out


# Ten turns of a conversation, each with some pasted notes: ~2,000 tokens in all with the replies.
TURNS = [
    f"Here are my notes on {topic}: {notes} Explain each point in a short paragraph with an example, "
    "then say which point matters most and why."
    for topic, notes in [
        (
            "sleep",
            "Keep a fixed wake time, even at weekends, because the body clock follows the morning. "
            "Avoid screens an hour before bed. Keep the room cool, dark and quiet. Limit caffeine "
            "after noon, since it stays in the blood for hours. A short walk in daylight helps.",
        ),
        (
            "gardening",
            "Tomatoes need six hours of sun and a sheltered spot. Water deeply twice a week "
            "rather than a little every day, so the roots grow down. Mulch keeps moisture in and "
            "weeds out. Basil grows well beside tomatoes and keeps some pests away.",
        ),
        (
            "budgeting",
            "Write down every expense for a month to see where the money goes. Put savings aside "
            "on payday, before spending. Cancel subscriptions you have not used for a month. Keep "
            "three months of costs as an emergency fund in a separate account.",
        ),
        (
            "running",
            "Start with run-walk intervals for the first weeks. Increase the weekly distance by at "
            "most ten percent. Rest days matter as much as training days, since muscles recover "
            "then. Good shoes that fit prevent many injuries. Easy runs should feel easy.",
        ),
        (
            "cooking rice",
            "Rinse the rice until the water runs clear, which removes surface starch. Use one "
            "and a half cups of water per cup of rice. Simmer covered for fifteen minutes on "
            "low heat, then let it rest off the heat for ten minutes before opening the lid.",
        ),
        (
            "learning a language",
            "Practise a little every day rather than a lot once a week. Learn the "
            "thousand most common words first. Speak from the first week, even badly. "
            "Listen to podcasts at normal speed, and read simple books you enjoy.",
        ),
        (
            "houseplants",
            "Most houseplants die from too much water, not too little. Check the soil with a "
            "finger before watering. Bright indirect light suits most of them. Repot in spring "
            "when the roots circle the pot, into a pot only a little larger.",
        ),
        (
            "public speaking",
            "Know your first minute by heart, because nerves peak at the start. Slow down "
            "and pause between ideas. Look at one person at a time. Rehearse standing up, "
            "out loud, with a timer, and record yourself once to hear the pace.",
        ),
        (
            "bread",
            "Flour, water, salt and yeast are enough for a good loaf. Knead until the dough is smooth "
            "and springs back. Let it rise until doubled, which depends on the warmth of the room. "
            "Bake hot, with steam for the first ten minutes for a crisp crust.",
        ),
        (
            "bicycles",
            "Check tyre pressure every week, since soft tyres wear fast and puncture. Oil the chain "
            "when it looks dry and wipe off the excess. Adjust the saddle so the knee is slightly "
            "bent at the bottom of the stroke. Test both brakes before every ride.",
        ),
    ]
]


def _conversation(make_engine: Any, runs: int) -> dict[str, Any]:
    """Time to first token on turn 1 and on turn 10 of a growing conversation, the median of
    ``runs`` conversations (one per ``--runs`` prompt), each on a freshly loaded engine (so
    turn 1 computes its whole prompt, the custom instructions too, as the first conversation
    after a launch does)."""
    from seesay.config import DEFAULT_SYSTEM_PROMPT
    from seesay.inference.engine import GenerationParams, Message

    params = GenerationParams(max_new_tokens=120, temperature=0.0, repetition_penalty=1.0)
    first: list[float] = []
    last: list[float] = []
    stats = None
    for run in range(runs):
        engine = make_engine()
        messages: list[Message] = [{"role": "system", "content": DEFAULT_SYSTEM_PROMPT}]
        for turn, prompt in enumerate(TURNS[run:] + TURNS[:run]):
            messages.append({"role": "user", "content": prompt})
            stream = engine.stream(messages, params)
            messages.append({"role": "assistant", "content": stream.text()})
            stats = stream.stats
            if turn in (0, len(TURNS) - 1):
                (first if turn == 0 else last).append(stats.time_to_first_token or 0.0)
        close = getattr(engine, "close", None)
        if callable(close):
            close()
    assert stats is not None
    turn1, turn10 = statistics.median(first), statistics.median(last)
    return {
        "turns": len(TURNS),
        "conversations": runs,
        "last_prompt_tokens": stats.prompt_tokens,
        "last_cached_tokens": stats.cached_tokens,
        "turn1_ttft_s": round(turn1, 3),
        "turn10_ttft_s": round(turn10, 3),
        "turn10_over_turn1": round(turn10 / turn1, 2),
    }


def _revision(settings: Settings, model: Any) -> dict[str, Any]:
    """The model's part of a sketch-page revision, decoded with n-gram drafting and without."""
    from seesay.inference.llamacpp import LlamaCppEngine
    from seesay.vision import evalset
    from seesay.vision import html as page_html
    from seesay.vision.bench import truth_layout
    from seesay.vision.revision import revision_request

    page = page_html.render_page(truth_layout(evalset.make("landing", "clean", seed=0)))
    messages, params = revision_request(page, "make the header dark blue")
    out: dict[str, Any] = {"prompt_tokens": 0}
    for label, drafts in (("with_ngram_drafts", True), ("plain", False)):
        engine = LlamaCppEngine(settings, model, draft_ngrams=drafts)
        engine.load()
        stamps: list[float] = []
        started = time.perf_counter()
        stream = engine.stream(messages, params)
        for _ in stream:
            stamps.append(time.perf_counter())
        n = stream.stats.completion_tokens
        out["prompt_tokens"] = stream.stats.prompt_tokens
        out[label] = {
            "seconds": round(stamps[-1] - started, 2),
            "tokens": n,
            "decode_tok_s": round((n - 1) / (stamps[-1] - stamps[0]), 1),
        }
        engine.close()
    out["speedup"] = round(out["with_ngram_drafts"]["decode_tok_s"] / out["plain"]["decode_tok_s"], 2)
    return out


def _loaded(engine: Any) -> Any:
    engine.load()
    return engine


def _sync(engine: Any) -> None:
    """On CUDA a token is only done when the GPU is: wait for it before reading the clock."""
    if getattr(engine, "backend", "") == "transformers" and engine.torch_device.type == "cuda":
        import torch

        torch.cuda.synchronize()


def _llama_server_side(job: dict[str, Any]) -> dict[str, Any]:
    """llama.cpp's own server on the same file, as a llama.cpp user runs it, timed over HTTP."""
    import json
    import secrets

    import httpx
    import xllamacpp as xlc

    settings: Settings = job["settings"]
    key = secrets.token_urlsafe(16)
    started = time.perf_counter()
    p = xlc.CommonParams()
    p.model.path = str(job["model"].location)
    p.n_ctx = settings.model.context_tokens
    if settings.model.threads > 0:
        p.cpuparams.n_threads = p.cpuparams_batch.n_threads = settings.model.threads
    p.hostnames, p.port, p.api_keys, p.verbosity = ["127.0.0.1"], 0, [key], -1
    if settings.model.device == "cpu":
        p.n_gpu_layers = 0
    server = xlc.Server(p)
    load_s = time.perf_counter() - started
    times, starts, counts, texts = [], [], [], []
    # llama.cpp's HTTP server drops a kept-alive connection after a streamed reply: one per request.
    with httpx.Client(
        base_url=server.listening_address,
        timeout=300,
        headers={"Authorization": f"Bearer {key}", "Connection": "close"},
    ) as client:
        for i, prompt in enumerate(["Hi", *job["prompts"]]):
            body = {
                "messages": [{"role": "user", "content": prompt}],
                "stream": True,
                "max_tokens": 4 if i == 0 else job["tokens"],
                "temperature": 0,
                "repeat_penalty": 1.0,
                "stream_options": {"include_usage": True},
            }
            stamps: list[float] = []
            parts: list[str] = []
            n = 0
            begin = time.perf_counter()
            with client.stream("POST", "/v1/chat/completions", json=body) as resp:
                for line in resp.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    chunk = json.loads(line[6:])
                    n = (chunk.get("usage") or {}).get("completion_tokens", n)
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            stamps.append(time.perf_counter())
                            parts.append(text)
            if i:  # the first request only warms up, as on the engine side
                times.append(stamps)
                starts.append(begin)
                counts.append(n)
                texts.append("".join(parts))
    threads = settings.model.threads or p.cpuparams.n_threads
    return {
        "load_s": round(load_s, 2),
        **_rates(times, starts, counts),
        "peak_rss_mb": round(_peak_rss_mb()),
        "threads": threads,
        "texts": texts,
    }


def _random_model(job: dict[str, Any], device: Any, dtype: Any) -> tuple[Any, Any]:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(_weights_dir(job))
    sizes = {"1b": (2048, 8192, 16, 32, 8), "3b": (3072, 8192, 28, 24, 8), "8b": (4096, 14336, 32, 32, 8)}
    hidden, inter, layers, heads, kv = sizes[job["random_config"]]
    cfg = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=inter,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(dtype).eval()
    return model, tokenizer


def _weights_dir(job: dict[str, Any]) -> Any:
    """A folder transformers loads: the model's own, or a GGUF's dequantised copy (made once)."""
    from seesay.inference.resolve import convert_gguf

    model = job["model"]
    return convert_gguf(model) if model.converted is not None else model.load_dir


def _install_random(engine: Any, job: dict[str, Any]) -> None:
    """Load a random model of the asked size into a transformers engine (GPU throughput runs)."""
    from seesay.inference import decoder
    from seesay.inference.generate import DecodeLoop

    if getattr(engine, "backend", "") != "transformers":
        raise RuntimeError(
            "--random-config times the transformers backend: add --model a safetensors "
            "folder or set model.backend = transformers"
        )
    model, tokenizer = _random_model(job, engine.torch_device, engine.dtype)
    engine.model, engine.tokenizer = model, tokenizer
    engine.weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    engine.max_len = min(4096, engine.settings.model.context_tokens)
    engine.eos_ids = engine._eos_ids()
    engine.loop = DecodeLoop(decoder.LeanDecoder(model, engine.max_len), engine.eos_ids)


def _generate_side(job: dict[str, Any]) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.generation.streamers import BaseStreamer

    from seesay.inference.device import pick_device, pick_dtype

    settings: Settings = job["settings"]
    device = pick_device(settings.model.device)
    dtype = pick_dtype(settings.model.dtype, device)
    started = time.perf_counter()
    model: Any
    if job["random_config"]:
        model, tokenizer = _random_model(job, device, dtype)
    else:
        path = _weights_dir(job)
        started = time.perf_counter()  # the one-off dequantisation is not part of loading
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        model = model.to(device).eval()
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

    times, starts, counts, texts = [], [], [], []
    for prompt in job["prompts"]:
        enc = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}],
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        ).to(device)
        clock = Clock()
        starts.append(time.perf_counter())
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=job["tokens"],
                do_sample=False,
                repetition_penalty=1.0,
                streamer=clock,
                pad_token_id=tokenizer.eos_token_id,
            )
        eos = set(_as_list(model.generation_config.eos_token_id))
        new = _until(out[0, enc["input_ids"].shape[1] :].tolist(), eos)
        times.append(clock.times[1:])  # the first put() is the prompt
        counts.append(len(new))
        texts.append(tokenizer.decode(new, skip_special_tokens=True))
    return {
        "load_s": round(load_s, 2),
        **_rates(times, starts, counts),
        "peak_rss_mb": round(_peak_rss_mb()),
        "threads": torch.get_num_threads(),
        "texts": texts,
    }


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
    bound = peak / engine["weights_gb"] if peak and engine.get("weights_gb") else None
    return {
        "peak_gb_s": peak,
        "bound_tok_s": round(bound, 1) if bound else None,
        "fraction_of_bound": round(engine["decode_tok_s"] / bound, 3) if bound else None,
    }
