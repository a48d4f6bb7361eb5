"""How aekit's threads wait, so that a busy machine slows training down gracefully.

PyTorch's CPU kernels run on an OpenMP thread pool (GNU libgomp in the official wheels).
Between parallel regions libgomp's idle threads spin for a long while (about 300,000 turns
of a busy loop) before they sleep. On a machine of its own that makes the next region start
a little sooner; beside another busy process each spinning thread takes a core from the
thread it is waiting for, and the tutorial's training ran 3.5x slower beside a second
training and 5.5x slower beside one busy core (benchmarks/contention.py). A short spin
keeps most of the speed alone and lets the cores go to whoever has work.

The policy has to be in the environment before the OpenMP runtime loads (when torch is
first imported); once torch is loaded it changes nothing. It never changes results: the
number of threads, and so every sum's order, stays what PyTorch chose.
"""

from __future__ import annotations

import os

# Turns of libgomp's wait loop before a thread sleeps; chosen with benchmarks/contention.py.
SPIN_COUNT = "5000"


def wait_politely() -> None:
    """Give OpenMP worker threads a short spin before they sleep, unless the user chose a
    wait policy (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``) themselves."""
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
