"""Command line: ``python -m coursework release|grade|book-student`` (run from the book's root).

::

    python -m coursework release --out _build/student chapters/*.ipynb
    python -m coursework grade --out grades/grades.csv submissions/
    python -m coursework grade --chapters 01,02 --jobs 4 --resume submissions/
    python -m coursework book-student --out _build/student-site
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from coursework.grading import default_jobs
from coursework.release import BOOK_ROOT, REVEALS_TAG

__all__ = ["main"]

_NO_SANDBOX_WARNING = (
    "WARNING: --no-sandbox: each submission's code runs with your rights: it can read and "
    "change your files, use the network and stop the grader. The CSV's sandbox column "
    "records that these results were made without a sandbox."
)


def _default_chapters() -> list[Path]:
    here = sorted(Path("chapters").glob("*.ipynb"))
    return here or sorted((BOOK_ROOT / "chapters").glob("*.ipynb"))


def resolve_chapters(values: Sequence[str] | None) -> list[Path]:
    """Turn ``--chapters`` values into chapter files, in the order given.

    Each value is a comma-separated list; each item is a notebook's path or
    names a chapter of ``chapters/`` by the start of its file name (``01``,
    ``02_expected_value``). Without values, every chapter of ``chapters/``.

    Raises
    ------
    ValueError
        If an item is neither a notebook nor the start of exactly one chapter's name.
    """
    if not values:
        return _default_chapters()
    known = _default_chapters()
    chosen: list[Path] = []
    for value in values:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            path = Path(item)
            if path.suffix == ".ipynb" and path.is_file():
                found = [path]
            else:
                found = [c for c in known if c.name == item or c.stem.startswith(item)]
            if len(found) != 1:
                names = ", ".join(c.stem for c in known) or "none found in chapters/"
                why = "is ambiguous" if found else "names no chapter"
                raise ValueError(f"--chapters: {item!r} {why} (chapters: {names})")
            if found[0] not in chosen:
                chosen.append(found[0])
    if not chosen:
        raise ValueError("--chapters: no chapter given")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m coursework", description="The instructors' tools of the course book."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write the student release (no solutions) and a zip")
    rel.add_argument("--out", type=Path, default=Path("_build/student"))
    rel.add_argument("notebooks", nargs="+", type=Path)
    grd = sub.add_parser(
        "grade",
        help="run submitted notebooks in a sandbox and mark them",
        description="Grade a folder of submissions: the long CSV OUT, kept up to date "
        "notebook by notebook, and beside it OUT's stem + '-gradebook.csv' (Moodle) and "
        "'-canvas.csv' (Canvas). Earlier files are kept as timestamped backups.",
    )
    grd.add_argument(
        "submissions", type=Path, help="folder of one subfolder per student, or Canvas's download"
    )
    grd.add_argument(
        "--out",
        type=Path,
        default=Path("grades/grades.csv"),
        help="the long CSV (default grades/grades.csv; make clean leaves grades/ alone)",
    )
    grd.add_argument(
        "--chapters",
        action="append",
        metavar="LIST",
        help="comma-separated chapters: notebooks or the starts of their names, e.g. 01,02 "
        "(may be repeated; default: chapters/*.ipynb)",
    )
    grd.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="notebooks run at once, each in its own sandbox (default: the processors, "
        f"{default_jobs()} here)",
    )
    grd.add_argument(
        "--resume",
        action="store_true",
        help="keep OUT's rows of notebooks graded before (same student, chapter, SHA-256 "
        "and sandbox) and grade only the rest",
    )
    grd.add_argument(
        "--timeout", type=float, default=120, help="seconds each notebook may run (default 120)"
    )
    grd.add_argument(
        "--probe-timeout",
        type=float,
        default=30,
        help="seconds reading one answer may take, a function answer's calls included (30)",
    )
    grd.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run the submissions without bubblewrap (unsafe; recorded in the CSV)",
    )
    site = sub.add_parser("book-student", help="build the website without the solutions")
    site.add_argument("--out", type=Path, default=Path("_build/student-site"))
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            from coursework.release import release

            result = release(args.notebooks, args.out)
            for cell in result.scan_cleared:
                print(
                    f"cleared outputs that show solution text: {cell} "
                    f"(tag it {REVEALS_TAG!r} to make this explicit)",
                    file=sys.stderr,
                )
            wheel = result.wheel.name if result.wheel else "the klbook wheel"
            print(
                f"wrote {len(result.notebooks)} notebooks, {wheel}, requirements.txt and "
                f"README.md to {result.out}, and {result.zip_path}",
                file=sys.stderr,
            )
        elif args.command == "grade":
            _grade(args)
        else:
            from coursework.site import build_student_site

            html = build_student_site(args.out)
            print(f"wrote the website without solutions to {html}", file=sys.stderr)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.command != "grade":
            raise
        print(
            f"interrupted: {args.out} holds every notebook finished so far; "
            "run the same command with --resume to grade the rest",
            file=sys.stderr,
        )
        return 130
    return 0


def _grade(args: argparse.Namespace) -> None:
    """Run ``grade``: check everything, then grade into the result files."""
    from coursework.grading import STATUSES, Grader, grade
    from coursework.grading import _duration as duration
    from coursework.results import ResultFiles

    jobs = default_jobs() if args.jobs is None else args.jobs
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    chapters = resolve_chapters(args.chapters)
    if not args.submissions.is_dir():
        raise ValueError(f"{args.submissions} is not a folder of submissions")
    if args.no_sandbox:
        print(_NO_SANDBOX_WARNING, file=sys.stderr)
    started = time.monotonic()
    with (
        Grader(
            sandbox=not args.no_sandbox, timeout=args.timeout, probe_timeout=args.probe_timeout
        ) as grader,
        ResultFiles(args.out, resume=args.resume) as files,
    ):
        for path, backup in files.backups:
            print(f"kept the earlier {path.name} as {backup}", file=sys.stderr)
        kept = len(files.backups)
        grades = grade(
            args.submissions,
            chapters,
            timeout=args.timeout,
            probe_timeout=args.probe_timeout,
            progress=True,
            grader=grader,
            jobs=jobs,
            results=files,
        )
        out, gradebook, canvas = files.finish(grades)
        for path, backup in files.backups[kept:]:
            print(f"kept the earlier {path.name} as {backup}", file=sys.stderr)
    counts = {s: sum(g.status == s for g in grades) for s in STATUSES}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    print(
        f"wrote {len(grades)} rows to {out} ({summary}) and the gradebooks {gradebook} "
        f"(Moodle) and {canvas} (Canvas) in {duration(time.monotonic() - started)}",
        file=sys.stderr,
    )
    if args.no_sandbox:
        print(_NO_SANDBOX_WARNING, file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
