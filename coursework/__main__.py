"""Command line: ``python -m coursework release|grade|book-student`` (run from the book's root).

::

    python -m coursework release --out _build/student chapters/*.ipynb
    python -m coursework grade --out _build/grades.csv submissions/
    python -m coursework book-student --out _build/student-site
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m coursework", description="The instructors' tools of the course book."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write the student release (no solutions) and a zip")
    rel.add_argument("--out", type=Path, default=Path("_build/student"))
    rel.add_argument("notebooks", nargs="+", type=Path)
    grd = sub.add_parser("grade", help="run submitted notebooks in a sandbox and mark them")
    grd.add_argument("--out", type=Path, default=Path("_build/grades.csv"))
    grd.add_argument(
        "--chapters", nargs="+", type=Path, help="source chapters (default: chapters/*.ipynb)"
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
    grd.add_argument("submissions", type=Path, help="folder with one subfolder per student")
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
            from coursework.grading import STATUSES, grade, write_grades

            if args.no_sandbox:
                print(_NO_SANDBOX_WARNING, file=sys.stderr)
            chapters = args.chapters or _default_chapters()
            grades = grade(
                args.submissions,
                chapters,
                timeout=args.timeout,
                probe_timeout=args.probe_timeout,
                progress=True,
                sandbox=not args.no_sandbox,
            )
            path = write_grades(grades, args.out)
            counts = {s: sum(g.status == s for g in grades) for s in STATUSES}
            summary = ", ".join(f"{n} {s}" for s, n in counts.items())
            print(f"wrote {len(grades)} rows to {path} ({summary})", file=sys.stderr)
            if args.no_sandbox:
                print(_NO_SANDBOX_WARNING, file=sys.stderr)
        else:
            from coursework.site import build_student_site

            html = build_student_site(args.out)
            print(f"wrote the website without solutions to {html}", file=sys.stderr)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
