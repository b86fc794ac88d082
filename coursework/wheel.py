"""Build the klbook wheel students install: the library, with its self-checks sealed.

The wheel holds ``klbook/`` as it is in the repository, with two changes:

- the instructors' leftovers inside ``klbook/`` (:data:`EXCLUDED`, aliases of
  :mod:`coursework` modules) are left out; and
- each practice self-check module ``klbook/checks/chNN.py`` is replaced by a
  sealed one: ``CHECKS = unseal({...})`` with the same hints and verdicts but
  no expected value or listed mistake in plain sight
  (:func:`klbook.exercises.seal`).

It never holds the chapters, their solutions or the marking checks (those
live outside ``klbook/``). The wheel is written directly (a pure-Python wheel
is a zip with a ``.dist-info`` folder), with fixed timestamps, so the same
sources give the same bytes.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.util
import io
import os
import pprint
import sys
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from klbook.exercises import seal

__all__ = ["EXCLUDED", "build_student_wheel", "sealed_module", "wheel_name"]

#: Files of ``klbook/`` that stay out of the student wheel (instructors' aliases).
EXCLUDED: Final[frozenset[str]] = frozenset({"klbook/notebooks.py", "klbook/coursework.py"})
#: Timestamp of every entry (the earliest a zip file can hold).
_ZIP_DATE: Final[tuple[int, int, int, int, int, int]] = (1980, 1, 1, 0, 0, 0)


def _project(root: Path) -> dict[str, object]:
    with (root / "pyproject.toml").open("rb") as fh:
        return dict(tomllib.load(fh)["project"])


def wheel_name(root: str | os.PathLike[str]) -> str:
    """Return the wheel's file name, e.g. ``klbook-0.1.0-py3-none-any.whl``."""
    project = _project(Path(root))
    return f"{project['name']}-{project['version']}-py3-none-any.whl"


def _load_plain(path: Path) -> dict[str, object]:
    """Run a plain check module from ``path`` (not from the installed klbook) for its CHECKS."""
    name = f"_klbook_plain_checks_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    checks = getattr(module, "CHECKS", None)
    if not isinstance(checks, dict):
        raise ValueError(f"{path}: defines no CHECKS dict")
    return checks


def sealed_module(path: str | os.PathLike[str]) -> str:
    """Return the source of the sealed version of the plain check module at ``path``."""
    source = Path(path)
    checks = _load_plain(source)
    data = {label: seal(label, spec) for label, spec in checks.items()}  # type: ignore[arg-type]
    first_line = _first_docstring_line(source.read_text(encoding="utf-8")) or "Self-checks."
    body = pprint.pformat(data, width=96, sort_dicts=False)
    return (
        f'"""{first_line}\n\n'
        "Sealed for the student release from the plain checks the authors write: the\n"
        "hints and verdicts are those of the plain checks, but each expected value and\n"
        "each listed mistake is stored only as salted hashes of the value rounded to a\n"
        "grid finer than its tolerance (see klbook.exercises.seal).\n"
        '"""\n\n'
        "from klbook.exercises import unseal\n\n"
        '__all__ = ["CHECKS"]\n\n'
        f"CHECKS = unseal(\n{body}\n)\n"
    )


def _first_docstring_line(text: str) -> str:
    try:
        doc = ast.get_docstring(ast.parse(text)) or ""
    except SyntaxError:
        return ""
    line = doc.strip().splitlines()[0] if doc.strip() else ""
    return line.replace('"""', "'''").replace("\\", "/")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def _metadata(project: dict[str, object]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project.get('requires-python', '>=3.11')}",
        f"License: {project.get('license', '')}",
    ]
    lines += [f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])]  # type: ignore[union-attr]
    return "\n".join(lines) + "\n"


def wheel_members(root: str | os.PathLike[str]) -> list[tuple[str, bytes]]:
    """Return the wheel's files as (name in the wheel, bytes), the record last."""
    base = Path(root)
    project = _project(base)
    package = base / "klbook"
    members: list[tuple[str, bytes]] = []
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(base).as_posix()
        if (
            not path.is_file()
            or "__pycache__" in path.parts
            or path.suffix in (".pyc", ".pyo")
            or rel in EXCLUDED
        ):
            continue
        if path.parent == package / "checks" and path.suffix == ".py" and path.stem != "__init__":
            data = sealed_module(path).encode("utf-8")
        else:
            data = path.read_bytes()
        members.append((rel, data))
    dist = f"{project['name']}-{project['version']}.dist-info"
    members.append((f"{dist}/METADATA", _metadata(project).encode()))
    members.append(
        (
            f"{dist}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: the course book's student release\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        )
    )
    members.append((f"{dist}/top_level.txt", b"klbook\n"))
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in members)
    record += f"{dist}/RECORD,,\n"
    members.append((f"{dist}/RECORD", record.encode()))
    return members


def build_student_wheel(root: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> Path:
    """Write the student wheel of the klbook in ``root`` into ``out_dir``.

    Parameters
    ----------
    root : path-like
        The book's repository (holding ``pyproject.toml`` and ``klbook/``).
    out_dir : path-like
        Where to write the wheel (created if needed).

    Returns
    -------
    Path
        The wheel, e.g. ``<out_dir>/klbook-0.1.0-py3-none-any.whl``.
    """
    members = wheel_members(root)
    target = Path(out_dir) / wheel_name(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(zip_bytes(members))
    return target


def zip_bytes(members: Sequence[tuple[str, bytes]], *, sort: bool = False) -> bytes:
    """Return a zip of ``members`` whose bytes depend only on their names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in sorted(members) if sort else members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the permission bits below mean what they say
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()
