"""The instructors' tools for the course book: never shipped to students.

``klbook`` is what students install (the measures, simulations, losses,
plotting and the practice self-checks). This package is what instructors
keep: it lives only in the book's repository and its ``.venv``, and the
student release does not contain it.

Submodules:

- :mod:`coursework.notebooks`: re-execute the chapters and store their
  outputs (``make refresh``).
- :mod:`coursework.release`: the student release (``make student``): student
  notebooks, a klbook wheel whose self-checks are sealed, a pinned
  ``requirements.txt`` and a README, zipped.
- :mod:`coursework.wheel`: builds that klbook wheel.
- :mod:`coursework.grading`: grades submitted notebooks (``make grade``),
  each in a sandbox (:mod:`coursework.sandbox`), judged outside the
  student's kernel (:mod:`coursework.probe`) by the marking checks of
  :mod:`coursework.marking`.
- :mod:`coursework.site`: the website without solutions (``make book-student``).

Run from the repository's root: ``python -m coursework release|grade|book-student``.
"""
