"""Work-arounds for the PySide6 build we ship against, applied before any widget exists.

PySide6 6.12 on CPython 3.11 drops one reference to ``None`` every time a wrapped C++
method returns nothing (``setText``, ``show``, ``processEvents`` …; measured: -1 per
call). ``None`` starts with a few thousand references, so a streaming chat would abort
with "Fatal Python error: none_dealloc" within seconds. CPython 3.12+ makes ``None``
immortal (PEP 683) and is unaffected; on older versions we give it the same treatment:
a reference count so large that no realistic number of calls can exhaust it.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

# Like PEP 683's immortal refcount: ~10^12 leaked references, i.e. days of a busy UI.
_HEADROOM = 1 << 40


def protect_none() -> bool:
    """Make ``None`` effectively immortal on CPython < 3.12; True when a change was made."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is PyObject's first field
    if refcount.value >= _HEADROOM // 2:
        return False
    refcount.value += _HEADROOM
    log.debug("None made effectively immortal (PySide6 refcount leak work-around)")
    return True
