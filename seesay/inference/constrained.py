"""JSON-schema and grammar constrained sampling for the transformers path, with llguidance.

llama.cpp constrains its own sampling; on the torch path the same library (llguidance,
which llama.cpp also builds in) masks, before each token, every token that would make
the output break the schema or grammar, so even a small model's reply always parses.
The reply ends when the grammar is complete: after that only end-of-sequence is allowed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from seesay.errors import InputError
from seesay.inference.engine import GenerationParams

if TYPE_CHECKING:
    import torch


# One-line JSON with a space after separators: free whitespace would let a weak model spend its
# whole token budget on newlines inside a valid but unfinished object.
JSON_LAYOUT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def grammar_of(params: GenerationParams) -> str | None:
    """The llguidance grammar for the params' schema or grammar, None when unconstrained.

    Checked here, because llama.cpp runs a request whose constraint it cannot compile as
    if it had none: an invalid schema must be an error, never silently free text.
    """
    from llguidance import LLMatcher, grammar_from

    try:
        if params.json_schema is not None:
            schema = json.dumps(dict(params.json_schema) or {"type": "object"})
            grammar = LLMatcher.grammar_from_json_schema(schema, defaults=JSON_LAYOUT)  # type: ignore[arg-type]
        elif params.grammar:
            grammar = grammar_from("grammar", params.grammar)
        else:
            return None
    except ValueError as e:
        raise InputError(f"The output constraint is not valid: {e}") from e
    is_error, messages = LLMatcher.validate_grammar_with_warnings(grammar)
    if is_error:
        raise InputError(f"The output constraint is not valid: {messages[0]}")
    return grammar


class Constraint:
    """One reply's matcher: ``mask`` the logits, then ``consume`` the chosen token."""

    def __init__(self, lltokenizer: Any, grammar: str, vocab_size: int) -> None:
        from llguidance import LLMatcher
        from llguidance.torch import allocate_token_bitmask

        is_error, messages = LLMatcher.validate_grammar_with_warnings(grammar, lltokenizer)
        if is_error:
            raise InputError(f"The output constraint is not valid: {messages[0]}")
        self.matcher = LLMatcher(lltokenizer, grammar, log_level=0)
        self.bitmask = allocate_token_bitmask(1, vocab_size)
        self.vocab_size = vocab_size

    def mask(self, logits: torch.Tensor) -> torch.Tensor:
        """The logits with every token the grammar forbids at -inf (a new tensor)."""
        from llguidance.torch import apply_token_bitmask_inplace, fill_next_token_bitmask

        fill_next_token_bitmask(self.matcher, self.bitmask, 0)
        out = logits.float().cpu().clone()
        apply_token_bitmask_inplace(out, self.bitmask[0])
        return out

    def consume(self, token: int) -> None:
        if not self.matcher.consume_token(token) and self.matcher.is_error():
            raise InputError(f"The constrained reply went wrong: {self.matcher.get_error()}")


def lltokenizer_for(tokenizer: Any, vocab_size: int, eos_ids: set[int]) -> Any:
    """llguidance's view of a Hugging Face fast tokenizer (about a second to build: cache it)."""
    from llguidance.hf import from_tokenizer

    return from_tokenizer(tokenizer, n_vocab=vocab_size, eos_token=sorted(eos_ids))
