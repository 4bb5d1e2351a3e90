"""The VLM path on a tiny randomly initialised LLaVA (no VLM weights exist offline).

The model is LLaVA-shaped (CLIP vision tower, projector, Llama decoder) at toy size,
saved with a real ``LlavaProcessor`` so loading, prompting, image tokens, streaming
and cancellation run through transformers exactly as with a downloaded model. Its
replies are random tokens, which is what the validation tests want.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from seesay.config import Settings
from seesay.errors import ConfigError, ModelError, ModelNotFoundError
from seesay.inference.engine import GenerationParams, Stream
from seesay.vision import pipeline, revision, vlm
from seesay.vision.vlm import VisionLanguageModel

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}"
    "{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
GOOD_PAGE = (
    "<!DOCTYPE html>\n<html><head><style>body { display: grid; }</style></head>"
    "<body><header><h1>Acme</h1></header><main><button>Sign up</button></main></body></html>"
)


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~100k-parameter LLaVA with a byte-level BPE tokenizer trained here (offline, in ms)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    try:  # transformers >= 5.2x names the PIL backend; older 5.x (the GPU box) falls back itself
        from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil
    except ImportError:
        from transformers import LlavaImageProcessor as LlavaImageProcessorPil  # type: ignore[assignment]

    out = tmp_path_factory.mktemp("tiny-llava")
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    corpus = [VisionLanguageModel.messages(with_image=True)[0]["content"][1]["text"], GOOD_PAGE] * 4
    bpe.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<pad>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<pad>"
    )
    # 32×32 images in 8×8 patches: 16 image tokens (CLS dropped by the "default" strategy).
    processor = LlavaProcessor(
        image_processor=LlavaImageProcessorPil(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
        tokenizer=tokenizer,
        patch_size=8,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=CHAT_TEMPLATE,
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
            projection_dim=32,
        ),
        text_config=LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=16384,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        image_seq_length=16,
        vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(config).eval()
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_vlm(tiny_vlm_dir: Path) -> VisionLanguageModel:
    model = VisionLanguageModel(str(tiny_vlm_dir), "cpu", max_new_tokens=48)
    model.load()
    return model


@pytest.fixture
def sketch() -> Image.Image:
    img = Image.new("RGB", (160, 120), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((10, 10, 150, 30), outline="black", width=2)
    draw.rectangle((40, 70, 120, 95), outline="black", width=2)
    return img


def _canned(model: VisionLanguageModel, reply: str, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Make the model 'say' ``reply``; returns the calls so tests can see what was asked."""
    calls: list[dict[str, Any]] = []

    def stream_html(
        image: Any = None, instruction: Any = None, previous_html: Any = None, params: Any = None
    ) -> Stream:
        calls.append({"image": image, "instruction": instruction, "previous_html": previous_html})

        def deltas(_: Stream) -> Iterator[str]:
            yield from (reply[i : i + 7] for i in range(0, len(reply), 7))

        return Stream(deltas)

    monkeypatch.setattr(model, "stream_html", stream_html)
    return calls


def test_loads_through_image_text_to_text_classes(tiny_vlm: VisionLanguageModel) -> None:
    assert type(tiny_vlm.model).__name__ == "LlavaForConditionalGeneration"
    assert type(tiny_vlm.processor).__name__ == "LlavaProcessor"
    assert tiny_vlm.device == "cpu" and str(tiny_vlm.model.dtype) == "torch.float32"
    tiny_vlm.load()  # a second load is a no-op


def test_streams_deltas_with_stats(tiny_vlm: VisionLanguageModel, sketch: Image.Image) -> None:
    stream = tiny_vlm.stream_html(sketch, params=GenerationParams(max_new_tokens=24, temperature=0.0))
    deltas = list(stream)
    assert len(deltas) >= 2 and all(isinstance(d, str) for d in deltas)
    assert stream.stats.prompt_tokens > 16  # text plus the 16 expanded image tokens
    assert 1 <= stream.stats.completion_tokens <= 24
    assert stream.stats.finish_reason in ("length", "stop")


def test_cancel_stops_within_200_ms(tiny_vlm: VisionLanguageModel, sketch: Image.Image) -> None:
    stream = tiny_vlm.stream_html(sketch, params=GenerationParams(max_new_tokens=8000, temperature=0.0))
    first = threading.Event()
    ended: list[float] = []

    def consume() -> None:
        for _ in stream:
            first.set()
        ended.append(time.perf_counter())

    thread = threading.Thread(target=consume)
    thread.start()
    assert first.wait(30)
    cancelled_at = time.perf_counter()
    stream.cancel()
    thread.join(5)
    assert ended and ended[0] - cancelled_at < 0.2
    assert stream.stats.finish_reason == "cancelled"
    assert stream.stats.completion_tokens < 8000


def test_random_reply_is_rejected_and_offline_page_kept(
    tiny_vlm: VisionLanguageModel, sketch: Image.Image
) -> None:
    offline = "<!DOCTYPE html><html><body><h1>offline</h1></body></html>"
    seen: list[str] = []
    result = tiny_vlm.sketch_page(sketch, offline, labels=["Acme"], on_delta=seen.append)
    assert seen, "the reply should stream through on_delta"
    assert result.html == offline and result.source == "layout"
    assert "rejected" in result.notes[0]


def test_valid_reply_is_extracted_and_unsafe_one_rejected(
    tiny_vlm: VisionLanguageModel, sketch: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    _canned(tiny_vlm, f"Here you go:\n```html\n{GOOD_PAGE}\n```\nEnjoy!", monkeypatch)
    result = tiny_vlm.sketch_page(sketch, "offline", labels=["Acme", "Sign up"])
    assert result.source == "vlm" and result.html == GOOD_PAGE
    leaky = GOOD_PAGE.replace("<main>", '<main><img src="https://example.com/x.png">')
    _canned(tiny_vlm, leaky, monkeypatch)
    result = tiny_vlm.sketch_page(sketch, "offline")
    assert result.html == "offline" and "points outside the page" in result.notes[0]


def test_revision_sends_previous_page_and_instruction(
    tiny_vlm: VisionLanguageModel, sketch: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = GOOD_PAGE.replace("Acme", "Previous Corp")
    messages = tiny_vlm.messages(
        with_image=True, instruction="make the header dark blue", previous_html=previous
    )
    prompt = tiny_vlm.render_prompt(messages)
    assert previous in prompt and "make the header dark blue" in prompt
    assert prompt.count("<image>") == 1 and prompt.endswith("<|im_start|>assistant\n")
    text_only = tiny_vlm.messages(with_image=False, previous_html=previous)
    assert "<image>" not in tiny_vlm.render_prompt(text_only)

    prompts: list[str] = []
    render = tiny_vlm.render_prompt
    monkeypatch.setattr(tiny_vlm, "render_prompt", lambda m: prompts.append(render(m)) or prompts[-1])
    page = revision.apply_rules(previous, "add a footer").html
    ask = "make the header dark blue"
    result = tiny_vlm.revise_page(page, ask, fallback=lambda: revision.apply_instruction(page, ask))
    assert page.strip() in prompts[0] and "make the header dark blue" in prompts[0]
    assert result.source == "rules" and "#1e3a8a" in result.html  # random reply rejected: rules applied
    assert result.notes[0].startswith("vision model revision rejected")


def test_pipeline_routes_generation_and_revision_to_the_vlm(
    tiny_vlm_dir: Path, sketch: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings().replace(
        {"vision.vlm_model": str(tiny_vlm_dir), "vision.vlm_device": "cpu", "vision.vlm_max_new_tokens": 64}
    )
    model = vlm.for_settings(settings)
    assert model is vlm.for_settings(settings)  # loaded once, shared
    calls = _canned(model, GOOD_PAGE, monkeypatch)
    monkeypatch.setattr(pipeline, "analyse_image", lambda *a, **k: _layout())
    result = pipeline.sketch_to_page(b"png", settings)
    assert result.source == "vlm" and result.html == GOOD_PAGE and "vlm" in result.timings
    assert calls[0]["image"] == b"png" and calls[0]["previous_html"] is None

    _canned(model, GOOD_PAGE.replace("<h1>", '<h1 style="color:#1e3a8a">'), monkeypatch)
    revised = pipeline.revise(GOOD_PAGE, "make the title dark blue", settings=settings)
    assert revised.source == "vlm" and "#1e3a8a" in revised.html
    offline = pipeline.revise(GOOD_PAGE, "make the title dark blue", settings=Settings())
    assert offline.source == "rules"


def test_pipeline_keeps_offline_page_when_vlm_unusable(tmp_path: Path) -> None:
    settings = Settings().replace({"vision.vlm_model": str(tmp_path / "missing")})
    notes: list[str] = []
    assert pipeline._vision_model(settings, notes) is None
    assert "does not exist" in notes[0] and "offline pipeline" in notes[0]
    assert vlm.for_settings(Settings()) is None


def test_clear_errors_for_bad_folders(tmp_path: Path, tiny_vlm_dir: Path) -> None:
    from transformers import LlamaConfig

    with pytest.raises(ModelNotFoundError, match="does not exist"):
        VisionLanguageModel(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        VisionLanguageModel(str(tmp_path / "empty"))
    LlamaConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2).save_pretrained(tmp_path / "llm")
    with pytest.raises(ModelError, match="not an image-text-to-text"):
        VisionLanguageModel(str(tmp_path / "llm"))
    with pytest.raises(ModelNotFoundError, match="not on this machine"):
        VisionLanguageModel("nobody/no-such-vlm")
    with pytest.raises(ConfigError, match=r"vision\.vlm_model"):
        VisionLanguageModel("  ")
    with pytest.raises(ConfigError, match=r"vision\.vlm_device"):
        Settings().replace({"vision.vlm_device": "gpu"})
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((tiny_vlm_dir / "config.json").read_text())
    with pytest.raises(ModelError, match="Cannot load vision model"):
        VisionLanguageModel(str(broken), "cpu").load()


@pytest.mark.gpu
def test_bfloat16_on_cuda_streams_and_cancels(tiny_vlm_dir: Path, sketch: Image.Image) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model = VisionLanguageModel(str(tiny_vlm_dir), "cuda")
    model.load()
    assert model.device.startswith("cuda") and model.model.dtype == torch.bfloat16
    stream = model.stream_html(sketch, params=GenerationParams(max_new_tokens=16, temperature=0.0))
    assert stream.text() and stream.stats.completion_tokens >= 1
    stream = model.stream_html(sketch, params=GenerationParams(max_new_tokens=4000, temperature=0.0))
    next(iter(stream))
    t = time.perf_counter()
    stream.cancel()
    rest = list(stream)
    assert time.perf_counter() - t < 0.2 and len(rest) < 50
    assert stream.stats.finish_reason == "cancelled"


def _layout() -> Any:
    """What the offline reader would find in the GOOD_PAGE sketch (skips OCR: not under test here)."""
    from seesay.vision.layout import Layout, Node

    tree = Node(
        "page",
        [0, 0, 160, 120],
        children=[Node("heading", [10, 10, 140, 20], "Acme"), Node("button", [40, 70, 80, 25], "Sign up")],
    )
    return Layout(tree=tree, width=160, height=120)


def test_answers_a_question_about_an_image(tiny_vlm: VisionLanguageModel, sketch: Image.Image) -> None:
    stream = tiny_vlm.stream_answer(
        sketch, "What is in this image?", GenerationParams(max_new_tokens=6, temperature=0.0)
    )
    assert stream.text()
    assert stream.stats.prompt_tokens > 16 and 1 <= stream.stats.completion_tokens <= 6
