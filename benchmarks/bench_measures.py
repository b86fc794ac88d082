"""klbook's information measures against scipy on a batch of distributions.

``kl_divergence``, ``entropy`` and ``cross_entropy`` on a (1000, 1000) batch of
valid probability vectors (rows), against scipy's functions for the same
quantity: :func:`scipy.stats.entropy` (normalises, does not validate) and the
bare ``scipy.special`` ufunc summed along the rows (no checks at all). klbook
validates its input (NaN, infinities, negatives, sums), so the question is
what that costs. Goal: klbook no slower than scipy (ratio ≤ 1).

Where the time goes is measured with a line timer (``sys.settrace`` on
klbook's own functions only, so numpy's C loops run untraced): each line's
inclusive median time, and the share spent in ``klbook._validation``.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType, ModuleType
from typing import Any

import numpy as np
import scipy.special
import scipy.stats
from run import Row, Section, fmt_time, interleaved, median, spread

import klbook
import klbook._validation
import klbook.measures

SHAPE = (1000, 1000)
SEED = 20261122
SIZE = f"{SHAPE[0]}×{SHAPE[1]} float64 (rows)"


def data() -> tuple[np.ndarray, np.ndarray]:
    """Two batches of valid distributions: Dirichlet(1) rows, so no zeros."""
    rng = np.random.default_rng(SEED)
    p = rng.dirichlet(np.ones(SHAPE[1]), size=SHAPE[0])
    q = rng.dirichlet(np.ones(SHAPE[1]), size=SHAPE[0])
    return p, q


def cases(p: np.ndarray, q: np.ndarray) -> dict[str, tuple[Callable[[], Any], dict[str, Any]]]:
    """For each klbook function: the call, and its scipy peers by label."""
    stats, special = scipy.stats, scipy.special
    return {
        "kl_divergence": (
            lambda: klbook.kl_divergence(p, q),
            {
                "scipy.stats.entropy(p, q)": lambda: stats.entropy(p, q, axis=-1),
                "rel_entr(p, q).sum(-1)": lambda: special.rel_entr(p, q).sum(axis=-1),
            },
        ),
        "entropy": (
            lambda: klbook.entropy(p),
            {
                "scipy.stats.entropy(p)": lambda: stats.entropy(p, axis=-1),
                "entr(p).sum(-1)": lambda: special.entr(p).sum(axis=-1),
            },
        ),
        "cross_entropy": (
            lambda: klbook.cross_entropy(p, q),
            {
                "stats.entropy(p) + stats.entropy(p, q)": lambda: (
                    stats.entropy(p, axis=-1) + stats.entropy(p, q, axis=-1)
                ),
                "-xlogy(p, q).sum(-1)": lambda: -special.xlogy(p, q).sum(axis=-1),
            },
        ),
    }


# --- line timer --------------------------------------------------------------


def _functions(module: ModuleType) -> dict[CodeType, str]:
    return {
        obj.__code__: f"{module.__name__.removeprefix('klbook.')}.{name}"
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__
    }


class LineTimer:
    """Inclusive wall time per source line of chosen functions, via ``sys.settrace``.

    Only frames of the chosen functions are traced line by line; numpy's work
    happens in C and is charged, untraced, to the line that called it.
    """

    def __init__(self, modules: list[ModuleType], outer: ModuleType) -> None:
        self.names: dict[CodeType, str] = {}
        for module in modules:
            self.names.update(_functions(module))
        self.outer = set(_functions(outer))  # time inside these (outermost) is "validation"
        self.lines: dict[tuple[CodeType, int], float] = defaultdict(float)
        self.outer_time = 0.0
        self._last: dict[FrameType, tuple[int, float]] = {}
        self._outer_start: float | None = None
        self._outer_frame: FrameType | None = None

    def _local(self, frame: FrameType, event: str, arg: object) -> Any:
        now = time.perf_counter()
        last = self._last.get(frame)
        if last is not None:
            self.lines[(frame.f_code, last[0])] += now - last[1]
        if event == "line":
            self._last[frame] = (frame.f_lineno, now)
        elif event == "return":
            self._last.pop(frame, None)
            if frame is self._outer_frame and self._outer_start is not None:
                self.outer_time += now - self._outer_start
                self._outer_start = self._outer_frame = None
        return self._local

    def _global(self, frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code not in self.names:
            return None
        if frame.f_code in self.outer and self._outer_frame is None:
            self._outer_frame, self._outer_start = frame, time.perf_counter()
        return self._local

    def run(self, fn: Callable[[], Any]) -> float:
        """Call ``fn`` once under the tracer; return its wall time."""
        t0 = time.perf_counter()
        sys.settrace(self._global)
        try:
            fn()
        finally:
            sys.settrace(None)
        return time.perf_counter() - t0


def line_profile(fn: Callable[[], Any], repeats: int) -> tuple[list[str], float, float]:
    """Median time and share per line of klbook code over ``repeats`` calls.

    Returns Markdown table rows, the median share of time spent in validation
    and the median traced total.
    """
    runs: list[LineTimer] = []
    totals = []
    for _ in range(repeats):
        timer = LineTimer([klbook.measures, klbook._validation], klbook._validation)
        totals.append(timer.run(fn))
        runs.append(timer)
    total = median(totals)
    keys = sorted({k for t in runs for k in t.lines}, key=lambda k: (runs[0].names[k[0]], k[1]))
    rows = []
    for code, lineno in keys:
        t = median([run.lines.get((code, lineno), 0.0) for run in runs])
        share = median(
            [run.lines.get((code, lineno), 0.0) / s for run, s in zip(runs, totals, strict=True)]
        )
        if share < 0.02:
            continue
        src = Path(code.co_filename)
        text = _source_line(src, lineno)
        rows.append(
            f"| `{runs[0].names[code]}` | {src.name}:{lineno} | `{text}` | {fmt_time(t)} | "
            f"{share:.0%} |"
        )
    validation = median([run.outer_time / s for run, s in zip(runs, totals, strict=True)])
    return rows, validation, total


def _source_line(path: Path, lineno: int) -> str:
    try:
        text = path.read_text(encoding="utf-8").splitlines()[lineno - 1].strip()
    except (OSError, IndexError):
        return "?"
    return text.replace("|", "\\|")[:70]


# --- the benchmark -----------------------------------------------------------


def run(quick: bool = False) -> Section:
    """Time the three measures against their scipy peers, then profile klbook's lines."""
    repeats = 9 if quick else 31
    p, q = data()
    section = Section("Information measures (`klbook.measures`)")
    notes = section.notes
    notes += [
        f"Data: p and q are {SIZE}, each row drawn from Dirichlet(1) (valid distributions "
        f"without zeros), seed {SEED}. The scipy peers: `scipy.stats.entropy` normalises and "
        "does no validation; the bare `scipy.special` ufunc summed along rows does nothing "
        "else. Each cell of the table is the median of "
        f"{repeats} interleaved repeats after one warm-up round.",
        "",
    ]
    spreads = []
    for name, (ours, peers) in cases(p, q).items():
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
                    goal=1.0,
                    repeats=repeats,
                    note=f"max |difference| {err:.1e}",
                )
            )
    notes += [
        "Agreement with the peers (max absolute difference of the results): "
        + "; ".join(f"{r.what} vs {r.peer}: {r.note}" for r in section.rows)
        + ".",
        "",
        "Spread of klbook's repeats: " + "; ".join(spreads) + ".",
        "",
        "### Where klbook's time goes",
        "",
        "Inclusive median time per line of klbook code (lines under 2 % left out), "
        f"from {5 if quick else 9} traced calls; a line that calls a validator includes "
        "the validator's time, whose own lines follow.",
        "",
    ]
    for name, (ours, _) in cases(p, q).items():
        rows, share, total = line_profile(ours, 5 if quick else 9)
        notes += [
            f"`klbook.{name}` ({fmt_time(total)} traced): {share:.0%} of the time is input "
            "validation (`klbook._validation`).",
            "",
            "| function | line | code | median | share |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    return section


if __name__ == "__main__":
    from run import render_section

    print(render_section(run(quick="--quick" in sys.argv)))
