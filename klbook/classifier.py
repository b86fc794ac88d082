"""A seeded synthetic data set and a small softmax-regression trainer (chapter 4)."""

from __future__ import annotations

__all__: list[str] = []
