"""Practice self-checks, one module per chapter.

Each module defines ``CHECKS``, a mapping from an exercise's ``:label:`` to a
check from :mod:`klbook.exercises` (``NumericCheck``, ``ChoiceCheck``,
``FunctionCheck``). :func:`klbook.exercises.check` loads them all.

In the book's repository these modules are written in plain sight. In the
klbook wheel that students install, each is replaced by a *sealed* module
(``CHECKS = unseal({...})``, see :func:`klbook.exercises.seal`): the same
hints and verdicts, the expected values not there to read. Grading does not
use these checks at all: the instructors' marking checks judge each answer
outside the student's kernel.
"""
