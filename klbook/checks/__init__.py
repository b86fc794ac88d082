"""Self-check specifications, one module per chapter.

Each module defines ``CHECKS``, a mapping from an exercise's ``:label:`` to a
check from :mod:`klbook.exercises` (``NumericCheck``, ``ChoiceCheck``,
``FunctionCheck``). :func:`klbook.exercises.check` loads them all.
"""
