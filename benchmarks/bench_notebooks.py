"""Each chapter under nbval against the floor notebook.

The floor is a generated notebook (in a temporary folder, beside a copy of
the chapters' ``conftest.py``) whose one cell
imports numpy, matplotlib and klbook: the least any chapter costs (a pytest
process, a fresh kernel, the imports). Every chapter and the floor are run
with the same command, ``pytest --nbval <notebook> -p no:xdist`` under the
project's pytest configuration, interleaved round by round, and the medians
compared. Goal: all chapters together ≤ 1.5 × floor × number of chapters.

To say what dominates, each run also writes a JUnit XML file (time per cell,
kernel start included in the first cell's setup), and one extra round
measures ``pytest --collect-only`` on the floor (the process and plugin
start-up, no kernel) and ``python -X importtime`` of that start-up.

Then ``chapter_profile.py`` runs each chapter once more, in a fresh process
without a kernel, and splits what it costs beyond the floor into imports,
figures (constrained layout, drawing, PNG encoding) and other code; the report
sets that split against the excess the goal allows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from chapter_profile import FLOOR_SOURCE
from run import ROOT, VENV_BIN, Row, Section, fmt_time, median

from coursework.notebooks import KERNEL_ENV

GOAL = 1.5
#: The kernels' environment: that of ``make refresh`` (coursework.notebooks), which
#: stored the outputs. ``make`` exports ``MPLBACKEND=Agg``; a kernel that
#: inherits it shows no figures, and nbval fails every figure cell.
ENV = {**os.environ, **KERNEL_ENV}


@dataclass
class Runs:
    """Every timed run of one notebook."""

    wall: list[float] = field(default_factory=list)
    session: list[float] = field(default_factory=list)  # pytest's own "in X s"
    cells: list[dict[str, float]] = field(default_factory=list)  # cell name -> seconds
    outcomes: list[str] = field(default_factory=list)


def write_floor(folder: Path) -> Path:
    """Write the floor notebook into ``folder`` and return its path.

    The chapters' ``conftest.py`` is copied beside it, so that the floor pays
    for the same pytest set-up as every chapter (it imports klbook in the
    pytest process and sets the kernels' environment).
    """
    shutil.copy(ROOT / "chapters" / "conftest.py", folder / "conftest.py")
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(FLOOR_SOURCE)
    cell.execution_count = 1  # stored, so nbval runs and compares it
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "floor.ipynb"
    nbformat.write(nb, path)
    return path


def pytest_command(notebook: Path, junit: Path | None = None, *extra: str) -> list[str]:
    """The nbval command, identical for chapters and the floor."""
    cmd = [
        str(VENV_BIN / "pytest"),
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        "--nbval",
        str(notebook),
        "-p",
        "no:xdist",
        "-q",
        *extra,
    ]
    if junit is not None:
        cmd += ["--junitxml", str(junit)]
    return cmd


def _cells(junit: Path) -> dict[str, float]:
    try:
        tree = ET.parse(junit)
    except (OSError, ET.ParseError):
        return {}
    return {case.get("name", "?"): float(case.get("time", "nan")) for case in tree.iter("testcase")}


def figure_cells(notebook: Path) -> set[str]:
    """nbval's names ("Cell N", N counting code cells) of the cells that store a PNG."""
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    return {
        f"Cell {i}"
        for i, c in enumerate(code)
        if any("image/png" in out.get("data", {}) for out in c.get("outputs", []))
    }


def run_once(notebook: Path, tmp: Path, runs: Runs) -> None:
    """Run nbval on one notebook and record wall time, session time and cells."""
    junit = tmp / f"{notebook.stem}.xml"
    t0 = time.perf_counter()
    proc = subprocess.run(
        pytest_command(notebook, junit),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    runs.wall.append(time.perf_counter() - t0)
    found = re.findall(r" in ([0-9.]+)s", proc.stdout)
    runs.session.append(float(found[-1]) if found else float("nan"))
    runs.cells.append(_cells(junit))
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "no output"
    runs.outcomes.append(summary.strip("= "))


def import_profile(notebook: Path) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Where ``pytest --collect-only`` spends its import time (``python -X importtime``).

    Returns the top-level imports by cumulative time, and the modules with the
    largest time of their own.
    """
    cmd = [sys.executable, "-X", "importtime", "-m", "pytest", *pytest_command(notebook)[1:]]
    proc = subprocess.run(
        [*cmd, "--collect-only"], cwd=ROOT, env=ENV, capture_output=True, text=True, check=False
    )
    own: dict[str, float] = {}
    top: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        self_us, cumulative_us, indent, name = m.groups()
        own[name] = max(own.get(name, 0.0), int(self_us) / 1e6)
        if len(indent) <= 1:  # top level: one space after the bar
            top[name] = top.get(name, 0.0) + int(cumulative_us) / 1e6

    def best(d: dict[str, float], n: int) -> list[tuple[str, float]]:
        return sorted(d.items(), key=lambda kv: -kv[1])[:n]

    return best(top, 6), best(own, 3)


def profile_chapter(notebook: Path) -> dict:
    """``chapter_profile.py`` on one chapter, in a fresh process: where its time goes."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("chapter_profile.py")), str(notebook)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def _profile_notes(profiles: dict[Path, dict], excess_s: float, allowed_s: float) -> list[str]:
    """The table of where each chapter's time goes, and what the goal would need."""
    lines = [
        "",
        "Where each chapter's time goes beyond the floor: `benchmarks/chapter_profile.py`, "
        "one run of each chapter in a fresh process, its code cells in an IPython shell with "
        "the inline backend and no kernel (so no messaging). Imports are the first cell's "
        "statements beyond the floor's, timed one by one; a figure's display is the inline "
        "backend's `print_figure`, split into matplotlib's constrained layout "
        "(`ConstrainedLayoutEngine.execute`), the drawing (`Figure.draw` less the layout) "
        "and the PNG encoding (`PIL.Image.save`); mathtext, the typesetting of `$...$` "
        "labels (`MathTextParser.parse`, log axes' `10^k` tick labels included), cuts "
        "across the layout and the drawing. Text objects counts every `Text` artist, tick "
        "labels included.",
        "",
        "| chapter | first cell beyond the floor (imports, style) | figures (text objects each) | "
        "building the figures | showing them | of which layout | drawing | PNG encoding | "
        "of layout and drawing, mathtext | cells without a figure |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    # The timed parts after the first cell, in the order of the table's columns.
    columns = {
        "build": "building_s",
        "display": "display_s",
        "layout": "layout_s",
        "draw": "draw_s",
        "png": "png_s",
        "mathtext": "mathtext_s",
        "other": "other_cells_s",
    }
    sums = dict.fromkeys(("imports", *columns), 0.0)
    for nb, p in profiles.items():
        heavy = [(stmt, s) for stmt, s in p["imports"] if s >= 0.05]
        part = {"imports": sum(s for _, s in p["imports"]) + p["setup_s"]}
        part |= {key: p[field] for key, field in columns.items()}
        for key, value in part.items():
            sums[key] += value
        named = ", ".join(f"`{stmt}` {fmt_time(s)}" for stmt, s in heavy) or "none over 50 ms"
        lines.append(
            f"| {nb.stem} | {fmt_time(part['imports'])} ({named}) | {p['figures']} "
            f"({', '.join(map(str, p['texts']))}) | "
            + " | ".join(fmt_time(part[key]) for key in columns)
            + " |"
        )
    figures = sum(p["figures"] for p in profiles.values())
    lines.append(
        f"| all | {fmt_time(sums['imports'])} | {figures} | "
        + " | ".join(fmt_time(sums[key]) for key in columns)
        + " |"
    )
    content = sums["imports"] + sums["build"] + sums["display"] + sums["other"]
    drawn = sums["build"] + sums["display"]
    lines += [
        "",
        f"Against the goal: the chapters together cost {fmt_time(excess_s)} more than "
        f"{len(profiles)} floors, and the goal allows {fmt_time(allowed_s)} more. Measured "
        f"without a kernel, their own work comes to {fmt_time(content)}: imports "
        f"{fmt_time(sums['imports'])}, the {figures} figures {fmt_time(drawn)} "
        f"({fmt_time(drawn / max(figures, 1))} each: building "
        f"{fmt_time(sums['build'])}, showing {fmt_time(sums['display'])}, of which constrained "
        f"layout {fmt_time(sums['layout'])} and, across layout and drawing, mathtext "
        f"{fmt_time(sums['mathtext'])}), the cells without a figure "
        f"{fmt_time(sums['other'])}; the remaining {fmt_time(max(excess_s - content, 0.0))} "
        "is what nbval and the kernel add per cell and per output (larger notebooks to read, "
        "messages, comparisons) over the floor's one cell.",
    ]
    return lines


def collect_once(floor: Path, times: list[float]) -> None:
    """Time ``pytest --collect-only`` on the floor: start-up without a kernel."""
    t0 = time.perf_counter()
    subprocess.run(
        pytest_command(floor, None, "--collect-only"),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        check=False,
    )
    times.append(time.perf_counter() - t0)


def run(quick: bool = False) -> Section:
    """Time every chapter and the floor under nbval, interleaved."""
    repeats = 1 if quick else 3
    chapters = sorted((ROOT / "chapters").glob("*.ipynb"))
    section = Section("Chapters under nbval against the floor")
    with tempfile.TemporaryDirectory(prefix="klbook-bench-nb-") as name:
        tmp = Path(name)
        floor = write_floor(tmp)
        runs = {nb: Runs() for nb in [floor, *chapters]}
        collect: list[float] = []
        # One round: start-up alone, then the floor before every second chapter,
        # so that the floor is sampled all through the round; odd rounds reversed.
        steps: list[Path | None] = [None]
        for i, nb in enumerate(chapters):
            if i % 2 == 0:
                steps.append(floor)
            steps.append(nb)
        run_once(floor, tmp, Runs())  # warm the file cache; not timed
        for r in range(repeats):
            for step in steps if r % 2 == 0 else reversed(steps):
                if step is None:
                    collect_once(floor, collect)
                else:
                    run_once(step, tmp, runs[step])
        imports, own = import_profile(floor)
        profiles = {nb: profile_chapter(nb) for nb in chapters}

    floor_s = median(runs[floor].wall)
    for nb in chapters:
        section.rows.append(
            Row(
                what=f"nbval `{nb.stem}`",
                size=f"{len(runs[nb].cells[-1])} cells",
                subject_s=median(runs[nb].wall),
                peer="floor notebook",
                peer_s=floor_s,
                repeats=repeats,
            )
        )
    total = sum(median(runs[nb].wall) for nb in chapters)
    section.rows.append(
        Row(
            what="nbval, all chapters together",
            size=f"{len(chapters)} chapters",
            subject_s=total,
            peer=f"{len(chapters)} × floor",
            peer_s=len(chapters) * floor_s,
            goal=GOAL,
            repeats=repeats,
        )
    )
    session_total = sum(median(runs[nb].session) for nb in chapters)
    floor_session = median(runs[floor].session)
    section.rows.append(
        Row(
            what="nbval, all chapters together, pytest session only",
            size=f"{len(chapters)} chapters",
            subject_s=session_total,
            peer=f"{len(chapters)} × floor session",
            peer_s=len(chapters) * floor_session,
            goal=GOAL,
            repeats=repeats,
        )
    )
    notes = section.notes
    notes += [
        "The first total counts whole processes, as `pytest chapters/X.ipynb` costs; the "
        "second only pytest's own session time (kernel start, cells, kernel shutdown), "
        "leaving out the process and plugin start-up that every notebook run pays alike "
        "(and that one `make test` session pays once).",
        "",
        "Command, the same for every notebook: `.venv/bin/pytest -c pyproject.toml --nbval "
        "<notebook> -p no:xdist -q` from the repository root (so the project's nbval options "
        "and sanitizers apply), with the kernel environment of `make refresh` "
        f"(`{' '.join(f'{k}={v}' for k, v in KERNEL_ENV.items())}`). Floor notebook: one cell, "
        f"`{FLOOR_SOURCE.replace(chr(10), '; ')}`, in a temporary folder with a copy of "
        "`chapters/conftest.py`, so that it pays for the same pytest set-up. Wall time of "
        "the whole process, median of "
        f"{repeats} interleaved rounds (the floor runs before every second chapter, "
        f"{len(runs[floor].wall)} floor runs in all).",
        "",
        "| notebook | wall | pytest session | process start-up (wall − session) | "
        "first cell (kernel start + imports) | other cells | of which figure cells | "
        "slowest other cell | result |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for nb, r in runs.items():
        label = "floor" if nb == floor else nb.stem
        first = median([next(iter(c.values()), float("nan")) for c in r.cells if c])
        others = [
            (name, median([c.get(name, 0.0) for c in r.cells])) for name in list(r.cells[-1])[1:]
        ]
        slow = max(others, key=lambda kv: kv[1]) if others else ("—", 0.0)
        startup = median([w - s for w, s in zip(r.wall, r.session, strict=True)])
        figures = figure_cells(nb) if nb != floor else set()
        rest = sum(t for _, t in others)
        in_figures = sum(t for name, t in others if name.removeprefix("::") in figures)
        notes.append(
            f"| {label} | {fmt_time(median(r.wall))} | {fmt_time(median(r.session))} | "
            f"{fmt_time(startup)} | {fmt_time(first)} | {fmt_time(rest)} | "
            f"{fmt_time(in_figures)} ({len(figures)} cells) | "
            f"{slow[0].removeprefix('::')} {fmt_time(slow[1])} | {r.outcomes[-1]} |"
        )
    floor_cell = median([next(iter(c.values()), float("nan")) for c in runs[floor].cells])
    notes += [
        "",
        f"What the floor is made of: `pytest --collect-only` on the floor notebook (process, "
        f"plugins, collection; no kernel) takes {fmt_time(median(collect))} of the floor's "
        f"{fmt_time(floor_s)}; starting the kernel and importing numpy, matplotlib and klbook "
        f"(the floor's one cell, setup included) {fmt_time(floor_cell)}.",
        "",
        "Imports in that start-up (`python -X importtime`, one run): the slowest top-level "
        "imports with everything they import, "
        + ", ".join(f"`{name}` {fmt_time(s)}" for name, s in imports)
        + "; the modules slowest on their own, "
        + ", ".join(f"`{name}` {fmt_time(s)}" for name, s in own)
        + ".",
    ]
    notes += _profile_notes(
        profiles, total - len(chapters) * floor_s, (GOAL - 1) * len(chapters) * floor_s
    )
    return section


if __name__ == "__main__":
    from run import render_section

    print(render_section(run(quick="--quick" in sys.argv)))
