"""pytest plugin for ``make mutate``: the same verdicts as the plain tests, sooner.

benchmarks/mutation.py copies this file next to the tests mutmut runs, and
``[tool.mutmut] pytest_add_cli_args`` loads it. Neither change alters which
tests run or what they check, so a mutant is killed exactly when it would be
under ``pytest``:

* The tests that cover a mutant run fastest first (their durations come from
  mutmut's clean run): mutmut stops at the first failure, so a killed mutant
  rarely waits for the slow tests.
* Hypothesis draws the examples of the ``ci`` profile of tests/conftest.py
  (derandomised, no deadline) but does not shrink a failing one: only *whether*
  a test fails matters here, and shrinking can take longer than the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "mutation",
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target),
)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Load the profile after every conftest has loaded its own."""
    settings.load_profile("mutation")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the items by their duration in mutmut's clean run, fastest first."""
    stats = Path("mutmut-stats.json")
    if not stats.exists():
        return
    durations = json.loads(stats.read_text(encoding="utf-8")).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
