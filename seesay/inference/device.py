"""Choosing where and in what precision a model runs, with no configuration needed."""

from __future__ import annotations

import os

import torch

from seesay.errors import ConfigError


def pick_device(name: str) -> torch.device:
    """``auto`` means CUDA when a GPU is usable, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"model.device: {name!r} was asked for, but no CUDA GPU is usable here "
                "(torch was built without CUDA or no driver is present); use 'auto' or 'cpu'"
            )
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"model.device: {name!r} does not exist; this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
        return torch.device("cuda", index)
    raise ConfigError(f"model.device: expected one of auto, cpu, cuda, cuda:N, got {name!r}")


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    """bfloat16 on GPUs that support it, float32 on the CPU (exact and fastest there)."""
    if name == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({os.cpu_count()} cores)"


def cpu_threads(setting: int, n_params: int) -> int:
    """One thread for small models: their step is bound by memory, and a second thread
    only adds synchronisation (measured on a 2-core machine); all cores for big ones."""
    if setting > 0:
        return setting
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 1 if n_params < 1_000_000_000 else cores
