"""A lean, cache-preallocated decode path for Llama-family models.

``model.generate`` spends most of a small model's step in Python: cache objects,
logits processors, masks rebuilt each token. This runs the same weights through a
few fused matmuls per layer with a static KV cache, and on CUDA each step is
captured in a CUDA graph, so a step costs what reading the weights costs.
Numerics follow the transformers implementation op for op (fp32 RMSNorm, the
model's own rotary tables), so greedy output matches ``generate`` token for token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

log = logging.getLogger(__name__)

SUPPORTED = {"llama", "mistral", "qwen2", "qwen3"}


class Dense:
    """A plain matmul with the model's own weights (the exact path)."""

    def __init__(self, weight: Tensor, bias: Tensor | None = None) -> None:
        self.weight, self.bias = weight, bias

    def __call__(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)


@dataclass
class _Layer:
    in_norm: Tensor
    qkv: Dense
    q_norm: Tensor | None
    k_norm: Tensor | None
    o: Dense
    post_norm: Tensor
    gate_up: Dense
    down: Dense


def supports(model: Any) -> bool:
    cfg = model.config
    return (
        getattr(cfg, "model_type", "") in SUPPORTED
        and getattr(cfg, "hidden_act", "silu") == "silu"
        and not getattr(cfg, "mlp_bias", False)
        and not getattr(cfg, "sliding_window", None)
        and (getattr(cfg, "rope_parameters", None) or {}).get("rope_type", "default") == "default"
    )


class LeanDecoder:
    """Runs prefill and single-token steps over a static KV cache of ``max_len`` positions."""

    def __init__(self, model: Any, max_len: int) -> None:
        """``model``: a transformers causal LM of a supported family (typed loosely: its modules
        are reached by attribute)."""
        cfg = model.config
        self.model = model
        self.device = model.device
        self.dtype = model.dtype
        self.n_heads = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_heads
        self.eps = cfg.rms_norm_eps
        self.max_len = max_len
        inner = model.model
        self.embed = inner.embed_tokens.weight
        self.final_norm = inner.norm.weight
        self.lm_head = Dense(model.lm_head.weight)
        self.layers = [self._fuse(layer) for layer in inner.layers]
        positions = torch.arange(max_len, device=self.device).unsqueeze(0)
        probe = torch.zeros(1, device=self.device, dtype=self.dtype)
        with torch.no_grad():
            cos, sin = inner.rotary_emb(probe, positions)
        self.cos, self.sin = cos[0], sin[0]  # [max_len, head_dim]
        shape = (len(self.layers), 1, self.n_kv, max_len, self.head_dim)
        self.k_cache = torch.zeros(shape, device=self.device, dtype=self.dtype)
        self.v_cache = torch.zeros(shape, device=self.device, dtype=self.dtype)
        self.scale = self.head_dim**-0.5
        self._graph: _GraphStep | None = None

    def _fuse(self, layer: Any) -> _Layer:
        attn, mlp = layer.self_attn, layer.mlp
        qkv = torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight]).contiguous()
        bias = None
        if attn.q_proj.bias is not None:
            bias = torch.cat([attn.q_proj.bias, attn.k_proj.bias, attn.v_proj.bias]).contiguous()
        return _Layer(
            in_norm=layer.input_layernorm.weight,
            qkv=Dense(qkv, bias),
            q_norm=getattr(getattr(attn, "q_norm", None), "weight", None),
            k_norm=getattr(getattr(attn, "k_norm", None), "weight", None),
            o=Dense(attn.o_proj.weight),
            post_norm=layer.post_attention_layernorm.weight,
            gate_up=Dense(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]).contiguous()),
            down=Dense(mlp.down_proj.weight),
        )

    def _norm(self, x: Tensor, weight: Tensor) -> Tensor:
        x32 = x.to(torch.float32)
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return weight * x32.to(x.dtype)

    @staticmethod
    def _rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rotated * sin

    def _block(
        self,
        layer: _Layer,
        h: Tensor,
        cos: Tensor,
        sin: Tensor,
        attend: Callable[[Tensor, Tensor, Tensor], Tensor],
    ) -> Tensor:
        """One transformer layer; ``attend(q, k, v)`` stores k/v in the cache and attends."""
        n = h.shape[1]
        hq, hk, d = self.n_heads, self.n_kv, self.head_dim
        qkv = layer.qkv(self._norm(h, layer.in_norm)).view(1, n, hq + 2 * hk, d)
        qk = qkv[:, :, : hq + hk]
        if layer.q_norm is not None and layer.k_norm is not None:  # Qwen3 normalises q and k
            qk = torch.cat(
                [self._norm(qk[:, :, :hq], layer.q_norm), self._norm(qk[:, :, hq:], layer.k_norm)], dim=2
            )
        qk = self._rope(qk.transpose(1, 2), cos, sin)  # q and k heads rotated in one pass
        a = attend(qk[:, :hq], qk[:, hq:], qkv[:, :, hq + hk :].transpose(1, 2))
        h = h + layer.o(a.transpose(1, 2).reshape(1, n, hq * d))
        gate, up = layer.gate_up(self._norm(h, layer.post_norm)).chunk(2, dim=-1)
        return h + layer.down(F.silu(gate) * up)

    def _logits(self, h: Tensor, all_logits: bool) -> Tensor:
        rows = h[0] if all_logits else h[:, -1]
        logits = self.lm_head(self._norm(rows, self.final_norm)).float()
        return logits if all_logits else logits[0]

    @torch.no_grad()
    def forward(self, ids: Tensor, start: int, *, all_logits: bool = False) -> Tensor:
        """Feed ``ids`` ([T]) at positions start..start+T-1.

        Returns fp32 logits of the last position ([V]), or of every position ([T, V])
        when ``all_logits``.
        """
        n = ids.shape[0]
        end = start + n
        if end > self.max_len:
            raise ValueError(f"position {end} is past the cache ({self.max_len})")
        causal = n > 1
        mask = None
        if causal and start > 0:
            mask = torch.ones(n, end, dtype=torch.bool, device=self.device).tril(start)
            causal = False
        h = F.embedding(ids, self.embed).unsqueeze(0).to(self.dtype)  # [1, T, H]
        for i, layer in enumerate(self.layers):

            def attend(q: Tensor, k: Tensor, v: Tensor, i: int = i) -> Tensor:
                self.k_cache[i, :, :, start:end] = k
                self.v_cache[i, :, :, start:end] = v
                return F.scaled_dot_product_attention(
                    q,
                    self.k_cache[i, :, :, :end],
                    self.v_cache[i, :, :, :end],
                    attn_mask=mask,
                    is_causal=causal,
                    scale=self.scale,
                    enable_gqa=True,
                )

            h = self._block(
                layer, h, self.cos[start:end].unsqueeze(0), self.sin[start:end].unsqueeze(0), attend
            )
        return self._logits(h, all_logits)

    def step(self, token: int, pos: int) -> Tensor:
        """One decode step; on CUDA a captured graph replays it without Python overhead."""
        if self.device.type == "cuda":
            if self._graph is None:
                self._graph = _GraphStep(self)
            return self._graph(token, pos)
        return self.forward(torch.tensor([token], device=self.device), pos)

    @torch.no_grad()
    def _static_step(self, ids: Tensor, pos: Tensor) -> Tensor:
        """Shape-static single-token step (mask over the whole cache) for graph capture."""
        cos = self.cos.index_select(0, pos).unsqueeze(0)
        sin = self.sin.index_select(0, pos).unsqueeze(0)
        mask = (torch.arange(self.max_len, device=self.device) <= pos).view(1, 1, 1, -1)
        h = F.embedding(ids, self.embed).unsqueeze(0).to(self.dtype)
        for i, layer in enumerate(self.layers):

            def attend(q: Tensor, k: Tensor, v: Tensor, i: int = i) -> Tensor:
                self.k_cache[i].index_copy_(2, pos, k)
                self.v_cache[i].index_copy_(2, pos, v)
                return F.scaled_dot_product_attention(
                    q, self.k_cache[i], self.v_cache[i], attn_mask=mask, scale=self.scale, enable_gqa=True
                )

            h = self._block(layer, h, cos, sin, attend)
        return self._logits(h, False)


class _GraphStep:
    """A CUDA graph of one decode step; inputs are copied into static buffers."""

    def __init__(self, dec: LeanDecoder) -> None:
        self.ids = torch.zeros(1, dtype=torch.long, device=dec.device)
        self.pos = torch.zeros(1, dtype=torch.long, device=dec.device)
        k_saved, v_saved = dec.k_cache.clone(), dec.v_cache.clone()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(2):
                dec._static_step(self.ids, self.pos)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = dec._static_step(self.ids, self.pos)
        dec.k_cache.copy_(k_saved)
        dec.v_cache.copy_(v_saved)

    def __call__(self, token: int, pos: int) -> Tensor:
        self.ids.fill_(token)
        self.pos.fill_(pos)
        self.graph.replay()
        return self.out
