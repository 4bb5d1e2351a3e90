"""Where user data lives: the platform's config, data and cache dirs, never the repo.

Tests and portable installs point these elsewhere with the XDG variables (Linux) or
``SEESAY_HOME``, which puts all three under one folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "seesay"


def _base(kind: str) -> Path:
    home = os.environ.get("SEESAY_HOME")
    if home:
        return Path(home) / kind
    getter = {
        "config": platformdirs.user_config_dir,
        "data": platformdirs.user_data_dir,
        "cache": platformdirs.user_cache_dir,
    }[kind]
    return Path(getter(APP, appauthor=False))


def config_dir() -> Path:
    return _base("config")


def data_dir() -> Path:
    return _base("data")


def cache_dir() -> Path:
    return _base("cache")
