"""Gaussian KL in closed form and the mixture used for forward and reverse KL (chapter 5)."""

from __future__ import annotations

__all__: list[str] = []
