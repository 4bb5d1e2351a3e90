"""The status bar: model state (with load progress), model and device, speed of the last reply."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QStatusBar


class StatusPanel:
    """Owns the status bar's widgets; the window calls one method per event."""

    def __init__(self, bar: QStatusBar) -> None:
        self.state = QLabel("Starting…")
        self.state.setObjectName("modelState")
        widest = self.state.fontMetrics().horizontalAdvance("Loading model… 100%")
        self.state.setMinimumWidth(widest + 16)  # no jitter (or clipping) as the percentage grows
        self.progress = QProgressBar()
        self.progress.setObjectName("loadProgress")
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(120)
        self.progress.hide()
        self.model = QLabel("")
        self.model.setObjectName("modelName")
        # A long model path or device name is cut at the window's edge (the tooltip has it
        # whole) rather than holding the window wide.
        self.model.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.model.setMinimumWidth(1)
        self.speed = QLabel("")
        self.speed.setObjectName("replySpeed")
        bar.addWidget(self.state)
        bar.addWidget(self.progress)
        bar.addWidget(self.model, 1)
        bar.addPermanentWidget(self.speed)
        bar.setSizeGripEnabled(False)

    def loading(self, fraction: float, message: str = "") -> None:
        percent = max(0, min(100, round(fraction * 100)))
        self.state.setText(f"Loading model… {percent}%")
        self.state.setToolTip(message)
        self.progress.setValue(percent)
        self.progress.show()

    def ready(self, model_name: str, device: str) -> None:
        self.progress.hide()
        self.state.setText("● Ready")
        self.state.setToolTip("The model is loaded and waiting for a message.")
        self.model.setText(f"{model_name} · {device}")
        self.model.setToolTip(f"Model: {model_name}\nDevice: {device}")

    def failed(self, message: str) -> None:
        self.progress.hide()
        self.state.setText("Model not loaded")
        self.state.setToolTip(message)
        self.model.setText("")

    def generating(self, busy: bool, ready: bool = True) -> None:
        if busy:
            self.state.setText("● Generating…")
            self.speed.setText("")  # the last reply's figures are not this one's
        elif ready:
            self.state.setText("● Ready")

    def reply_stats(self, info: dict[str, Any]) -> None:
        """Tokens/s and time to first token of the last reply."""
        parts = []
        if info.get("tokens_per_s"):
            parts.append(f"{info['tokens_per_s']:.1f} tok/s")
        if info.get("ttft") is not None:
            parts.append(f"first token {info['ttft']:.2f} s")
        if info.get("tokens"):
            parts.append(f"{info['tokens']} tokens")
        self.speed.setText(" · ".join(parts))
