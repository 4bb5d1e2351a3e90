"""LocalEngine: a transformers model on this machine's GPU or CPU.

Llama-family models (Llama, SmolLM, Mistral, Qwen2/3) run through the lean decoder
(static KV cache; on the CPU with an int8 speculative draft, on CUDA as a captured
graph). Any other causal LM runs a generic token loop over the transformers model
with the same sampler, so every model streams and cancels the same way.
"""

from __future__ import annotations

import gc
import inspect
import logging
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from seesay.config import Settings
from seesay.errors import EngineError, ModelError
from seesay.inference import context, decoder, resolve
from seesay.inference.device import cpu_threads, pick_device, pick_dtype
from seesay.inference.device import describe as describe_device
from seesay.inference.engine import GenerationParams, Message, Progress, Stream
from seesay.inference.generate import DecodeLoop
from seesay.inference.sampling import Sampler
from seesay.inference.textstream import IncrementalDecoder, StopMatcher

log = logging.getLogger(__name__)

# Enough varied text (prose, code, lists, tables) to find each channel's activation peak.
CALIBRATION = (
    "The quick brown fox jumps over the lazy dog. Write a function in Python. The history of "
    "Rome spans many centuries; its art, law and engineering shaped Europe. 1. First item "
    "2. Second item | a | b |"
)


# From this size a separate draft process pays for its start-up (~3 s of a core); a
# tiny model's draft steps are too short for the GIL contention to matter.
PROCESS_DRAFT_PARAMS = 50_000_000


class LocalEngine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.resolved = resolve.resolve(settings.model.name)
        self.torch_device = pick_device(settings.model.device)
        self.dtype = pick_dtype(settings.model.dtype, self.torch_device)
        self.tokenizer: Any = None
        self.model: Any = None
        self.loop: DecodeLoop | None = None
        self.max_len = 0
        self.load_seconds = 0.0
        self.weight_bytes = 0
        self.eos_ids: set[int] = set()
        self._draft_thread: threading.Thread | None = None
        self._abandon = threading.Event()
        self._draft_process: list[Any] = []  # at most one DraftProcess, shared with the finalizer
        self._load_lock = threading.Lock()
        self._gen_lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.resolved.name

    @property
    def device(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        return f"{describe_device(self.torch_device)}, {dtype}"

    @property
    def loaded(self) -> bool:
        return self.tokenizer is not None

    def load(self, progress: Progress | None = None) -> None:
        with self._load_lock:
            if self.tokenizer is None:
                started = time.perf_counter()
                self._load(progress or (lambda _f, _m: None))
                self.load_seconds = time.perf_counter() - started

    def _load(self, report: Progress) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        resolve.quiet_transformers()
        if self.resolved.source == "hub":
            from seesay.inference import hub

            self.resolved = resolve.ResolvedModel(self.resolved.name, "hf-cache",
                                                  hub.pull(self.resolved.name, report))
        elif not self.resolved.ready:
            resolve.convert_gguf(self.resolved, report)
        path = self.resolved.load_dir
        report(0.8, f"Loading {self.model_name}…")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=self.dtype)
        except Exception as e:
            raise ModelError(f"Cannot load model {self.model_name} from {path}: "
                             f"{type(e).__name__}: {resolve._first_line(e)}") from e
        model.to(self.torch_device).eval()
        if tokenizer.chat_template is None:
            raise ModelError(f"Model {self.model_name} has no chat template, so it is not a chat model; "
                             "pick an instruction-tuned model.")
        n_params = sum(p.numel() for p in model.parameters())
        self.weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
        if self.torch_device.type == "cpu":
            torch.set_num_threads(cpu_threads(self.settings.model.threads, n_params))
        window = getattr(model.config, "max_position_embeddings", None) or self.settings.model.context_tokens
        self.max_len = min(window, self.settings.model.context_tokens)
        self.tokenizer, self.model = tokenizer, model
        self.eos_ids = self._eos_ids()
        if decoder.supports(model):
            report(0.9, "Preparing the fast decoder…")
            cpu_fp32 = self.torch_device.type == "cpu" and self.dtype == torch.float32
            target = decoder.LeanDecoder(model, self.max_len,
                                         packed=cpu_fp32 and decoder.packed_available())
            self.loop = DecodeLoop(target, None, self.eos_ids)
            if cpu_fp32 and decoder.int8_available():
                # Built on the side: the first reply can start before the draft is ready.
                start = self._start_draft if n_params >= PROCESS_DRAFT_PARAMS else self._build_draft
                self._draft_thread = threading.Thread(target=start, args=(model, tokenizer),
                                                      name="seesay-draft-build", daemon=True)
                self._draft_thread.start()
                # A daemon thread still inside torch when the interpreter exits aborts the
                # process; on exit (or when the engine goes away) stop the build and wait.
                weakref.finalize(self, _abandon, self._abandon, self._draft_thread, self._draft_process)
            # The decoders hold every tensor they need (fused or packed copies); dropping the
            # transformers modules frees the originals, ~the model's size again.
            self.model = None
            del model
            gc.collect()
        report(1.0, "Ready")
        log.info("loaded %s on %s (%d params, window %d)", self.model_name, self.device, n_params,
                 self.max_len)

    def _start_draft(self, model: Any, tokenizer: Any) -> None:
        """The draft in its own process (no GIL contention), else on a thread here."""
        from seesay.inference.draft_process import DraftProcess

        try:
            process = DraftProcess(str(self.resolved.load_dir), self.max_len, CALIBRATION)
        except Exception:  # e.g. inside a daemonic process, which may not have children
            log.info("draft process unavailable; drafting on a thread", exc_info=True)
        else:
            self._draft_process.append(process)
            ready = process.wait_ready(abandon=self._abandon)
            if self._abandon.is_set():  # exiting, or the engine was closed: no fallback
                return
            if ready:
                assert self.loop is not None
                self.loop.draft = process
                log.info("speculative draft process ready")
                return
            log.warning("draft process did not start; drafting on a thread")
            process.close()
            if process in self._draft_process:
                self._draft_process.remove(process)
        self._build_draft(model, tokenizer)

    def _build_draft(self, model: Any, tokenizer: Any) -> None:
        try:
            ids = torch.tensor(tokenizer(CALIBRATION)["input_ids"])
            draft = decoder.LeanDecoder(model, self.max_len, act_scales=decoder.activation_scales(model, ids),
                                        abandon=self._abandon)
        except InterruptedError:
            return
        except Exception:  # speculation is an optimisation; plain decoding still works
            log.warning("could not build the speculative draft; decoding without it", exc_info=True)
            return
        assert self.loop is not None
        self.loop.draft = draft
        log.info("speculative draft ready")

    def close(self) -> None:
        """Stop the draft (thread or process) now rather than when the engine is collected."""
        if self._draft_thread is not None:
            _abandon(self._abandon, self._draft_thread, self._draft_process)
            self._draft_process.clear()
        if self.loop is not None:
            self.loop.draft = None

    def wait_for_draft(self, timeout: float | None = None) -> bool:
        """Block until the speculative draft is built (for benchmarks); True if one is in use."""
        if self._draft_thread is not None:
            self._draft_thread.join(timeout)
        return self.loop is not None and self.loop.draft is not None

    def _eos_ids(self) -> set[int]:
        ids = set()
        for source in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif source:
                ids.update(source)
        for token in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"):
            tid = self.tokenizer.convert_tokens_to_ids(token)
            if isinstance(tid, int) and tid != self.tokenizer.unk_token_id and tid is not None:
                ids.add(tid)
        return ids

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self._encode(messages))

    def _encode(self, messages: Sequence[Message]) -> list[int]:
        ids = self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):
            ids = ids["input_ids"]
        return list(ids)

    def reply_budget(self, params: GenerationParams) -> int:
        return min(params.max_new_tokens, self.max_len // 2)

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None) -> Stream:
        params = params or GenerationParams.from_settings(self.settings.generation)
        return Stream(lambda s: self._generate(s, list(messages), params))

    def _generate(self, stream: Stream, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        self.load()
        reply = self.reply_budget(params)
        fitted, stream.stats.trim = context.fit(messages, self.count_tokens, self.max_len - reply)
        prompt = self._encode(fitted)
        if len(prompt) + 1 > self.max_len:
            raise EngineError("The custom instructions alone fill the model's context window; shorten them "
                              "in Settings.")
        stream.stats.prompt_tokens = len(prompt)
        params = _replace_max(params, min(reply, self.max_len - len(prompt)))
        text = IncrementalDecoder(self.tokenizer)
        stops = StopMatcher(params.stop)
        finish = "length"
        with self._gen_lock:
            for token in self._tokens(prompt, params, stream):
                if stream.stats.first_token_at is None:
                    stream.stats.first_token_at = time.perf_counter()
                stream.stats.completion_tokens += 1
                delta, stopped = stops.push(text.push(token))
                if delta:
                    yield delta
                if stopped:
                    finish = "stop"
                    break
            else:
                if stream.cancelled:
                    finish = "cancelled"
                elif stream.stats.completion_tokens < params.max_new_tokens:
                    finish = "stop"
        tail = stops.flush(text.flush()) if finish != "stop" else ""
        if tail:
            yield tail
        stream.stats.finish_reason = finish  # type: ignore[assignment]
        stream.stats.finished_at = time.perf_counter()

    def _tokens(self, prompt: list[int], params: GenerationParams, stream: Stream) -> Iterator[int]:
        cancelled = lambda: stream.cancelled  # noqa: E731
        if self.loop is not None:
            yield from self.loop.run(prompt, params, cancelled)
        else:
            yield from self._generic(prompt, params, cancelled)

    @torch.no_grad()
    def _generic(self, prompt: list[int], params: GenerationParams, cancelled: Any) -> Iterator[int]:
        """Any causal LM: one forward per token over transformers' own cache."""
        from transformers import DynamicCache

        sampler = Sampler(params)
        eos = self.eos_ids
        cache = DynamicCache(config=self.model.config)
        # transformers 5 renames past_key_values to cache model by model.
        params_of = inspect.signature(self.model.forward).parameters
        cache_arg = "cache" if "cache" in params_of else "past_key_values"
        ids = torch.tensor([prompt], device=self.torch_device)
        seq = list(prompt)
        for _ in range(params.max_new_tokens):
            if cancelled():
                return
            out = self.model(input_ids=ids, use_cache=True, **{cache_arg: cache})
            token = sampler.pick(out.logits[0, -1].float().cpu(), torch.tensor(seq))
            if token in eos:
                return
            seq.append(token)
            yield token
            ids = torch.tensor([[token]], device=self.torch_device)


def _abandon(flag: threading.Event, thread: threading.Thread, processes: list[Any]) -> None:
    flag.set()
    thread.join(timeout=5)
    for process in processes:
        process.close()


def _replace_max(params: GenerationParams, max_new_tokens: int) -> GenerationParams:
    from dataclasses import replace

    return replace(params, max_new_tokens=max(1, max_new_tokens))
