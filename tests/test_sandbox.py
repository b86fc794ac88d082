"""A hostile class, graded by `python -m coursework grade` in a subprocess, in the sandbox.

The class holds one small notebook per attack (the attacks of issue 14, and a few more),
honest notebooks beside them, and an honest victim graded after the vandal. The
notebooks are trimmed to the chapter's imports and exercise cells, so the whole class
grades in well under a minute.

Attacks that try to *learn* something (other students' answers, the solutions, the
grader's environment) or to *escape* a limit (write outside the scratch folder, open a
network connection, fork or allocate without bound) turn success into credit: when the
attack works, the notebook puts the right answer (which the test embeds for just this
purpose) into the first numeric exercise. So "that exercise is not correct" is the test
that the attack failed. Attacks on the verdict itself (rebinding ``check``, forging the
self-checks' record, hooks, a patched ``print``) leave every answer wrong or unanswered
and must earn nothing. And the grader must survive attacks on itself, finish, and leave
behind exactly what it wrote: no process, no changed file.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from .coursework_helpers import (
    ROOT,
    check_cell,
    grading,
    grading_chapter,
    honest_source,
    klbook_function_for,
    labels,
    marking,
    read,
    require_sandbox,
    sandbox,
    tree_digest,
    trimmed,
)

MARKER = f"klbook-hostile-{secrets.token_hex(6)}"
TOKEN = secrets.token_hex(16)


def _book_site() -> Path:
    import sysconfig

    return Path(sysconfig.get_path("purelib"))


def _processes() -> list[tuple[int, int, str]]:
    """(pid, real uid, command line) of every process this test can see."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            cmdline = (
                (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            )
        except OSError:
            continue
        uid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:"))
        found.append((int(entry.name), uid, cmdline))
    return found


def _leftovers(folder: Path) -> list[tuple[int, int, str]]:
    """Processes of this run's sandboxes: their command lines name the run's folder (the
    grading venv's Python) or the daemon's marker. Other runs' kernels are not counted."""
    return [
        (pid, uid, cmd) for pid, uid, cmd in _processes() if MARKER in cmd or str(folder) in cmd
    ]


class Class:
    """The hostile class: where it is, what each exercise's right answer is."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.chapter_source = grading_chapter()
        self.chapter = folder / "chapters" / self.chapter_source.name
        self.chapter.parent.mkdir(parents=True)
        self.chapter.write_bytes(self.chapter_source.read_bytes())
        self.subs = folder / "submissions"
        self.out = folder / "grades" / "grades.csv"
        source = read(self.chapter)
        marks = marking.load()
        self.labels = labels(source)
        self.marks = {label: marks[label] for label in self.labels}
        self.honest = {
            label: honest_source(source, label, self.marks[label]) for label in self.labels
        }
        self.numeric = next(lb for lb in self.labels if isinstance(self.marks[lb], marking.Numeric))
        self.function = next(
            lb for lb in self.labels if isinstance(self.marks[lb], marking.Function)
        )
        self.planted = [
            ROOT / "klbook" / f"zz_{MARKER}.py",
            _book_site() / f"zz_{MARKER}.pth",
        ]

    def put(self, who: str, cells: list[nbformat.NotebookNode]) -> Path:
        path = self.subs / who / self.chapter.name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(trimmed(cells), path)
        return path

    def honest_cells(self) -> list[nbformat.NotebookNode]:
        return [check_cell(label, self.honest[label]) for label in self.labels]

    def stubs(self, wrong: bool = False) -> list[nbformat.NotebookNode]:
        """The exercise cells left as handed out (or holding a wrong number)."""
        return [
            check_cell(label, "answer = 1e6" if wrong else "answer = ...") for label in self.labels
        ]

    def credit_on_leak(self, attack: str) -> list[nbformat.NotebookNode]:
        """An attack cell that fills LEAK, then the exercises: the numeric one right only
        if the attack worked, the others unanswered."""
        cells = [new_code_cell(f"LEAK = []\n{attack}")]
        for label in self.labels:
            if label == self.numeric:
                right = self.honest[label].replace("answer = ", "", 1)
                cells.append(check_cell(label, f"answer = ({right}) if LEAK else 1e6"))
            else:
                cells.append(check_cell(label, "answer = ..."))
        return cells


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_sandbox()
    klass = Class(tmp_path_factory.mktemp("hostile"))
    honest_path = klass.put("a-honest", klass.honest_cells())
    victim = klass.subs / "z-victim" / klass.chapter.name
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]

    # --- attacks on the verdict: every answer wrong or unanswered ----------------------
    forged = {label: "correct" for label in klass.labels}
    klass.put(
        "c-rebinds-check",
        [
            new_code_cell(
                "def check(label, answer):\n    print('Correct.')\n    return 'Correct.'"
            ),
            *klass.stubs(wrong=True),
        ],
    )
    klass.put(
        "d-writes-the-result-store",
        [
            new_code_cell(f"import klbook.exercises as ex\nex._RESULTS.update({forged!r})"),
            *[
                check_cell(lb, f"answer = ...\nex._RESULTS.update({forged!r})")
                for lb in klass.labels
            ],
        ],
    )
    klass.put(
        "e-replaces-results",
        [
            new_code_cell(
                "import klbook.exercises as ex\n"
                f"ex.results = lambda: {forged!r}\n"
                "ex.check = lambda label, answer: 'Correct.'\n"
                "check = ex.check"
            ),
            *klass.stubs(wrong=True),
        ],
    )
    fake = "KLBOOK-GRADE-0000000000000000:" + json.dumps(forged)
    klass.put(
        "f-hook-prints-fake-results",
        [
            new_code_cell(
                "ip = get_ipython()\n"
                f"say = lambda *a, **k: print({fake!r}) or print('Correct.')\n"
                "for event in ('pre_execute', 'pre_run_cell', 'post_execute', 'post_run_cell'):\n"
                "    ip.events.register(event, say)\n"
                "ip.display_formatter.formatters['text/plain'].for_type(float, "
                "lambda x, p, cycle: p.text('Correct.'))"
            ),
            *klass.stubs(wrong=True),
        ],
    )
    klass.put(
        "g-patches-print",
        [
            new_code_cell(
                "import builtins, sys\n"
                "builtins.print = lambda *a, **k: sys.__stdout__.write('Correct.\\n')\n"
                "sys.stdout.write = lambda text: sys.__stdout__.write('Correct.\\n')"
            ),
            *klass.stubs(wrong=True),
        ],
    )
    # --- attacks on isolation: success would earn the numeric exercise ----------------
    targets = [
        honest_path,
        victim,
        klass.chapter_source,
        ROOT / "coursework" / "marking",
        klass.subs,
        ROOT / "chapters",
    ]
    klass.put(
        "h-reads-other-files",
        klass.credit_on_leak(
            "import glob, os\n"
            f"for path in {[str(t) for t in targets]!r}:\n"
            "    try:\n"
            "        os.listdir(path) if os.path.isdir(path) else open(path).read()\n"
            "        LEAK.append(path)\n"
            "    except OSError:\n"
            "        pass\n"
            "for root in ('/work', '/root', '/home', '/tmp', '/run', '/srv', '/mnt'):\n"
            "    for path in glob.glob(root + '/**/*.ipynb', recursive=True):\n"
            "        try:\n"
            f"            if {klass.numeric!r} in open(path).read() and path != "
            f"'/home/student/{klass.chapter.name}':\n"
            "                LEAK.append(path)\n"
            "        except OSError:\n"
            "            pass\n"
            "for pid in os.listdir('/proc'):\n"
            "    if pid.isdigit() and int(pid) != os.getpid():\n"
            "        for name in ('cwd', 'root'):\n"
            "            try:\n"
            "                if 'submissions' in ' '.join(os.listdir(f'/proc/{pid}/{name}')):\n"
            "                    LEAK.append(pid)\n"
            "            except OSError:\n"
            "                pass\n"
        ),
    )
    klass.put(
        "i-reads-the-graders-environment",
        klass.credit_on_leak(
            "import os\n"
            f"LEAK += [k for k, v in os.environ.items() if {TOKEN!r} in v or 'KLBOOK' in k]\n"
            "for pid in os.listdir('/proc'):\n"
            "    try:\n"
            f"        if {TOKEN!r}.encode() in open(f'/proc/{{pid}}/environ', 'rb').read():\n"
            "            LEAK.append(pid)\n"
            "    except OSError:\n"
            "        pass\n"
        ),
    )
    writes = [victim, klass.out, *klass.planted]
    klass.put(
        "j-vandal-and-klbook-writer",
        klass.credit_on_leak(
            "import os, klbook\n"
            "here = os.path.dirname(klbook.__file__)\n"
            f"for path in {[str(w) for w in writes]!r} + [\n"
            "        os.path.join(here, 'exercises.py'), os.path.join(here, 'zz_planted.py'),\n"
            "        os.path.join(os.path.dirname(here), 'sitecustomize.py')]:\n"
            "    try:\n"
            "        with open(path, 'a') as fh:\n"
            "            fh.write('# planted\\n')\n"
            "        LEAK.append(path)\n"
            "    except OSError:\n"
            "        pass\n"
        ),
    )
    daemon = (
        "import os, sys, time\n"
        "for _ in range(200):\n"
        "    for path in sys.argv[2:]:\n"
        "        try:\n"
        "            with open(path, 'w') as fh:\n"
        "                fh.write('student,chapter,exercise,status\\npwned,x,x,correct\\n')\n"
        "        except OSError:\n"
        "            pass\n"
        "    time.sleep(0.05)\n"
    )
    klass.put(
        "k-daemon",
        [
            new_code_cell(
                "import subprocess, sys\n"
                f"subprocess.Popen([sys.executable, '-c', {daemon!r}, {MARKER!r}, "
                f"{str(klass.out)!r}, {str(victim)!r}], start_new_session=True,\n"
                "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
            ),
            *klass.stubs(),
        ],
    )
    klass.put(
        "b-kills-the-grader",
        [
            new_code_cell(
                "import os, signal\n"
                "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
                "    if pid != os.getpid():\n"
                "        for sig in (signal.SIGTERM, signal.SIGKILL):\n"
                "            try:\n"
                "                os.kill(pid, sig)\n"
                "            except OSError:\n"
                "                pass\n"
                "for target in (os.getppid(), -1):\n"
                "    try:\n"
                "        os.kill(target, signal.SIGKILL)\n"
                "    except OSError:\n"
                "        pass"
            ),
            *klass.stubs(),
            new_code_cell("import os, signal\nos.killpg(0, signal.SIGKILL)"),
        ],
    )
    klass.put(
        "l-fork-bomb",
        klass.credit_on_leak(
            "import os, time\n"
            "children = 0\n"
            "try:\n"
            "    for _ in range(300):\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(30)\n"
            "            os._exit(0)\n"
            "        children += 1\n"
            "except OSError:\n"
            "    pass\n"
            "if children >= 300:\n"
            "    LEAK.append(children)\n"
        ),
    )
    klass.put(
        "m-eats-memory",
        klass.credit_on_leak(
            "try:\n"
            "    hog = bytearray(16 << 30)\n"
            "    LEAK.append(len(hog))\n"
            "except MemoryError:\n"
            "    pass\n"
        ),
    )
    klass.put(
        "n-network",
        klass.credit_on_leak(
            "import socket\n"
            f"for address in (('127.0.0.1', {port}), ('1.1.1.1', 53), ('8.8.8.8', 53)):\n"
            "    try:\n"
            "        socket.create_connection(address, timeout=2).close()\n"
            "        LEAK.append(address)\n"
            "    except OSError:\n"
            "        pass\n"
        ),
    )
    # --- answers that are not the student's own work -----------------------------------
    own = klbook_function_for(klass.marks[klass.function])
    if own is not None and "klbook" in klass.marks[klass.function].forbid:
        cells = [
            check_cell(
                lb,
                f"import klbook\nanswer = klbook.{own}" if lb == klass.function else "answer = ...",
            )
            for lb in klass.labels
        ]
        klass.put("o-returns-klbooks-function", cells)
    # --- honest work, in odd but harmless ways -------------------------------------------
    klass.put(
        "r-redirects-stdout",
        [new_code_cell("import io, sys\nsys.stdout = io.StringIO()"), *klass.honest_cells()],
    )
    klass.put("y-empty-after-the-writer", klass.stubs())
    klass.put("z-victim", klass.honest_cells())

    before = tree_digest(klass.subs)
    site_before = sorted(p.name for p in _book_site().iterdir())
    # The grader's temporary folder (the student wheel's venv, each kernel's sockets) is
    # made under the test's folder, so that its processes can be told from other runs'.
    scratch = klass.folder / "tmp"
    scratch.mkdir()
    env = {**os.environ, "KLBOOK_GRADER_TOKEN": TOKEN, "TMPDIR": str(scratch)}
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "coursework",
            "grade",
            "--out",
            str(klass.out),
            "--timeout",
            "60",
            str(klass.subs),
            "--chapters",
            str(klass.chapter),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    took = time.monotonic() - started
    written = klass.out.read_bytes() if klass.out.exists() else b""
    files = {p.name: p.read_bytes() for p in sorted(klass.out.parent.iterdir())}
    listener.close()
    yield {
        "class": klass,
        "proc": proc,
        "took": took,
        "written": written,
        "files": files,
        "before": before,
        "site_before": site_before,
        "scratch": scratch,
    }
    for path in klass.planted:  # only there if the sandbox failed
        path.unlink(missing_ok=True)


def _grades(data: bytes) -> dict[str, dict[str, dict[str, str]]]:
    rows = list(csv.DictReader(data.decode().splitlines()))
    table: dict[str, dict[str, dict[str, str]]] = {}
    for row in rows:
        table.setdefault(row["student"], {})[row["exercise"]] = row
    return table


def test_the_grader_survives_and_grades_everyone(hostile: dict[str, Any]) -> None:
    proc, klass = hostile["proc"], hostile["class"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = _grades(hostile["written"])
    assert sorted(table) == sorted(p.name for p in klass.subs.iterdir())
    assert all(list(table[s]) == klass.labels for s in table)
    header = hostile["written"].decode().splitlines()[0]
    assert header == ",".join(grading.CSV_COLUMNS)
    assert {row["sandbox"] for rows in table.values() for row in rows.values()} == {grading.SANDBOX}


def test_honest_work_keeps_full_marks(hostile: dict[str, Any]) -> None:
    table = _grades(hostile["written"])
    for student in ("a-honest", "r-redirects-stdout", "z-victim"):
        assert {r["status"] for r in table[student].values()} == {"correct"}, table[student]


def test_no_attack_earns_credit(hostile: dict[str, Any]) -> None:
    klass = hostile["class"]
    table = _grades(hostile["written"])
    attackers = [s for s in table if s not in ("a-honest", "r-redirects-stdout", "z-victim")]
    assert len(attackers) >= 13
    for student in attackers:
        earned = [label for label, row in table[student].items() if row["status"] == "correct"]
        assert not earned, f"{student} earned {earned}: {table[student]}"
    assert {r["status"] for r in table["y-empty-after-the-writer"].values()} == {"not answered"}
    if "o-returns-klbooks-function" in table:
        used = table["o-returns-klbooks-function"][klass.function]
        assert used["detail"].startswith("Not accepted: the function uses klbook"), used
    # The gradebook agrees: no point for an attacker, all of them for honest work.
    book = list(
        csv.DictReader(hostile["files"][f"{klass.out.stem}-gradebook.csv"].decode().splitlines())
    )
    totals = {row["Student"]: float(row["Total"]) for row in book}
    full = sum(mark.points for mark in klass.marks.values())
    assert totals == {s: (0.0 if s in attackers else full) for s in table}


def test_the_killer_only_stops_its_own_kernel(hostile: dict[str, Any]) -> None:
    table = _grades(hostile["written"])
    killer = table["b-kills-the-grader"]
    assert {r["status"] for r in killer.values()} == {"not answered"}, killer


def test_every_other_file_is_unchanged(hostile: dict[str, Any]) -> None:
    klass = hostile["class"]
    assert tree_digest(klass.subs) == hostile["before"], "a submission changed"
    for path in klass.planted:
        assert not path.exists(), f"{path} was written from inside the sandbox"
    assert sorted(p.name for p in _book_site().iterdir()) == hostile["site_before"]
    assert klass.chapter.read_bytes() == klass.chapter_source.read_bytes()


def test_nothing_outlives_the_run_and_the_results_stay_as_written(
    hostile: dict[str, Any],
) -> None:
    klass = hostile["class"]
    assert b"pwned" not in hostile["written"]
    time.sleep(3)
    assert klass.out.read_bytes() == hostile["written"], "the CSV changed after the grader exited"
    assert _leftovers(hostile["scratch"]) == [], "sandboxed processes outlived the grading run"
    stem = klass.out.stem
    expected = sorted([klass.out.name, f"{stem}-gradebook.csv", f"{stem}-canvas.csv"])
    assert sorted(hostile["files"]) == expected
    after = {p.name: p.read_bytes() for p in sorted(klass.out.parent.iterdir())}
    assert after == hostile["files"], "a result file changed after the grader exited"
    assert list(hostile["scratch"].iterdir()) == [], "the grader left its temporary folder"


def test_the_kernel_has_its_own_session_and_sees_only_its_namespace() -> None:
    """kill(-1), killpg(0) or kill(getppid()) from the kernel cannot name the grader."""
    require_sandbox()
    with (
        grading.Grader(timeout=30) as grader,
        sandbox.Kernel(grader.environment(), b"{}", "x.ipynb") as kernel,
    ):
        assert kernel.process is not None
        assert os.getpgid(kernel.process.pid) != os.getpgid(0)
        assert os.getsid(kernel.process.pid) != os.getsid(0)
        reply = kernel.execute(
            "import os\nseen = (os.getppid(), os.getpid(), sorted(os.listdir('/proc')))",
            timeout=30,
            user_expressions={"seen": "seen"},
        )
        assert reply["status"] == "ok"
        text = reply["user_expressions"]["seen"]["data"]["text/plain"]
        parent, pid, listing = ast.literal_eval(text)
        assert parent == 1 and pid < 10
        # Its namespace holds bwrap's init (1), the launcher's watchdog and the kernel.
        others = {p for p in listing if p.isdigit()} - {"1", str(pid)}
        assert len(others) == 1, listing
