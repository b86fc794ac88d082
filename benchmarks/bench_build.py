"""A clean ``jupyter-book build`` of the book against an empty book.

The empty book has the same ``_config.yml`` (and ``references.bib`` and
``_static/``, which the configuration names) and a table of contents with one short intro page:
it measures what Sphinx, Jupyter Book and the extensions cost before there is
any content. Both are built from copies in temporary folders, into a fresh
output folder each time, with the flags of ``make book`` (``-W -n
--keep-going``), interleaved round by round; the report gives the medians and
their ratio.

To find what dominates, every build runs with unbuffered output and each line
Sphinx prints is time-stamped as it arrives: that splits the build into
phases (start-up, extension set-up, reading each page, writing each page,
indices and search, images) and times every page.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from run import ROOT, VENV_BIN, Row, Section, fmt_time, interleaved, median

FLAGS = ["-W", "-n", "--keep-going"]

#: What a copy of the book leaves out: builds, caches, and folders the book excludes.
IGNORE = shutil.ignore_patterns(
    ".venv",
    "_build",
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".ipynb_checkpoints",
    "*.egg-info",
    "submissions",
    "benchmarks",
    "tests",
)

EMPTY_TOC = "format: jb-book\nroot: intro\n"
EMPTY_INTRO = "# An empty book\n\nThe same configuration as the course, and no content.\n"

#: Phases of a build, each ending where Sphinx prints a line matching its pattern.
PHASES = [
    ("process and Python start-up, imports", r"Running Sphinx"),
    ("Sphinx set-up: config, extensions, bibtex", r"building \[html\]"),
    ("reading pages", r"looking for now-outdated files"),
    ("environment, consistency, assets", r"writing output\.\.\. \["),
    ("writing pages", r"generating indices"),
    ("indices, search index, images", r"build (succeeded|finished)"),
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
PAGE = re.compile(r"^(reading sources|writing output)\.\.\. \[\s*\d+%\] (\S+)")


@dataclass
class Build:
    """The time-stamped log of builds of one book."""

    returncodes: list[int] = field(default_factory=list)
    phases: list[dict[str, float]] = field(default_factory=list)
    pages: list[dict[str, float]] = field(default_factory=list)  # "read: page" -> s
    tail: str = ""


def empty_book(folder: Path) -> Path:
    """Write the empty book (same configuration, one intro page) into ``folder``."""
    folder.mkdir(parents=True)
    shutil.copy2(ROOT / "_config.yml", folder / "_config.yml")
    if (ROOT / "references.bib").exists():
        shutil.copy2(ROOT / "references.bib", folder / "references.bib")
    if (ROOT / "_static").is_dir():  # favicon, logo and the like, named by the config
        shutil.copytree(ROOT / "_static", folder / "_static")
    (folder / "_toc.yml").write_text(EMPTY_TOC, encoding="utf-8")
    (folder / "intro.md").write_text(EMPTY_INTRO, encoding="utf-8")
    return folder


def full_book(folder: Path) -> Path:
    """Copy the book's sources into ``folder``."""
    shutil.copytree(ROOT, folder, ignore=IGNORE)
    return folder


def build_once(source: Path, record: Build) -> None:
    """Build ``source`` into a fresh folder, time-stamping every line of output."""
    out = Path(tempfile.mkdtemp(prefix="klbook-bench-out-"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [str(VENV_BIN / "jupyter-book"), "build", str(source), *FLAGS, "--path-output", str(out)]
    stamps: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    try:
        with subprocess.Popen(
            cmd,
            cwd=source,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                stamps.append((time.perf_counter() - t0, ANSI.sub("", line).strip()))
        end = time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    record.returncodes.append(proc.returncode)
    record.phases.append(_phases(stamps, end))
    record.pages.append(_pages(stamps))
    record.tail = "\n".join(line for _, line in stamps[-8:] if line)


def _phases(stamps: list[tuple[float, str]], end: float) -> dict[str, float]:
    """Split the build at the first line matching each phase's end, in order."""
    out: dict[str, float] = {}
    start, i = 0.0, 0
    for label, pattern in PHASES:
        regex = re.compile(pattern)
        while i < len(stamps) and not regex.match(stamps[i][1]):
            i += 1
        if i == len(stamps):
            break
        out[label] = stamps[i][0] - start
        start = stamps[i][0]
    out["exit"] = end - start
    out["total"] = end
    return out


def _pages(stamps: list[tuple[float, str]]) -> dict[str, float]:
    """Time from each page's progress line to the next line of output."""
    times: dict[str, float] = defaultdict(float)
    for (t, line), (t_next, _) in itertools.pairwise(stamps):
        m = PAGE.match(line)
        if m:
            kind = "read" if m.group(1) == "reading sources" else "write"
            times[f"{kind} {m.group(2)}"] += t_next - t
    return dict(times)


def import_cost(module: str, repeats: int) -> tuple[float, float]:
    """Median time of ``python -c 'import module'`` and of ``python -c pass``."""
    times = interleaved(
        {
            "module": lambda: subprocess.run(
                [sys.executable, "-c", f"import {module}"], check=True
            ),
            "bare": lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
        },
        repeats,
    )
    return median(times["module"]), median(times["bare"])


def run(quick: bool = False) -> Section:
    """Build the book and the empty book, interleaved; report the ratio and the phases."""
    repeats = 1 if quick else 3
    section = Section("Book build against an empty book")
    with tempfile.TemporaryDirectory(prefix="klbook-bench-build-") as name:
        tmp = Path(name)
        books = {"full": full_book(tmp / "full"), "empty": empty_book(tmp / "empty")}
        builds = {key: Build() for key in books}
        for r in range(repeats):
            for key in books if r % 2 == 0 else reversed(list(books)):
                build_once(books[key], builds[key])
        n_pages = len([k for k in builds["full"].pages[-1] if k.startswith("read ")])
    nbf, bare = import_cost("nbformat", repeats=3 if quick else 5)

    totals = {key: median([p["total"] for p in b.phases]) for key, b in builds.items()}
    section.rows.append(
        Row(
            what="`jupyter-book build` (clean, `-W -n --keep-going`)",
            size=f"{n_pages} pages",
            subject_s=totals["full"],
            peer="empty book, same config",
            peer_s=totals["empty"],
            repeats=repeats,
        )
    )
    notes = section.notes
    codes = {key: sorted(set(b.returncodes)) for key, b in builds.items()}
    notes += [
        f"Median of {repeats} interleaved clean builds of each, wall time of the whole "
        f"`jupyter-book build` process. Exit codes: book {codes['full']}, empty book "
        f"{codes['empty']} (non-zero means `-W` turned a warning into a failure; the "
        "time still counts the whole build).",
        "",
        "Phases, split at Sphinx's progress lines (medians):",
        "",
        "| phase | book | empty book | difference |",
        "| --- | --- | --- | --- |",
    ]
    labels = list(dict.fromkeys(k for b in builds.values() for p in b.phases for k in p))
    for label in labels:
        full = median([p.get(label, 0.0) for p in builds["full"].phases])
        empty = median([p.get(label, 0.0) for p in builds["empty"].phases])
        notes.append(
            f"| {label} | {fmt_time(full)} | {fmt_time(empty)} | {fmt_time(full - empty)} |"
        )
    pages = builds["full"].pages
    per_page = {k: median([p.get(k, 0.0) for p in pages]) for k in pages[-1]}
    slowest = sorted(per_page.items(), key=lambda kv: -kv[1])[:8]
    notes += [
        "",
        "Slowest pages of the book (time from a page's progress line to the next line):",
        "",
        *(f"- {k}: {fmt_time(s)}" for k, s in slowest),
        "",
        f"Importing `nbformat` takes {fmt_time(nbf - bare)} beyond a bare Python start "
        f"({fmt_time(nbf)} against {fmt_time(bare)}, medians of interleaved runs); myst-nb "
        "imports it in every build, as do nbval in every pytest process and `make refresh`. "
        "It took 2.3 s more while jsonschema 4.24+ pulled in `rfc3987-syntax`, which "
        "compiles a grammar on import; requirements.txt pins jsonschema 4.23, and "
        "tests/test_project.py checks that importing nbformat compiles no grammar.",
    ]
    for key, label in (("full", "book"), ("empty", "empty book")):
        if any(c != 0 for c in codes[key]):
            notes += [
                "",
                f"Last lines of the {label}'s build:",
                "",
                "```text",
                builds[key].tail,
                "```",
            ]
    return section


if __name__ == "__main__":
    from run import render_section

    print(render_section(run(quick="--quick" in sys.argv)))
