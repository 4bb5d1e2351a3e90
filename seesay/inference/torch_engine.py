"""TorchEngine: a transformers (safetensors) model, for CUDA GPUs and for models llama.cpp cannot run.

Llama-family models (Llama, SmolLM, Mistral, Qwen2/3) run through the lean decoder (a
static KV cache; on CUDA each step is a captured graph). Any other causal LM runs a
generic token loop over the transformers model with the same sampler, so every model
streams and cancels the same way. Replies run one at a time (one KV cache). GGUF files
normally go to llama.cpp (:mod:`seesay.inference.llamacpp`); with ``model.backend =
transformers`` they are dequantised once into a safetensors copy and run here.
"""

from __future__ import annotations

import gc
import inspect
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import torch

from seesay.config import Settings
from seesay.errors import ModelError
from seesay.inference import context, decoder, resolve
from seesay.inference.device import cpu_threads, pick_device, pick_dtype
from seesay.inference.device import describe as describe_device
from seesay.inference.engine import GenerationParams, Message, Progress, Stream
from seesay.inference.generate import DecodeLoop
from seesay.inference.sampling import Sampler
from seesay.inference.textstream import IncrementalDecoder, StopMatcher

log = logging.getLogger(__name__)


class TorchEngine:
    backend = "transformers"
    parallel = 1  # one static KV cache: replies take turns

    def __init__(self, settings: Settings, resolved: resolve.ResolvedModel | None = None) -> None:
        self.settings = settings
        self.resolved = resolved or resolve.resolve(settings.model.name)
        self.torch_device = pick_device(settings.model.device)
        self.dtype = pick_dtype(settings.model.dtype, self.torch_device)
        self.tokenizer: Any = None
        self.model: Any = None
        self.loop: DecodeLoop | None = None
        self.max_len = 0
        self.load_seconds = 0.0
        self.weight_bytes = 0
        self.eos_ids: set[int] = set()
        self._lltokenizer: Any = None  # built on the first constrained request
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
        if not self.resolved.ready:
            resolve.convert_gguf(self.resolved, report)
        path = self.resolved.load_dir
        report(0.8, f"Loading {self.model_name}…")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            model: Any = AutoModelForCausalLM.from_pretrained(path, dtype=self.dtype)
        except Exception as e:
            raise ModelError(
                f"Cannot load model {self.model_name} from {path}: "
                f"{type(e).__name__}: {resolve._first_line(e)}"
            ) from e
        model.to(self.torch_device).eval()
        if tokenizer.chat_template is None:
            raise ModelError(
                f"Model {self.model_name} has no chat template, so it is not a chat model; "
                "pick an instruction-tuned model."
            )
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
            self.loop = DecodeLoop(decoder.LeanDecoder(model, self.max_len), self.eos_ids)
            # The decoder holds every tensor it needs (fused copies); dropping the
            # transformers modules frees the originals, ~the model's size again.
            self.model = None
            del model
            gc.collect()
        report(1.0, "Ready")
        log.info(
            "loaded %s on %s (%d params, window %d)", self.model_name, self.device, n_params, self.max_len
        )

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

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None) -> Stream:
        params = params or GenerationParams.from_settings(self.settings.generation)
        return Stream(lambda s: self._generate(s, list(messages), params))

    def _generate(self, stream: Stream, messages: list[Message], params: GenerationParams) -> Iterator[str]:
        self.load()
        try:
            fit = context.fit_window(
                messages, self.count_tokens, self.max_len, params.max_new_tokens, lambda: stream.cancelled
            )
        except context.Cancelled:
            stream.stats.finish_reason = "cancelled"
            return
        stream.stats.trim, stream.stats.prompt_tokens = fit.trim, fit.prompt_tokens
        prompt = self._encode(fit.messages)
        params = replace(params, max_new_tokens=fit.max_new_tokens)
        sampler = Sampler(params, self._constraint(params))
        text = IncrementalDecoder(self.tokenizer)
        stops = StopMatcher(params.stop)
        finish = "length"
        while not self._gen_lock.acquire(timeout=0.05):  # one reply at a time; a Stop ends the wait
            if stream.cancelled:
                stream.stats.finish_reason = "cancelled"
                return
        try:
            for token in self._tokens(prompt, sampler, stream):
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
        finally:
            self._gen_lock.release()
        tail = stops.flush(text.flush()) if finish != "stop" else ""
        if tail:
            yield tail
        stream.stats.finish_reason = finish  # type: ignore[assignment]
        stream.stats.finished_at = time.perf_counter()

    def _constraint(self, params: GenerationParams) -> Any:
        """The llguidance matcher for a JSON schema or grammar in ``params`` (None without one)."""
        from seesay.inference import constrained

        grammar = constrained.grammar_of(params)
        if grammar is None:
            return None
        vocab = self._vocab_size()
        if self._lltokenizer is None:
            self._lltokenizer = constrained.lltokenizer_for(self.tokenizer, vocab, self.eos_ids)
        return constrained.Constraint(self._lltokenizer, grammar, vocab)

    def _vocab_size(self) -> int:
        if self.loop is not None:
            return int(self.loop.target.lm_head.weight.shape[0])
        return int(self.model.get_output_embeddings().weight.shape[0])

    def _tokens(self, prompt: list[int], sampler: Sampler, stream: Stream) -> Iterator[int]:
        cancelled = lambda: stream.cancelled  # noqa: E731
        if self.loop is not None:
            yield from self.loop.run(prompt, sampler.params, cancelled, sampler)
        else:
            yield from self._generic(prompt, sampler, cancelled)

    @torch.no_grad()
    def _generic(self, prompt: list[int], sampler: Sampler, cancelled: Any) -> Iterator[int]:
        """Any causal LM: one forward per token over transformers' own cache."""
        from transformers import DynamicCache

        params = sampler.params
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
