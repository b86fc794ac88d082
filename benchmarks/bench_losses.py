"""klbook's cross-entropy loss against scipy (and PyTorch, if installed).

``cross_entropy_loss`` on (4096, 1000) float64 logits with integer class
targets, against the loss written with scipy,
``-scipy.special.log_softmax(logits, axis=-1)[arange, y].mean()``, which does
no input checks at all. klbook checks the logits (NaN, +inf) and the targets
(integer, in range), so the question is what that costs. Goal: klbook no
slower than scipy (ratio ≤ 1). Label smoothing (ε = 0.1) and ``softmax`` are
timed the same way. If ``torch`` is importable, ``torch.nn.functional.
cross_entropy`` on the same float64 data (CPU, tensors made outside the
timing) is reported too, for scale.

Run on its own (``.venv/bin/python benchmarks/bench_losses.py [--quick]``) it
prints its table; ``benchmarks/run.py`` collects it into the report.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special
from run import Row, Section, interleaved, median, spread

import klbook.losses

SHAPE = (4096, 1000)
SEED = 20260404
SIZE = f"{SHAPE[0]}×{SHAPE[1]} float64 logits"
EPS = 0.1


def data() -> tuple[np.ndarray, np.ndarray]:
    """Logits of a typical spread (normal, sd 3) and uniform random class indices."""
    rng = np.random.default_rng(SEED)
    logits = rng.normal(scale=3.0, size=SHAPE)
    y = rng.integers(0, SHAPE[1], size=SHAPE[0])
    return logits, y


def cases(z: np.ndarray, y: np.ndarray) -> dict[str, tuple[Callable[[], Any], dict[str, Any]]]:
    """For each klbook call: the call, and its peers by label."""
    special = scipy.special
    rows = np.arange(z.shape[0])
    out: dict[str, tuple[Callable[[], Any], dict[str, Any]]] = {
        "cross_entropy_loss(z, y)": (
            lambda: klbook.losses.cross_entropy_loss(z, y),
            {
                "-log_softmax(z)[arange, y].mean()": lambda: (
                    -special.log_softmax(z, axis=-1)[rows, y].mean()
                )
            },
        ),
        f"cross_entropy_loss(z, y, label_smoothing={EPS})": (
            lambda: klbook.losses.cross_entropy_loss(z, y, label_smoothing=EPS),
            {"scipy log_softmax, smoothed by hand": lambda: _scipy_smoothed(z, y, rows)},
        ),
        "softmax(z)": (
            lambda: klbook.losses.softmax(z),
            {"scipy.special.softmax(z, axis=-1)": lambda: special.softmax(z, axis=-1)},
        ),
    }
    torch_peers = _torch_peers(z, y)
    for name, peer in torch_peers.items():
        out[name][1].update(peer)
    return out


def _scipy_smoothed(z: np.ndarray, y: np.ndarray, rows: np.ndarray) -> float:
    log_q = scipy.special.log_softmax(z, axis=-1)
    return float(-((1 - EPS) * log_q[rows, y] + EPS * log_q.mean(axis=-1)).mean())


def _torch_peers(z: np.ndarray, y: np.ndarray) -> dict[str, dict[str, Callable[[], Any]]]:
    try:
        import torch  # type: ignore[import-not-found]
    except ImportError:
        return {}
    functional = torch.nn.functional
    zt, yt = torch.from_numpy(z), torch.from_numpy(y)
    return {
        "cross_entropy_loss(z, y)": {
            "torch F.cross_entropy": lambda: functional.cross_entropy(zt, yt).item()
        },
        f"cross_entropy_loss(z, y, label_smoothing={EPS})": {
            "torch F.cross_entropy (smoothed)": lambda: functional.cross_entropy(
                zt, yt, label_smoothing=EPS
            ).item()
        },
    }


def run(quick: bool = False) -> Section:
    """Time klbook's loss and softmax against their peers, interleaved, medians."""
    repeats = 9 if quick else 31
    z, y = data()
    section = Section("Cross-entropy loss (`klbook.losses`)")
    spreads = []
    for name, (ours, peers) in cases(z, y).items():
        times = interleaved({"klbook": ours, **peers}, repeats)
        ours_s = median(times["klbook"])
        spreads.append(f"`{name}` {spread(times['klbook'])}")
        mine = np.asarray(ours())
        for label, peer in peers.items():
            err = float(np.max(np.abs(mine - np.asarray(peer()))))
            section.rows.append(
                Row(
                    what=f"`klbook.{name}`",
                    size=SIZE,
                    subject_s=ours_s,
                    peer=f"`{label}`",
                    peer_s=median(times[label]),
                    goal=None if label.startswith("torch") else 1.0,
                    repeats=repeats,
                    note=f"max |difference| {err:.1e}",
                )
            )
    section.notes += [
        f"Data: {SIZE}, normal with sd 3, class indices uniform over the "
        f"{SHAPE[1]} classes, seed {SEED}. Each cell is the median of {repeats} interleaved "
        "repeats after one warm-up round. The scipy peers do no input validation; klbook "
        "checks NaN and +inf through the row maxima it needs anyway, and the class indices "
        "through their min and max, so validation costs no extra pass over the logits.",
        "",
        "Agreement with the peers (max absolute difference of the results): "
        + "; ".join(f"{r.what} vs {r.peer}: {r.note}" for r in section.rows)
        + ".",
        "",
        "Spread of klbook's repeats: " + "; ".join(spreads) + ".",
    ]
    if not any(r.peer.startswith("`torch") for r in section.rows):
        section.notes += ["", "PyTorch is not installed here, so it is not compared."]
    return section


if __name__ == "__main__":
    from run import render_section

    print(render_section(run(quick="--quick" in sys.argv)))
