"""A vision-language model that draws the page straight from the sketch (optional).

Any model that transformers loads as image-text-to-text works the same way here
(Qwen2.5-VL, SmolVLM/Idefics3, LLaVA): its own processor and chat template build the
prompt, ``generate`` runs on a background thread and token ids come back through a
queue, so the reply streams and stops at any token like the chat engine's. What the
model writes is untrusted: the HTML is extracted, checked with the same validation
as every other model-made page, and the offline page is kept when it fails.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from seesay.errors import ConfigError, EngineError, ModelError, ModelNotFoundError
from seesay.inference import resolve
from seesay.inference.device import pick_device, pick_dtype
from seesay.inference.engine import GenerationParams, Progress, Stream
from seesay.inference.textstream import IncrementalDecoder
from seesay.vision import html as page_html
from seesay.vision import validation

log = logging.getLogger(__name__)

ImageInput = Any  # a PIL image, a path, or the bytes of an image file
RULES = (
    "Rules: one complete HTML5 file that starts with <!DOCTYPE html>; all CSS in one <style> "
    "element in <head>; no external stylesheets, fonts, scripts, images or links to other sites; "
    "semantic elements (header, nav, main, section, form, label, button, footer); responsive "
    "with flexbox or grid and a viewport meta tag; image placeholders as inline SVG. "
    "Reply with the file only, in one ```html code block."
)
_END = object()


def _image(source: ImageInput, max_side: int) -> Any:
    """Upright 8-bit RGB through the same intake (size limits, EXIF, CMYK) as the sketch pipeline."""
    from PIL import Image

    from seesay.vision import images

    if isinstance(source, Image.Image):
        return source.convert("RGB")
    return Image.fromarray(images.load_image(source, max_side=max_side).rgb)


class _IdQueue:
    """A transformers streamer that hands generated token ids to the consuming thread."""

    def __init__(self) -> None:
        self.items: queue.Queue[Any] = queue.Queue()
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:  # generate() first puts the whole prompt
            self._prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self.items.put(int(token))

    def end(self) -> None:
        self.items.put(_END)


class VisionLanguageModel:
    """One loaded image-text-to-text model; thread-safe, loaded on first use."""

    def __init__(
        self, name: str, device: str = "auto", *, max_new_tokens: int = 2048, max_side: int = 1600
    ) -> None:
        """Resolves ``name`` and checks it is a vision-language model without loading weights."""
        if not name.strip():
            raise ConfigError("vision.vlm_model: empty; set it to a model folder or a cached Hugging Face id")
        self.resolved = resolve.resolve(name)
        if self.resolved.source in ("bundled", "gguf"):
            raise ModelError(
                f"{name} is a text-only GGUF model; vision.vlm_model needs an "
                "image-text-to-text model folder (Qwen2.5-VL, SmolVLM or LLaVA)."
            )
        if self.resolved.source == "hub":
            raise ModelNotFoundError(
                f"Vision model {name} is not on this machine; download it first "
                f"(e.g. `hf download {name}`) or point vision.vlm_model "
                "at a local folder."
            )
        self._check_kind()
        try:
            self.torch_device = pick_device(device)
        except ConfigError as e:
            raise ConfigError(str(e).replace("model.device", "vision.vlm_device")) from None
        self.dtype = pick_dtype("auto", self.torch_device)
        self.params = GenerationParams(max_new_tokens, temperature=0.0, repetition_penalty=1.05)
        self.max_side = max_side
        self.processor: Any = None
        self.model: Any = None
        self._load_lock = threading.Lock()
        self._gen_lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self.resolved.name

    @property
    def device(self) -> str:
        return str(self.torch_device)

    def _check_kind(self) -> None:
        """Fail before reading gigabytes of weights when the folder holds some other kind of model."""
        from transformers import AutoConfig
        from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

        folder = self.resolved.load_dir
        try:
            config = AutoConfig.from_pretrained(folder)
        except (OSError, ValueError, KeyError) as e:
            raise ModelError(f"Cannot read the model config in {folder}: {resolve._first_line(e)}") from e
        if config.model_type not in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
            raise ModelError(
                f"{self.resolved.name} is a {config.model_type!r} model, not an "
                "image-text-to-text (vision-language) model; set vision.vlm_model to e.g. a "
                "Qwen2.5-VL, SmolVLM or LLaVA folder."
            )

    def load(self, progress: Progress | None = None) -> None:
        """Load processor and weights once (bf16 on CUDA, fp32 on CPU); safe to call from any thread."""
        with self._load_lock:
            if self.model is not None:
                return
            from transformers import AutoModelForImageTextToText, AutoProcessor

            resolve.quiet_transformers()
            folder = self.resolved.load_dir
            progress and progress(0.0, f"Loading {self.model_name}…")
            t = time.perf_counter()
            try:
                processor = AutoProcessor.from_pretrained(folder)
                model: Any = AutoModelForImageTextToText.from_pretrained(folder, dtype=self.dtype)
            except (OSError, ValueError, KeyError, RuntimeError) as e:
                why = resolve._first_line(e)
                raise ModelError(f"Cannot load vision model {self.model_name}: {why}") from e
            if getattr(processor, "image_processor", None) is None or not callable(processor):
                raise ModelError(f"{self.model_name} has no image processor; it cannot read sketches.")
            self.model, self.processor = model.to(self.torch_device).eval(), processor
            log.info(
                "loaded vision model %s on %s in %.1f s",
                self.model_name,
                self.device,
                time.perf_counter() - t,
            )
            progress and progress(1.0, f"{self.model_name} ready")

    # --- prompts ----------------------------------------------------------------------------------

    @staticmethod
    def messages(
        *, with_image: bool, instruction: str | None = None, previous_html: str | None = None
    ) -> list[dict[str, Any]]:
        """The conversation for a new page or a revision; no system turn, which some VLM templates lack."""
        if previous_html:
            sketch = "It was made from the attached sketch. " if with_image else ""
            text = (
                f"You are a front-end developer. Here is the current web page. {sketch}\n"
                f"```html\n{previous_html.strip()}\n```\n\n"
                f"Change it as follows: {instruction or 'tidy it up'}\n"
                f"Keep everything else. {RULES}"
            )
        else:
            extra = f"\nAlso: {instruction}" if instruction else ""
            text = (
                "You are a front-end developer. Turn this hand-drawn wireframe (or screenshot) of a "
                "web page into a working page. Keep every text written on it, in the same places."
                f"{extra}\n{RULES}"
            )
        content: list[dict[str, Any]] = [{"type": "image"}] if with_image else []
        content.append({"type": "text", "text": text})
        return [{"role": "user", "content": content}]

    def render_prompt(self, messages: list[dict[str, Any]]) -> str:
        """The prompt text exactly as the model sees it (before image tokens are expanded)."""
        self.load()
        return str(self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))

    # --- generation -------------------------------------------------------------------------------

    def stream_html(
        self,
        image: ImageInput | None = None,
        instruction: str | None = None,
        previous_html: str | None = None,
        params: GenerationParams | None = None,
    ) -> Stream:
        """Stream the model's reply (text deltas); nothing runs until the stream is iterated."""
        if image is None and not previous_html:
            raise EngineError("The vision model needs a sketch or a page to revise.")
        messages = self.messages(
            with_image=image is not None, instruction=instruction, previous_html=previous_html
        )
        return Stream(lambda s: self._generate(s, messages, image, params or self.params))

    def stream_answer(
        self, image: ImageInput, question: str, params: GenerationParams | None = None
    ) -> Stream:
        """A plain answer about the image (an image dropped into a chat), streamed."""
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        return Stream(lambda s: self._generate(s, messages, image, params or self.params))

    def _generate(
        self,
        stream: Stream,
        messages: list[dict[str, Any]],
        image: ImageInput | None,
        params: GenerationParams,
    ) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList

        picture = _image(image, self.max_side) if image is not None else None
        prompt = self.render_prompt(messages)
        inputs = self.processor(
            text=prompt, images=[picture] if picture is not None else None, return_tensors="pt"
        ).to(self.torch_device, self.dtype)
        stream.stats.prompt_tokens = int(inputs["input_ids"].shape[-1])
        stop = threading.Event()  # also set when the consumer walks away from the stream

        class _Cancel(StoppingCriteria):
            def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
                done = stream.cancelled or stop.is_set()
                return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

        ids = _IdQueue()
        tokenizer = getattr(self.processor, "tokenizer", self.processor)
        kwargs: dict[str, Any] = dict(
            inputs,
            max_new_tokens=params.max_new_tokens,
            streamer=ids,
            do_sample=not params.greedy,
            stopping_criteria=StoppingCriteriaList([_Cancel()]),
            repetition_penalty=params.repetition_penalty,
            pad_token_id=tokenizer.eos_token_id if tokenizer.pad_token_id is None else tokenizer.pad_token_id,
        )
        if not params.greedy:
            kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k)
        else:  # a model's generation_config may ask for sampling; silence its warnings
            kwargs.update(temperature=None, top_p=None, top_k=None)
        failure: list[BaseException] = []

        def work() -> None:
            try:
                with self._gen_lock, torch.inference_mode():
                    if params.seed >= 0:
                        torch.manual_seed(params.seed)
                    self.model.generate(**kwargs)
            except BaseException as e:  # reported on the consuming thread
                failure.append(e)
            finally:
                ids.end()

        thread = threading.Thread(target=work, name="seesay-vlm", daemon=True)
        thread.start()
        text = IncrementalDecoder(tokenizer)
        try:
            while (token := ids.items.get()) is not _END:
                if stream.stats.first_token_at is None:
                    stream.stats.first_token_at = time.perf_counter()
                stream.stats.completion_tokens += 1
                if delta := text.push(token):
                    yield delta
            if tail := text.flush():
                yield tail
        finally:
            stop.set()
            thread.join(timeout=5)
        if failure:
            raise EngineError(f"The vision model failed: {resolve._first_line(failure[0])}") from failure[0]
        done = stream.stats.completion_tokens
        stream.stats.finish_reason = (
            "cancelled" if stream.cancelled else "length" if done >= params.max_new_tokens else "stop"
        )
        stream.stats.finished_at = time.perf_counter()

    def page(
        self,
        image: ImageInput | None = None,
        *,
        instruction: str | None = None,
        previous_html: str | None = None,
        labels: Sequence[str] = (),
        min_kept: float = 0.5,
        params: GenerationParams | None = None,
        on_delta: Callable[[str], None] | None = None,
    ) -> tuple[str | None, list[str]]:
        """(validated page or None, problems): generate, extract the HTML, check it like any model page.

        ``min_kept`` is lenient for new pages because OCR and the model can read handwriting
        differently; it still catches a page that has nothing to do with the sketch.
        """
        stream = self.stream_html(image, instruction, previous_html, params)
        reply = []
        for delta in stream:
            reply.append(delta)
            if on_delta:
                on_delta(delta)
        candidate = validation.extract_html("".join(reply))
        if candidate is None:
            cut = " (cut off at the token limit)" if stream.stats.finish_reason == "length" else ""
            return None, [f"no complete HTML page in the reply{cut}"]
        problems = validation.validate(candidate, labels, min_kept=min_kept)
        if not problems and previous_html and candidate.strip() == previous_html.strip():
            problems = ["the page came back unchanged"]
        return (None, problems) if problems else (candidate, [])

    def sketch_page(
        self,
        image: ImageInput,
        fallback: str,
        labels: Sequence[str] = (),
        on_delta: Callable[[str], None] | None = None,
    ) -> page_html.PageResult:
        """The model's page for a sketch, or ``fallback`` (the offline page) when it is unusable."""
        page, problems = self.page(image, labels=labels, on_delta=on_delta)
        if page is not None:
            return page_html.PageResult(page, "vlm", [f"page drawn by {self.model_name}"])
        log.info("vision model page rejected: %s", problems)
        why = "; ".join(problems)
        return page_html.PageResult(
            fallback, "layout", [f"vision model page rejected ({why}); kept the page from the sketch"]
        )

    def revise_page(
        self,
        page: str,
        instruction: str,
        image: ImageInput | None = None,
        fallback: Callable[[], page_html.PageResult] | None = None,
    ) -> page_html.PageResult:
        """Send the current page, the instruction (and the sketch) back; ``fallback`` when rejected."""
        removing = re.search(r"\b(remove|delete|drop|without|rename|replace)\b", instruction, re.I)
        revised, problems = self.page(
            image,
            instruction=instruction,
            previous_html=page,
            labels=validation.page_labels(page),
            min_kept=0.6 if removing else 1.0,
        )
        if revised is not None:
            return page_html.PageResult(revised, "vlm", [f"revised by {self.model_name}: {instruction}"])
        log.info("vision model revision rejected: %s", problems)
        result = fallback() if fallback else page_html.PageResult(page, "unchanged", [])
        result.notes.insert(0, "vision model revision rejected (" + "; ".join(problems) + ")")
        return result


_cache: dict[tuple[str, str, int, int], VisionLanguageModel] = {}
_cache_lock = threading.Lock()


def for_settings(settings: Any) -> VisionLanguageModel | None:
    """The configured model, shared across calls (loading costs seconds to minutes); None when unset."""
    v = settings.vision
    if not v.vlm_model.strip():
        return None
    key = (str(Path(v.vlm_model).expanduser()), v.vlm_device, v.vlm_max_new_tokens, v.max_side)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = VisionLanguageModel(
                v.vlm_model, v.vlm_device, max_new_tokens=v.vlm_max_new_tokens, max_side=v.max_side
            )
        return _cache[key]
