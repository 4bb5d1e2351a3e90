"""Where user data lives: the platform's config, data and cache dirs, never the repo.

Tests and portable installs point these elsewhere with the XDG variables (Linux) or
``SEESAY_HOME``, which puts all three under one folder.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import platformdirs

APP = "seesay"

log = logging.getLogger(__name__)


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


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (and missing parents) as 0700; tighten it if it is one of ours.

    Conversations, settings and the API key are personal: other accounts on the machine
    must not be able to list or read them, whatever the umask says. A folder the user
    chose for a file (``server.api_key_file``) is created private but never re-moded.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder in (config_dir(), data_dir(), cache_dir()):
        tighten(folder)
    return folder


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists as a 0600 file before anything (SQLite, a writer) opens it.

    SQLite creates its WAL and shared-memory files with the database's own mode, so
    creating the database 0600 first keeps all three private.
    """
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        tighten(path)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text`` as a 0600 file (a crash leaves the old one)."""
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)  # a leftover .tmp keeps its old mode through O_CREAT
    os.replace(tmp, path)


def tighten(path: Path) -> None:
    """Drop the group and other bits of a path we own; another account's is left alone."""
    try:
        st = path.stat()
    except OSError:
        return
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077 == 0:
        return
    if st.st_uid != os.getuid():
        log.warning("%s is readable by other users and is not ours to change", path)
        return
    log.warning("%s was readable by other users (mode %o); tightening it", path, mode)
    path.chmod(mode & 0o700)
