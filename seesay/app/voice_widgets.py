"""The voice bar's two drawn widgets: the round mic button and the level meter.

Painted rather than styled: the button's halo and the meter follow the microphone level
~30 times a second, which a stylesheet cannot animate.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QSizePolicy, QWidget

from seesay.app import theme


class MicButton(QAbstractButton):
    """A round, checkable microphone button whose halo follows the input level."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("micButton")
        self.setCheckable(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space belongs to push-to-talk on the panel
        self.setFixedSize(56, 56)
        self.colour = QColor(theme.colours().accent)
        self.level = 0.0

    def sizeHint(self) -> QSize:
        return self.size()

    def set_level(self, level: float) -> None:
        self.level = level
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        on = self.isChecked()
        if on and self.level > 0.05:  # halo: louder speech, bigger ring
            halo = QColor(self.colour)
            halo.setAlphaF(min(0.45, 0.15 + self.level * 0.4))
            grow = 4 * min(1.0, self.level * 1.5)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(halo)
            p.drawEllipse(r.adjusted(-grow, -grow, grow, grow))
        c = theme.colours()
        if not self.isEnabled():
            fill, ink = QColor(c.hover), QColor(c.disabled)
        elif on:
            fill, ink = QColor(self.colour), QColor(c.on_accent)
        else:
            fill, ink = QColor(c.surface), QColor(c.text)
            if self.underMouse():
                fill = QColor(c.hover)
        p.setPen(QPen(QColor(c.strong_border), 1) if not on else Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawEllipse(r)
        self._draw_mic(p, r, ink)
        if not self.isEnabled():  # a slash: clearly off, not merely idle
            p.setPen(QPen(ink, 2.2, c=Qt.PenCapStyle.RoundCap))
            c = r.center()
            p.drawLine(QPointF(c.x() - 11, c.y() - 11), QPointF(c.x() + 11, c.y() + 11))

    @staticmethod
    def _draw_mic(p: QPainter, r: QRectF, ink: QColor) -> None:
        c = r.center()
        pen = QPen(ink, 2.2, c=Qt.PenCapStyle.RoundCap)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ink)
        p.drawRoundedRect(QRectF(c.x() - 4.5, c.y() - 12, 9, 15), 4.5, 4.5)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawArc(QRectF(c.x() - 8, c.y() - 6, 16, 14), 180 * 16, 180 * 16)
        p.drawLine(QPointF(c.x(), c.y() + 8), QPointF(c.x(), c.y() + 12))
        p.drawLine(QPointF(c.x() - 5, c.y() + 12), QPointF(c.x() + 5, c.y() + 12))

    def enterEvent(self, event: Any) -> None:
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event: Any) -> None:
        self.update()
        super().leaveEvent(event)


class LevelMeter(QWidget):
    """Microphone level, 0..1, with a quick rise and a slow fall so speech reads steadily."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeter")
        self.setMinimumWidth(60)
        self.setFixedHeight(8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Microphone level")
        self.value = 0.0

    def set_level(self, level: float) -> None:
        level = max(0.0, min(1.0, level))
        self.value = level if level > self.value else self.value * 0.85 + level * 0.15
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(theme.colours().border if self.isEnabled() else theme.colours().hover))
        p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        if self.value > 0.01 and self.isEnabled():
            fill = QRectF(r.x(), r.y(), max(r.height(), r.width() * self.value), r.height())
            grad = QLinearGradient(r.topLeft(), r.topRight())
            grad.setColorAt(0.0, QColor("#2da44e"))
            grad.setColorAt(0.75, QColor("#2da44e"))
            grad.setColorAt(1.0, QColor("#d4a72c"))
            p.setBrush(grad)
            p.drawRoundedRect(fill, r.height() / 2, r.height() / 2)
