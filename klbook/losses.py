"""Softmax, log-softmax and the cross-entropy loss computed from logits (chapter 4)."""

from __future__ import annotations

__all__: list[str] = []
