"""Run the book's benchmarks and write one Markdown report (``make bench``).

Every figure is a ratio against a peer measured in the same run: klbook and
its peer are timed in interleaved repeats (klbook, peer, peer, klbook, ...) and
the report gives the medians and their ratio, so a busy or slow machine moves
both sides together and the ratio stays meaningful. Absolute times are shown
for scale only.

Usage::

    .venv/bin/python benchmarks/run.py --out benchmarks/results.md
    .venv/bin/python benchmarks/run.py --quick --only measures notebooks

Each ``bench_*.py`` module in this folder provides ``run(quick) -> Section``
and can also be run on its own (it then prints its section).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent

#: The benchmark modules, in report order (name -> module in this folder).
BENCHES: dict[str, str] = {
    "measures": "bench_measures",
    "losses": "bench_losses",
    "simulation": "bench_simulation",
    "notebooks": "bench_notebooks",
    "build": "bench_build",
}


# --- results -----------------------------------------------------------------


@dataclass
class Row:
    """One comparison: klbook (or the book) against a peer, medians in seconds."""

    what: str
    size: str
    subject_s: float
    peer: str
    peer_s: float
    goal: float | None = None  # the ratio subject/peer must not exceed this
    note: str = ""
    repeats: int = 0
    unit: str = "s"  # how medians are shown: "s" (auto ms/s) or a literal unit
    subject_value: str | None = None  # shown instead of subject_s when given
    peer_value: str | None = None

    @property
    def ratio(self) -> float:
        """Subject median divided by peer median."""
        return self.subject_s / self.peer_s if self.peer_s > 0 else float("inf")

    @property
    def met(self) -> bool | None:
        """Whether the ratio meets the goal (None when there is no goal)."""
        return None if self.goal is None else self.ratio <= self.goal


@dataclass
class Section:
    """What one benchmark module reports: rows for the table and free notes."""

    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- timing ------------------------------------------------------------------


def interleaved(
    cases: dict[str, Callable[[], object]], repeats: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Time each case ``repeats`` times, interleaving the cases round by round.

    The order within a round alternates (forwards, then backwards), so a case
    never always runs first or last after another. Returns the list of wall
    times in seconds for each case; ``warmup`` untimed rounds run first.
    """
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            t0 = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def median(xs: Sequence[float]) -> float:
    """Median of a non-empty sequence."""
    return float(statistics.median(xs))


def spread(xs: Sequence[float]) -> str:
    """Interquartile range relative to the median, as a short string."""
    if len(xs) < 4:
        return f"min–max {min(xs) / median(xs):.2f}–{max(xs) / median(xs):.2f}×"
    q1, _, q3 = statistics.quantiles(xs, n=4)
    return f"IQR ±{(q3 - q1) / 2 / median(xs):.0%}"


def fmt_time(s: float) -> str:
    """A duration in an easy unit."""
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1.0:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


# --- machine and versions ----------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine() -> dict[str, str]:
    """The machine the numbers come from."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "CPU": _cpu_model(),
        "cores": f"{os.cpu_count()} logical" + (f", {usable} usable" if usable else ""),
        "memory": _memory(),
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "load average at start (1, 5, 15 min)": _load(),
    }


def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def versions() -> dict[str, str]:
    """Versions of everything measured."""
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import scipy

    import klbook

    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--", "klbook", "chapters")
    out = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "klbook": f"{klbook.__version__} (git {commit}{', modified' if dirty else ''})",
    }
    for dist in ("matplotlib", "jupyter-book", "sphinx", "myst-nb", "nbval", "pytest"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    try:
        import torch  # type: ignore[import-not-found]

        out["torch"] = f"{torch.__version__} (CPU)"
    except ImportError:
        out["torch"] = "not installed (optional peer)"
    return out


# --- report ------------------------------------------------------------------


def _value(row: Row, which: str) -> str:
    given = row.subject_value if which == "subject" else row.peer_value
    if given is not None:
        return given
    seconds = row.subject_s if which == "subject" else row.peer_s
    return fmt_time(seconds) if row.unit == "s" else f"{seconds:.3g} {row.unit}"


def _verdict(row: Row) -> str:
    if row.goal is None:
        return "—"
    return f"≤ {row.goal:g}: " + ("**met**" if row.met else "**missed**")


def table(rows: Sequence[Row]) -> list[str]:
    """The results table as Markdown lines."""
    lines = [
        "| benchmark | size | klbook / book | peer | peer median | ratio | goal | repeats |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row.what} | {row.size} | {_value(row, 'subject')} | {row.peer} | "
            f"{_value(row, 'peer')} | **{row.ratio:.2f}** | {_verdict(row)} | "
            f"{row.repeats or '—'} |"
        )
    return lines


def render_section(section: Section) -> str:
    """One section on its own (for running a bench module by itself)."""
    return "\n".join([f"## {section.title}", "", *table(section.rows), "", *section.notes])


def render(
    sections: list[Section],
    mach: dict[str, str],
    vers: dict[str, str],
    started: datetime,
    elapsed: float,
    argv: Sequence[str],
) -> str:
    """The whole report as Markdown."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `benchmarks/run.py` ({' '.join(argv) or 'no options'}) on "
        f"{started:%Y-%m-%d %H:%M} UTC in {elapsed / 60:.1f} min; regenerate with `make bench`.",
        "",
        "Each ratio is klbook's (or the book's) median over the peer's median, timed in",
        "interleaved repeats in this one run, so it holds on a busy machine; absolute",
        "times are for scale only. A ratio below 1 means klbook is faster.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {k} | {v} |" for k, v in mach.items()),
        "",
        "## Versions",
        "",
        "| package | version |",
        "| --- | --- |",
        *(f"| {k} | {v} |" for k, v in vers.items()),
        "",
        "## Results",
        "",
        *table([row for section in sections for row in section.rows]),
        "",
    ]
    for section in sections:
        lines += [f"## {section.title}", "", f"_Took {section.seconds:.0f} s._", ""]
        lines += section.notes
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- adapters for benchmark scripts without run() ----------------------------


def simulation_section(module: ModuleType, quick: bool) -> Section:
    """Report ``bench_simulation.py`` (a stand-alone script) into the table.

    Times its klbook cases against its chunked-uniforms case in interleaved
    repeats in this process (the ratio), and takes peak memory from its own
    ``--case`` subprocess mode (one fresh process per case). Adds
    ``simulate_flips`` drawn in the same chunks, which stores every flip.
    """
    import numpy as np

    from klbook import simulate_flips

    total, chunk, seed = module.TOTAL, module.CHUNK, module.SEED
    peer = next(name for name in module.CASES if "chunks" in name)
    ours = [name for name in module.CASES if name.startswith("running_llr_paths")]

    def flips_in_chunks() -> None:
        rng = np.random.default_rng(seed)
        for _ in range(total // chunk):
            simulate_flips(chunk, module.P, rng)

    flips_label = "simulate_flips, 10 chunks of 10^7"
    cases = {peer: module.CASES[peer], **{n: module.CASES[n] for n in ours}}
    cases[flips_label] = flips_in_chunks
    repeats = 3 if quick else 7
    times = interleaved(cases, repeats)
    section = Section("Coin-sequence simulation (`klbook.simulation`)")
    peer_s = median(times[peer])
    for name in [*ours, flips_label]:
        s = median(times[name])
        section.rows.append(
            Row(
                what=f"`{name}`",
                size=f"{total:.0e} flips",
                subject_s=s,
                peer=f"numpy `rng.random`: {peer}",
                peer_s=peer_s,
                goal=2.0,
                repeats=repeats,
                subject_value=f"{fmt_time(s)} ({total / s:.2g} flips/s)",
                peer_value=f"{fmt_time(peer_s)} ({total / peer_s:.2g}/s)",
            )
        )
    memory = {name: _peak_memory(module, name) for name in [*ours, flips_label, peer]}
    budget = 500.0
    for name in [*ours, flips_label]:
        m = memory[name]
        section.rows.append(
            Row(
                what=f"peak memory, `{name}`",
                size=f"{total:.0e} flips",
                subject_s=m["hwm_mb"],
                peer="budget",
                peer_s=budget,
                goal=1.0,
                subject_value=f"{m['hwm_mb']:.0f} MB peak RSS ({m['traced_mb']:.0f} MB traced)",
                peer_value=f"{budget:.0f} MB",
            )
        )
    section.notes += [
        "From `benchmarks/bench_simulation.py` (its cases, run here): "
        + " ".join((module.__doc__ or "").strip().split("\n\n")[0].split()),
        "",
        f"Times: medians of {repeats} interleaved repeats in one process, after a warm-up "
        "round; numpy drawing the same number of uniforms, in chunks of "
        f"{chunk:.0e}, is the peer. `running_llr_paths` draws binomial increments between "
        "recorded N (exact in distribution there), so it never draws single flips; "
        "`simulate_flips` (added here) draws and stores every flip, in the same chunks.",
        "",
        "Memory: each case once more in a fresh process; peak RSS is the process's `VmHWM` "
        "(`/proc/self/status`), which includes the interpreter and the imports "
        f"({memory[peer]['base_mb']:.0f} MB before the case runs); traced is tracemalloc's "
        f"peak of the case alone. The chunked-uniforms process peaks at "
        f"{memory[peer]['hwm_mb']:.0f} MB. (`ru_maxrss` is not used: on Linux a child "
        "inherits its parent's peak through fork and exec, so it overstates a subprocess "
        "started from a large process.)",
    ]
    return section


_MEMORY_PROBE = """
import json, sys, tracemalloc
sys.path.insert(0, {here!r})
import numpy, scipy, klbook
from run import _vm_hwm_mb
from {module} import CASES
{extra}
base = _vm_hwm_mb()
tracemalloc.start()
fn()
traced = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
print(json.dumps({{"hwm_mb": _vm_hwm_mb(), "traced_mb": traced, "base_mb": base}}))
"""


def _vm_hwm_mb() -> float:
    """This process's peak resident set size in MiB (Linux ``VmHWM``), NaN if unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _peak_memory(module: ModuleType, name: str) -> dict[str, float]:
    """Run one simulation case in a fresh process; its peak RSS and traced peak in MiB."""
    if name in module.CASES:
        extra = f"fn = CASES[{name!r}]"
    else:  # simulate_flips in chunks, defined here
        extra = (
            "from klbook import simulate_flips\n"
            f"from {module.__name__} import TOTAL, CHUNK, SEED, P\n"
            "def fn():\n"
            "    rng = numpy.random.default_rng(SEED)\n"
            "    for _ in range(TOTAL // CHUNK):\n"
            "        simulate_flips(CHUNK, P, rng)\n"
        )
    code = _MEMORY_PROBE.format(here=str(HERE), module=module.__name__, extra=extra)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


ADAPTERS: dict[str, Callable[[ModuleType, bool], Section]] = {
    "simulation": simulation_section,
}


# --- command line ------------------------------------------------------------


def run_section(name: str, quick: bool) -> Section:
    """Import ``bench_<name>`` and run it, turning a crash into a reported note."""
    t0 = time.perf_counter()
    try:
        module = importlib.import_module(BENCHES[name])
        if not hasattr(module, "run") and name in ADAPTERS:
            section: Section = ADAPTERS[name](module, quick)
        else:
            section = module.run(quick=quick)
    except Exception as exc:  # a broken benchmark must not hide the others
        import traceback

        section = Section(
            name,
            notes=[
                f"**This benchmark failed**: `{type(exc).__name__}: {exc}`",
                "",
                "```text",
                traceback.format_exc().rstrip(),
                "```",
            ],
        )
    section.seconds = time.perf_counter() - t0
    return section


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for trying it out")
    parser.add_argument(
        "--only", nargs="+", choices=list(BENCHES), help="run only these benchmarks"
    )
    args = parser.parse_args(argv)
    out = args.out.resolve() if args.out else None
    sys.path.insert(0, str(HERE))
    os.chdir(ROOT)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    mach = machine()
    sections = []
    for name in args.only or list(BENCHES):
        if not (HERE / f"{BENCHES[name]}.py").exists():
            print(f"[bench] {name}: {BENCHES[name]}.py not there yet, skipped", flush=True)
            continue
        print(f"[bench] {name} ...", flush=True)
        section = run_section(name, args.quick)
        for row in section.rows:
            print(f"[bench]   {row.what} ({row.size}): ratio {row.ratio:.2f}", flush=True)
        print(f"[bench] {name} took {section.seconds:.0f} s", flush=True)
        sections.append(section)
    mach["load average at end (1, 5, 15 min)"] = _load()
    text = render(
        sections,
        mach,
        versions(),
        started,
        time.perf_counter() - t0,
        list(argv if argv is not None else sys.argv[1:]),
    )
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"[bench] wrote {out}", flush=True)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
