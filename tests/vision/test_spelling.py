"""Spelling correction of handwriting OCR, with the real English and Spanish dictionaries."""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import pytest

from seesay.vision import spelling
from seesay.vision.spelling import Accuracy, correct, correct_texts, word_accuracy

WORDS = Path(__file__).resolve().parents[1] / "data" / "sketch_words.json"
ENGLISH = {"en": 0.9, "es": 0.1}
SPANISH = {"en": 0.1, "es": 0.9}


def _sketches_dir() -> Path | None:
    """The development sketches: shared/ sits beside the checkout (or inside it)."""
    root = Path(__file__).resolve().parents[2]
    for base in (root.parent, root):
        folder = base / "shared" / "data" / "sketches-real"
        if (folder / "images").is_dir():
            return folder
    return None


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("Actiou", "Action"),
        ("Scieuce Fictiou", "Science Fiction"),
        ("PRODNCT NAME", "PRODUCT NAME"),
        ("Fiud ovt More", "Find out More"),
        ("Contirmation", "Confirmation"),
        ("Manutacturer", "Manufacturer"),
        ("Descniption", "Description"),
        ("Staudard", "Standard"),
        ("Passwond", "Password"),
        ("Logiu", "Login"),
        ("ChecKovt", "Checkout"),
        ("Wee kly Newsletter", "Weekly Newsletter"),
        ("PRODUCTNAME", "PRODUCT NAME"),
    ],
)
def test_handwriting_misreads_are_corrected(read: str, meant: str) -> None:
    assert correct(read, prior=ENGLISH).text == meant


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("Nambre", "Nombre"),
        ("Tarieta", "Tarjeta"),
        ("Transferencia bancania", "Transferencia bancaria"),
        ("Quiero reaibir noticias", "Quiero recibir noticias"),
        ("torma de pago", "forma de pago"),
        ("Entrades", "Entradas"),
    ],
)
def test_spanish_misreads_are_corrected(read: str, meant: str) -> None:
    assert correct(read, prior=SPANISH).text == meant


@pytest.mark.parametrize(
    "text",
    [
        "Forgot password? Remember me",
        "Proceed to checkout",
        "And your favourite is?",
        "Lorem ipsum dolor sit amet",
        "let's get healthy",
        "Wishlist",
        "Iniciar sesión",
        "Contraseña",
        "Selecciona tu provincia",
        "Quiero recibir noticias",
        "Entradas anteriores",
        "Añadir al carrito",
        "Suscríbete",
    ],
)
def test_correct_words_are_kept(text: str) -> None:
    c = correct(text)
    assert c.text == text and not c.changed and c.fixes == ()


@pytest.mark.parametrize(
    "text",
    [
        "$19.99",
        "14 days - $6.59",
        "10% OFF",
        "Item 1",
        "ana.lopez@correo.es",
        "www.tienda.com",
        "https://example.org/a-b",
        "Tel. 555-0123",
        "FAQ CVV SKU QTY",
        "C# Java PHP",
        "Ok",
    ],
)
def test_numbers_addresses_and_abbreviations_are_kept(text: str) -> None:
    assert correct(text).text == text


def test_capitalisation_follows_the_reading() -> None:
    assert correct("actiou").text == "action"
    assert correct("Actiou").text == "Action"
    assert correct("ACTIOU").text == "ACTION"
    assert correct("ChecKovt").text == "Checkout"  # mixed case goes by its majority


def test_empty_and_letterless_input() -> None:
    for text in ("", "   ", "1.", "$ 8.00", "-"):
        c = correct(text)
        assert c.text == c.raw == text and not c.changed


def test_correction_keeps_the_raw_reading_and_says_what_changed() -> None:
    c = correct("Fiud ovt More, 2 items")
    assert c.raw == "Fiud ovt More, 2 items"
    assert c.text == "Find out More, 2 items"
    assert c.changed
    assert [(f.raw, f.text, f.language) for f in c.fixes] == [("Fiud", "Find", "en"), ("ovt", "out", "en")]
    assert all(0 < f.cost <= 1 for f in c.fixes)


def test_the_sketch_language_decides_between_dictionaries() -> None:
    spanish = ["Forma de envío", "Medio transporte", "Dirección", "Aceptar", "Nambre"]
    prior = spelling.language_prior(spanish)
    assert prior["es"] > 0.8
    assert correct_texts(spanish)[-1].text == "Nombre"
    assert spelling.language_prior(["Shipping address", "First name", "Company"])["en"] > 0.8


def test_word_accuracy_counts_a_bag_of_words() -> None:
    acc = word_accuracy(["Find out More", "Contraseña"], ["Fiud out more", "contrasena", "D"])
    assert (acc.hits, acc.written, acc.read) == (3, 4, 5)
    assert acc.recall == 0.75 and acc.precision == 0.6
    assert word_accuracy(["a a b"], ["a"]).hits == 1  # repeated words count once each
    assert (acc + Accuracy(1, 1, 1)).hits == 4


def test_dictionaries_load_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = spelling._load

    def counting() -> spelling.Lexicon:
        calls.append(1)
        return real()

    monkeypatch.setattr(spelling, "_lexicon", None)
    monkeypatch.setattr(spelling, "_load", counting)
    got: list[spelling.Lexicon] = []
    threads = [threading.Thread(target=lambda: got.append(spelling.lexicon())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(got) == 4 and all(lex is got[0] for lex in got)
    assert got[0].load_s < 10
    assert len(got[0].zipf["en"]) > 100_000 and len(got[0].zipf["es"]) > 50_000


def test_a_sketch_corrects_in_milliseconds() -> None:
    texts = [
        "Cant",
        "Item",
        "QTY",
        "Poice",
        "PRODVCT NAME 1",
        "Descliption",
        "PRODUCTNAME 2",
        "Descniption",
        "subtotal",
        "2 items",
        "Promo Code Edit",
        "10%OFF",
        "TOTAL",
        "PROCEED TO CHECKOUT",
        "SAVE ITEMS",
        "Shippiny Aodress",
        "First IName",
        "Slipping Senice",
        "Stoudard",
        "14 days -$6.59",
        "Exped'ted",
        "Gxpress",
    ]
    spelling.lexicon()
    times = []
    for _ in range(5):
        t = time.perf_counter()
        correct_texts(texts)
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.1  # typically a few ms


def test_transcriptions_are_well_formed() -> None:
    data = json.loads(WORDS.read_text(encoding="utf-8"))
    sketches = {k: v for k, v in data.items() if not k.startswith("_")}
    assert len(sketches) >= 20
    assert all(isinstance(w, str) and w.strip() for v in sketches.values() for w in v)
    assert sum(len(v) for v in sketches.values()) >= 500


@pytest.mark.slow
def test_correction_improves_word_accuracy_on_real_sketches() -> None:
    """OCR of real hand-drawn sketches, words compared with what a person read on them."""
    folder = _sketches_dir()
    if folder is None:
        pytest.skip("shared/data/sketches-real is not here")
    from seesay.vision import images
    from seesay.vision.sketch import observe

    data = json.loads(WORDS.read_text(encoding="utf-8"))
    ids = [k for k in data if not k.startswith("_")][::2]  # half of them: about 40 s of OCR
    before = after = Accuracy(0, 0, 0)
    for sketch_id in ids:
        prepared = images.prepare(images.load_image(folder / "images" / f"{sketch_id}.jpg"))
        readings = observe(prepared).texts  # corrected by the reader, the raw reading kept
        before += word_accuracy(data[sketch_id], [t.raw for t in readings])
        after += word_accuracy(data[sketch_id], [t.text for t in readings])
    assert after.recall >= before.recall + 0.05, (before, after)
    assert after.precision >= before.precision + 0.05, (before, after)
