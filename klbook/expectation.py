"""Expected values and Monte Carlo estimates of KL (chapter 2)."""

from __future__ import annotations

__all__: list[str] = []
