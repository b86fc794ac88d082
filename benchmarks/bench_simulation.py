"""Benchmark: 1,000 coin paths of 100,000 flips (10^8 flips) with klbook.running_llr_paths.

Run from the repository root:

    .venv/bin/python benchmarks/bench_simulation.py

It compares, in one run, the time of ``running_llr_paths(1000, 100_000, ...)``
with the time NumPy's generator needs to draw 10^8 uniforms (``rng.random``),
the cost of simulating every flip. Each case runs in its own subprocess so
that its peak memory is its own: the script reports the best of a few
wall-clock times, the peak of Python/NumPy allocations (tracemalloc) and the
process's maximum resident set size (``resource.getrusage``, which includes
the interpreter and the imported libraries, about 60-100 MB).

The uniform baseline is drawn in chunks of 10^7 (80 MB each), since drawing
10^8 at once needs 800 MB; the one-shot time is printed too, for reference.
This is a script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc

N_PATHS = 1_000
N_FLIPS = 100_000
TOTAL = N_PATHS * N_FLIPS
CHUNK = 10_000_000
REPEATS = 3
SEED = 2026
P, Q = 0.5, 0.8


def _uniform_chunks() -> None:
    import numpy as np

    rng = np.random.default_rng(SEED)
    for _ in range(TOTAL // CHUNK):
        rng.random(CHUNK)


def _uniform_once() -> None:
    import numpy as np

    rng = np.random.default_rng(SEED)
    rng.random(TOTAL)


def _paths(record: int | None) -> None:
    import numpy as np

    from klbook import running_llr_paths

    rng = np.random.default_rng(SEED)
    running_llr_paths(N_PATHS, N_FLIPS, P, Q, rng, record=record)


CASES = {
    "uniforms, 10 chunks of 10^7": _uniform_chunks,
    "uniforms, 10^8 at once": _uniform_once,
    "running_llr_paths, log-spaced N (default)": lambda: _paths(None),
    "running_llr_paths, every 100 flips": lambda: _paths(100),
}


def _measure(name: str) -> dict[str, float]:
    """Run one case in this process: best time, then peak memory in a traced run."""
    import resource

    import numpy  # noqa: F401  (import cost is not part of the timing)

    import klbook  # noqa: F401

    fn = CASES[name]
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return {"seconds": min(times), "traced_mb": peak / 2**20, "maxrss_mb": maxrss_kb / 1024}


def main() -> int:
    """Measure every case in a fresh subprocess and print the table and the ratio."""
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(_measure(sys.argv[2])))
        return 0
    results = {}
    for name in CASES:
        proc = subprocess.run(
            [sys.executable, __file__, "--case", name],
            capture_output=True,
            text=True,
            check=True,
        )
        results[name] = json.loads(proc.stdout)
    print(f"{N_PATHS} paths x {N_FLIPS} flips = {TOTAL:.0e} flips, p={P}, q={Q}")
    print(f"best of {REPEATS}; memory: tracemalloc peak / process max RSS")
    print(f"{'case':45s} {'time (s)':>9s} {'traced (MB)':>12s} {'max RSS (MB)':>13s}")
    for name, r in results.items():
        print(f"{name:45s} {r['seconds']:9.3f} {r['traced_mb']:12.1f} {r['maxrss_mb']:13.1f}")
    base = results["uniforms, 10 chunks of 10^7"]["seconds"]
    for name in CASES:
        if name.startswith("running_llr_paths"):
            ratio = results[name]["seconds"] / base
            print(f"time ratio {name} / chunked uniforms: {ratio:.4f} (target <= 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
