"""Mutation testing of klbook's math modules with mutmut (``make mutate``).

mutmut changes klbook's code one small edit at a time (a flipped sign, a
swapped comparison, a dropped argument, ...) and runs the unit tests and the
doctests that call the changed function against each such *mutant*. A mutant
that makes a test fail is *killed*; one that passes every test *survived*:
either the tests miss a real bug, or the edit cannot change any output (an
*equivalent* mutant). The score is a figure kept up, not a gate.

What is mutated, which tests run and how is configured in ``[tool.mutmut]``
of pyproject.toml. This script runs mutmut on a scratch copy of klbook, the
tests and pyproject.toml (never in the working tree: mutmut writes a
``mutants/`` folder, and other work must not see half-mutated files), then
writes the score and every survivor, with the reason it is equivalent or the
test that should kill it, to ``benchmarks/mutation.md``. The reasons live in
``benchmarks/mutation_notes.toml``, matched to a survivor by its function and
the lines it changes, so they outlive renumbered mutants and edits elsewhere.

Usage::

    .venv/bin/python benchmarks/mutation.py --out benchmarks/mutation.md
    .venv/bin/python benchmarks/mutation.py --jobs 2 --keep /tmp/mut  # keep the scratch copy
    .venv/bin/python benchmarks/mutation.py --ref 752e9aa --paths tests/test_measures.py \\
        --out /tmp/before.md  # the tests as an earlier commit had them

Hypothesis runs derandomised (the ``ci`` profile of tests/conftest.py), so
two runs of the same code and tests give the same score.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTES = HERE / "mutation_notes.toml"

#: mutmut's exit codes, grouped as this report counts them (mutmut.stats.status_by_exit_code).
KILLED = {1, 3}
TIMEOUT = {36, -24, 24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass(frozen=True)
class Mutant:
    """One mutant: its name, its module, how it ended and the diff it makes."""

    name: str
    module: str
    exit_code: int | None
    diff: str = ""

    @property
    def function(self) -> str:
        """The mangled function name, e.g. ``klbook.measures.x_binary_kl``."""
        return self.name.rsplit("__mutmut_", 1)[0]

    @property
    def status(self) -> str:
        code = self.exit_code
        if code in KILLED:
            return "killed"
        if code in TIMEOUT:
            return "timeout"
        if code in SURVIVED:
            return "survived"
        if code in NO_TESTS:
            return "no tests"
        return "not checked" if code is None else f"suspicious ({code})"

    @property
    def changed_lines(self) -> tuple[str, ...]:
        """The diff's removed and added lines, stripped: the key notes are matched on."""
        return tuple(
            line[0] + " " + line[1:].strip()
            for line in self.diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        )


def _scratch_copy(work: Path, ref: str | None, paths: list[str]) -> None:
    """Copy what mutmut needs (klbook, tests, pyproject.toml) into ``work``, fresh.

    From the working tree; with ``ref``, each of ``paths`` as that git commit had
    it instead (empty if it did not exist then), to measure an earlier state
    of some files against the rest as it is now.
    """
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    shutil.copytree(ROOT / "klbook", work / "klbook", ignore=skip)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=skip)
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    shutil.copy2(HERE / "mutation_plugin.py", work / "mutation_plugin.py")
    for path in paths if ref else []:
        old = subprocess.run(
            ["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, check=False
        )
        target = work / path
        if old.returncode == 0:
            target.write_bytes(old.stdout)
        else:  # not there yet: an empty module, so that the test selection still names it
            target.write_text(f'"""{path} did not exist at {ref}."""\n', encoding="utf-8")


def _run_mutmut(work: Path, jobs: int, log: Path, names: list[str] | None = None) -> float:
    """Run ``mutmut run`` in ``work`` (only ``names``, if given); return the wall time in s."""
    env = dict(os.environ)
    env.update(CI="true", PYTHONHASHSEED="0")  # derandomised hypothesis, fixed set order
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *(names or [])],
            cwd=work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = _readable_log(log)[-3000:]
        raise SystemExit(f"mutmut run failed with exit code {proc.returncode}:\n{tail}")
    return elapsed


def _readable_log(log: Path) -> str:
    """mutmut's log without its spinner frames (it redraws one line with carriage returns)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.splitlines())


def _collect(work: Path) -> list[Mutant]:
    """Read every mutant's result from mutmut's .meta files, with the diff of the non-killed."""
    old = Path.cwd()
    os.chdir(work)
    try:
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        mutants = []
        for meta in sorted(Path("mutants/klbook").rglob("*.py.meta")):
            source = meta.relative_to("mutants").with_suffix("")  # klbook/x.py
            data = json.loads(meta.read_text(encoding="utf-8"))
            for name, code in sorted(data["exit_code_by_key"].items(), key=_natural):
                diff = ""
                if code not in KILLED and code not in TIMEOUT:
                    diff = get_diff_for_mutant(name, path=source)
                mutants.append(Mutant(name, str(source), code, diff))
        return mutants
    finally:
        os.chdir(old)


def _natural(item: tuple[str, object]) -> tuple[str, int]:
    name, number = item[0].rsplit("__mutmut_", 1)
    return name, int(number) if number.isdigit() else -1


def _load_notes() -> tuple[list[dict], list[dict]]:
    if not NOTES.exists():
        return [], []
    data = tomllib.loads(NOTES.read_text(encoding="utf-8"))
    return data.get("survivor", []), data.get("history", [])


def _note_for(mutant: Mutant, notes: list[dict]) -> dict | None:
    """The note whose function and changed lines match this survivor."""
    mine = mutant.changed_lines
    for note in notes:
        if note["function"] != mutant.function:
            continue
        theirs = tuple(
            line[0] + " " + line[1:].strip()
            for line in note["diff"].strip().splitlines()
            if line[:1] in "+-"
        )
        if theirs == mine:
            return note
    return None


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


def _report(
    mutants: list[Mutant],
    elapsed: float,
    jobs: int,
    ref: str | None,
    notes: list[dict],
    history: list[dict],
) -> str:
    import mutmut

    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mutants:
        by_module[m.module][m.status] += 1
    total = Counter(m.status for m in mutants)
    detected = total["killed"] + total["timeout"]
    score = _percent(detected, len(mutants))
    survivors = [m for m in mutants if m.status not in ("killed", "timeout")]
    explained = [(m, _note_for(m, notes)) for m in survivors]
    unexplained = sum(1 for _, note in explained if note is None)

    lines = [
        "# Mutation score of klbook's math modules",
        "",
        "Written by `make mutate` (benchmarks/mutation.py); do not edit by hand: the",
        "reasons for the survivors live in benchmarks/mutation_notes.toml. A figure",
        "kept up, not a gate. mutmut mutates klbook's math modules (pyproject.toml,",
        "`[tool.mutmut]`) and runs, for each mutant, the unit tests and doctests that",
        "call the mutated function; a mutant is *killed* when one of them fails.",
        "",
        f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, mutmut {mutmut.__version__}, "
        f"Python {platform.python_version()}, {jobs} workers on {os.cpu_count()} cores, "
        f"`nice -n 10`; klbook and tests from the working tree"
        + (f" (some files as commit {ref} had them)" if ref else ""),
        f"- Wall time of the run: {elapsed / 60:.1f} min",
        f"- **Score: {detected} of {len(mutants)} mutants killed ({score})**; "
        f"{total['survived']} survived, {total['no tests']} not reached by any test, "
        f"{len(survivors) - total['survived'] - total['no tests']} other",
        f"- Survivors without a reason in mutation_notes.toml: {unexplained}",
        "",
        "| module | mutants | killed | timeout | survived | no tests | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for module in sorted(by_module):
        c = by_module[module]
        n = sum(c.values())
        lines.append(
            f"| {module} | {n} | {c['killed']} | {c['timeout']} | {c['survived']} | "
            f"{c['no tests']} | {_percent(c['killed'] + c['timeout'], n)} |"
        )
    lines.append(
        f"| **all** | {len(mutants)} | {total['killed']} | {total['timeout']} | "
        f"{total['survived']} | {total['no tests']} | {score} |"
    )
    if history:
        lines += [
            "",
            "## History",
            "",
            "| when | what | killed | mutants | score | wall time (min) |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for h in history:
            lines.append(
                f"| {h['date']} | {h['what']} | {h['killed']} | {h['mutants']} | "
                f"{_percent(h['killed'], h['mutants'])} | {h['minutes']} |"
            )
    lines += [
        "",
        "## Survivors",
        "",
        "Each survivor with the diff it makes and why it cannot change any output",
        "(equivalent), or why it is left. Unexplained ones are marked **UNEXPLAINED**.",
    ]
    for m, note in explained:
        why = note["why"].strip() if note else "**UNEXPLAINED**: add a test or a reason."
        lines += [
            "",
            f"### `{m.name}` ({m.status})",
            "",
            why,
            "",
            "```diff",
            *[line for line in m.diff.splitlines() if not line.startswith(("+++", "---"))],
            "```",
        ]
    return "\n".join(lines) + "\n"


def _write_report(work: Path, args: argparse.Namespace) -> int:
    """Write the report of the run kept in ``work`` (its wall time from ``--minutes``)."""
    notes, history = _load_notes()
    elapsed = 60 * (args.minutes or 0.0)
    report = _report(_collect(work), elapsed, args.jobs, args.ref, notes, history)
    args.out.write_text(report, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "mutation.md")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--ref", help="take --paths from this git commit")
    parser.add_argument("--paths", nargs="*", default=[], help="files to take from --ref")
    parser.add_argument(
        "--report-only",
        type=Path,
        metavar="DIR",
        help="rewrite the report from a run kept in DIR (after editing the notes)",
    )
    parser.add_argument("--minutes", type=float, help="with --report-only: the run's wall time")
    parser.add_argument(
        "--retest",
        type=Path,
        metavar="DIR",
        help="run the survivors of the run kept in DIR again, against the tests as they are now",
    )
    args = parser.parse_args(argv)

    if args.retest:
        work = args.retest.resolve()
        survivors = [m.name for m in _collect(work) if m.status in ("survived", "no tests")]
        shutil.rmtree(work / "tests")
        skip = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / "tests", work / "tests", ignore=skip)
        print(f"re-testing {len(survivors)} survivors in {work}", flush=True)
        retest_s = _run_mutmut(work, args.jobs, work / "retest.log", survivors)
        print(f"re-tested in {retest_s / 60:.1f} min")
        return _write_report(work, args)

    if args.report_only:
        return _write_report(args.report_only.resolve(), args)

    if args.keep:
        work = args.keep.resolve()
        cleanup = None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="klbook-mutation-")
        work = Path(cleanup.name)
    _scratch_copy(work, args.ref, args.paths)
    try:
        log = work / "mutmut.log"
        print(f"mutmut runs in {work} (log: {log})", flush=True)
        elapsed = _run_mutmut(work, args.jobs, log)
        summary = [line for line in _readable_log(log).splitlines() if re.search(r"\d/\d", line)]
        if summary:
            print(summary[-1])
        mutants = _collect(work)
        notes, history = _load_notes()
        report = _report(mutants, elapsed, args.jobs, args.ref, notes, history)
        args.out.write_text(report, encoding="utf-8")
        print(f"wrote {args.out} ({elapsed / 60:.1f} min)")
    finally:
        if cleanup is not None:
            cleanup.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
