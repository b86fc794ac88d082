"""Seeded simulation of coin and die sequences and their running log ratios (chapter 3)."""

from __future__ import annotations

__all__: list[str] = []
