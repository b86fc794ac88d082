"""Every klbook function that takes an ``rng`` draws from that generator, and only from it.

For each one: the same seed gives the same draws, two seeds give different draws,
successive calls on one generator give fresh draws, and NumPy's global random
state is neither used nor changed. A function that ignored its ``rng`` (drawing
from a fixed seed, or from ``np.random``) fails here, which a test that only
draws twice with the same seed cannot show.
"""

# The legacy global state (np.random.seed, get_state) is what these tests watch.
# ruff: noqa: NPY002

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable

import numpy as np
import pytest

import klbook
from klbook import GaussianMixture
from klbook.classifier import make_blobs
from klbook.expectation import kl_monte_carlo
from klbook.simulation import running_llr_paths, simulate_flips, simulate_rolls

MIX = GaussianMixture((0.3, 0.7), (-2.0, 1.5), (0.5, 1.2))

#: One call of each function that takes an rng, returning everything it drew.
DRAWS: dict[str, Callable[[np.random.Generator], object]] = {
    "klbook.classifier.make_blobs": lambda rng: make_blobs(20, rng),
    "klbook.expectation.kl_monte_carlo": lambda rng: kl_monte_carlo(
        [0.5, 0.3, 0.2], [0.2, 0.3, 0.5], 200, rng
    ),
    "klbook.gaussian.GaussianMixture.sample": lambda rng: MIX.sample(50, rng),
    "klbook.simulation.simulate_flips": lambda rng: simulate_flips(100, 0.5, rng, size=2),
    "klbook.simulation.simulate_rolls": lambda rng: simulate_rolls(
        100, [0.1, 0.2, 0.3, 0.4], rng, size=2
    ),
    "klbook.simulation.running_llr_paths": lambda rng: running_llr_paths(20, 1000, 0.5, 0.7, rng),
}


def _values(result: object) -> list[np.ndarray]:
    """The arrays a result holds, to compare two results value by value."""
    if isinstance(result, np.ndarray):
        return [result]
    if isinstance(result, tuple):
        return [a for r in result for a in _values(r)]
    if hasattr(result, "__dataclass_fields__"):
        return [np.asarray(getattr(result, f)) for f in result.__dataclass_fields__]
    return [np.asarray(result)]


def _same(a: object, b: object) -> bool:
    va, vb = _values(a), _values(b)
    return len(va) == len(vb) and all(np.array_equal(x, y) for x, y in zip(va, vb, strict=True))


@pytest.fixture
def global_state_untouched():
    """Fail if the test changes NumPy's global random state."""
    np.random.seed(12345)
    before = np.random.get_state()
    yield
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1], err_msg="np.random's state changed")
    assert before[2:] == after[2:]


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_the_same_seed_gives_the_same_draws(name, global_state_untouched):
    draw = DRAWS[name]
    assert _same(draw(np.random.default_rng(7)), draw(np.random.default_rng(7)))


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_two_seeds_give_different_draws(name, global_state_untouched):
    draw = DRAWS[name]
    assert not _same(draw(np.random.default_rng(7)), draw(np.random.default_rng(8)))


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_each_call_draws_afresh_from_the_generator_it_is_given(name, global_state_untouched):
    draw = DRAWS[name]
    rng = np.random.default_rng(7)
    first = draw(rng)
    second = draw(rng)  # the generator has moved on
    assert not _same(first, second)
    # and the second call is exactly what a generator in that state gives
    replay = np.random.default_rng(7)
    draw(replay)
    assert _same(second, draw(replay))


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_the_global_random_state_neither_feeds_nor_is_changed(name, global_state_untouched):
    draw = DRAWS[name]
    np.random.seed(1)
    a = draw(np.random.default_rng(7))
    np.random.seed(2)
    b = draw(np.random.default_rng(7))
    assert _same(a, b)
    np.random.seed(12345)  # as the fixture left it: it checks that nothing else moved it
    draw(np.random.default_rng(7))


def _functions_taking_rng() -> set[str]:
    """Every public function and method of klbook's modules that has an ``rng`` parameter.

    Public: named in the module's ``__all__`` (a method: of a class named there, and
    not starting with an underscore). That also leaves out the copies of each
    function that a mutation run (``make mutate``) adds to the modules.
    """
    found = set()
    skip = {"klbook.coursework", "klbook.notebooks"}
    for info in pkgutil.walk_packages(klbook.__path__, "klbook."):
        if info.name in skip or info.name.startswith("klbook.checks"):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if getattr(obj, "__module__", None) != info.name:
                continue  # re-exported from another module, found there
            members = [(name, obj)]
            if inspect.isclass(obj):
                members = [
                    (f"{name}.{m}", f)
                    for m, f in vars(obj).items()
                    if callable(f) and not m.startswith("_") and "mutmut" not in m
                ]
            for qualname, func in members:
                try:
                    params = inspect.signature(func).parameters
                except (TypeError, ValueError):
                    continue
                if "rng" in params:
                    found.add(f"{info.name}.{qualname}")
    return found


def test_every_function_that_takes_an_rng_is_tested_here():
    assert _functions_taking_rng() == set(DRAWS), "add the new function to DRAWS above"
