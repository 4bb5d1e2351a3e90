"""Python's cyclic garbage collector, run on the GUI thread only."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadCollector(QObject):
    """Run Python's cyclic garbage collector on the GUI thread only.

    Automatic collection runs in whichever thread happens to allocate, and the engine
    thread allocates a lot. If it collects a cycle that holds a Qt widget, the widget's
    C++ destructor runs off the GUI thread and the process segfaults (seen in tests: a
    closed window collected during a model load). So automatic collection is switched
    off and this timer collects, generation by generation, from the GUI thread.
    """

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(interval_ms)
        gc.disable()

    def check(self) -> None:
        first, second, third = gc.get_count()
        if first <= self._thresholds[0]:
            return
        generation = 0
        if second > self._thresholds[1]:
            generation = 2 if third > self._thresholds[2] else 1
        gc.collect(generation)

    def uninstall(self) -> None:
        """Back to Python's automatic collection (tests that share the process need it)."""
        self._timer.stop()
        gc.enable()
        gc.collect()
