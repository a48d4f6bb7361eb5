"""How aekit's threads wait, so that a busy machine slows training down gracefully.

PyTorch's CPU kernels run on an OpenMP thread pool (GNU libgomp in the official wheels).
Between parallel regions libgomp's idle threads spin for a long while (about 300,000 turns
of a busy loop) before they sleep. On a machine of its own that makes the next region start
a little sooner; beside another busy process each spinning thread takes a core from the
thread it is waiting for: on the 2-core CI machine two tutorial trainings started together
each took 3.5x the time of one alone (2.3x its CPU time), and one beside a busy core 5.5x
(benchmarks/contention.py, 5 epochs). With a spin of 4,000 turns the same benchmark at 20
epochs gave 1.90x, 1.16x and 1.98x, for 10% more time alone (24.6 and 25.0 s of training
against 22.4 and 22.5 s with libgomp's default, interleaved). Spins of 3,000 and 5,000 gave
1.88x / 1.15x / 1.89x at +20% alone and 2.20x / 1.31x / 2.18x at +14%.

The policy has to be in the environment before the OpenMP runtime loads (when torch is
first imported); once torch is loaded it changes nothing. It never changes results: the
number of threads, and so every sum's order, stays what PyTorch chose.
"""

from __future__ import annotations

import os

# Turns of libgomp's wait loop before a thread sleeps; chosen with benchmarks/contention.py.
SPIN_COUNT = "4000"


def wait_politely() -> None:
    """Give OpenMP worker threads a short spin before they sleep, unless the user chose a
    wait policy (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``) themselves."""
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
