"""The speculative draft in its own process, guessing on the second core.

On a thread the draft and the exact model fight over the GIL: measured on two cores,
a verification pass slows from 42 to 58 ms and a draft step from 16 to 22 ms. As a
process each runs at full speed. The protocol is small: the verifier tells the draft
what is verified ("sync", with an epoch), the draft streams guesses back tagged with
the epoch and position they extend, and after each sync it states which of its
earlier guesses it kept, so both sides always agree on one list.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import threading
import time
from dataclasses import asdict
from typing import Any

import torch

from seesay.inference.decoder import LeanDecoder
from seesay.inference.engine import GenerationParams
from seesay.inference.generate import MAX_AHEAD, GuessBuffer, advance, kept_guesses
from seesay.inference.sampling import Sampler, penalize

log = logging.getLogger(__name__)


class DraftProcess:
    """A child process holding the int8 draft of the model in ``load_dir``."""

    def __init__(self, load_dir: str, max_len: int, calibration: str) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_child, args=(child, load_dir, max_len, calibration),
                                   name="seesay-draft", daemon=True)
        self.process.start()
        child.close()
        self.lock = threading.Lock()  # one generation at a time owns the pipe

    def wait_ready(self, timeout: float = 120.0, abandon: threading.Event | None = None) -> bool:
        """True once the draft is built; False on failure, timeout or ``abandon`` (exit)."""
        deadline = time.monotonic() + timeout
        try:
            while not self.conn.poll(0.1):
                if time.monotonic() > deadline or (abandon is not None and abandon.is_set()):
                    return False
            return self.conn.recv() == ("ready",)
        except (EOFError, OSError):  # the child died (or was stopped at exit)
            return False

    def session(self, params: GenerationParams, eos_ids: set[int], limit: int) -> RemoteDrafter:
        return RemoteDrafter(self, params, eos_ids, limit)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # already gone
            self.conn.send(("quit",))
        self.process.join(timeout=0.5)  # it keeps nothing worth waiting for
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


class RemoteDrafter(GuessBuffer):
    """The verifier's side of one generation: same interface as the thread drafter."""

    def __init__(self, owner: DraftProcess, params: GenerationParams, eos_ids: set[int], limit: int) -> None:
        super().__init__()
        self.owner = owner
        self.conn = owner.conn
        self.epoch = 0
        owner.lock.acquire()
        self.conn.send(("begin", asdict(params), sorted(eos_ids), limit))
        self.reader = threading.Thread(target=self._read, name="seesay-draft-reader", daemon=True)
        self._started = False

    def start(self) -> None:
        self.reader.start()
        self._started = True

    def sync(self, seq: list[int]) -> None:
        with self.cond:
            self.epoch += 1
            self.resync(seq)
            self.conn.send(("sync", self.epoch, self.base))

    def stop(self) -> None:
        try:
            self.conn.send(("end",))
            if self._started:
                self.reader.join(timeout=5)
        finally:
            self.owner.lock.release()

    def join(self) -> None:  # the thread drafter's interface
        pass

    def _read(self) -> None:
        try:
            while True:
                msg = self.conn.recv()
                kind = msg[0]
                if kind == "ended":
                    return
                with self.cond:
                    if kind == "error":
                        self.error = RuntimeError(f"speculative draft failed: {msg[1]}")
                    elif kind == "state" and msg[1] == self.epoch:
                        self.guesses, self.probs = list(msg[2]), [_dense(p) for p in msg[3]]
                    elif (kind == "guess" and msg[1] == self.epoch
                          and msg[2] == len(self.base) + len(self.guesses)):
                        self.guesses.append(msg[3])
                        self.probs.append(_dense(msg[4]))
                    self.cond.notify_all()
        except (EOFError, OSError) as e:
            with self.cond:
                self.error = RuntimeError(f"speculative draft process ended: {e}")
                self.cond.notify_all()


def _sparse(probs: torch.Tensor | None) -> Any:
    """Top-k/top-p leave few non-zero probabilities: send those, not 49k floats."""
    if probs is None:
        return None
    idx = probs.nonzero().squeeze(-1)
    return (probs.shape[-1], idx.numpy(), probs[idx].numpy())


def _dense(packed: Any) -> torch.Tensor | None:
    if packed is None:
        return None
    size, idx, values = packed
    out = torch.zeros(size)
    out[torch.from_numpy(idx)] = torch.from_numpy(values)
    return out


def _child(conn: Any, load_dir: str, max_len: int, calibration: str) -> None:
    """The draft process: build the int8 draft, then guess for whoever is generating."""
    torch.set_num_threads(1)
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from seesay.inference.decoder import activation_scales

    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(load_dir)
        model = AutoModelForCausalLM.from_pretrained(load_dir, dtype=torch.float32).eval()
        ids = torch.tensor(tokenizer(calibration)["input_ids"])
        draft = LeanDecoder(model, max_len, act_scales=activation_scales(model, ids))
        del model
        conn.send(("ready",))
    except Exception as e:  # the parent decodes without a draft
        conn.send(("failed", str(e)))
        return
    try:
        _serve(conn, draft)
    except (EOFError, OSError, KeyboardInterrupt):  # the parent went away
        return


def _can_draft(base: list[int], guesses: list[int], eos: set[int], limit: int) -> bool:
    return (bool(base) and len(guesses) < MAX_AHEAD and not (guesses and guesses[-1] in eos)
            and len(base) + len(guesses) < limit)


def _serve(conn: Any, draft: LeanDecoder) -> None:
    fed: list[int] = []
    logits: torch.Tensor | None = None
    while True:
        msg = conn.recv()
        if msg[0] == "quit":
            return
        if msg[0] != "begin":
            continue
        params = GenerationParams(**{**msg[1], "stop": tuple(msg[1]["stop"])})
        eos, limit = set(msg[2]), msg[3]
        sampler = Sampler(params)
        epoch, base, guesses, probs = 0, [], [], []
        active = True
        while active:
            while (not _can_draft(base, guesses, eos, limit) and active) or conn.poll():
                msg = conn.recv()
                if msg[0] == "end":
                    active = False
                    conn.send(("ended",))
                    break
                if msg[0] == "quit":
                    conn.send(("ended",))
                    return
                if msg[0] == "sync":
                    epoch, seq = msg[1], msg[2]
                    guesses, probs = kept_guesses(base, guesses, probs, seq)
                    base = list(seq)
                    conn.send(("state", epoch, guesses, probs))
            if not active:
                break
            snapshot = base + guesses
            try:
                fed, logits = advance(draft, fed, logits, snapshot, lambda: False)
                history = torch.tensor(snapshot)
                dist = sampler.distribution(logits, history)
                if dist is None:
                    guess = int(penalize(logits, history, params.repetition_penalty).argmax())
                else:
                    guess = sampler.draw(dist)
            except Exception as e:
                conn.send(("error", str(e)))
                continue
            packed = _sparse(dist)
            guesses.append(guess)
            probs.append(packed)
            conn.send(("guess", epoch, len(snapshot), guess, packed))
