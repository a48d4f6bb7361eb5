"""How aekit shares a busy machine: one `aekit train` alone, two started together, and one beside
an unrelated process that keeps a core busy. Prints wall and CPU times and their ratios to the
run alone (goals: each of two together within 2.3x the wall time and 1.3x the CPU time; beside
a busy core within 2.3x the wall time).

    python benchmarks/contention.py [--epochs 20] [--repeats 1] [-- extra train options]

Each training is its own `aekit train` process; times are the whole process's (start-up and
plots included), CPU is user + system time from the kernel's accounting.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def start(folder: Path, epochs: int, extra: list[str]) -> tuple[subprocess.Popen, float]:
    command = [sys.executable, "-m", "aekit", "train", "--epochs", str(epochs), "--out", str(folder), *extra]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ), time.perf_counter()


def finish(process: subprocess.Popen, started: float) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of a finished child."""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"aekit train exited with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--epochs", type=int, default=20, help="epochs of the tutorial's training (default 20)"
    )
    parser.add_argument("extra", nargs="*", help="more 'aekit train' options, after --")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', '(aekit default)')}")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        alone_wall, alone_cpu = finish(*start(root / "alone", args.epochs, args.extra))
        print(f"alone:           {alone_wall:6.1f} s wall, {alone_cpu:6.1f} s CPU")
        pair = [start(root / f"pair{i}", args.epochs, args.extra) for i in (1, 2)]
        together = [finish(*p) for p in pair]
        for i, (wall, cpu) in enumerate(together, 1):
            print(f"together, run {i}: {wall:6.1f} s wall, {cpu:6.1f} s CPU")
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            busy_wall, busy_cpu = finish(*start(root / "busy", args.epochs, args.extra))
        finally:
            spinner.kill()
            spinner.wait()
        print(f"beside a busy core: {busy_wall:6.1f} s wall, {busy_cpu:6.1f} s CPU")
    worst_wall = max(w for w, _ in together) / alone_wall
    worst_cpu = max(c for _, c in together) / alone_cpu
    print(f"two together / alone: wall {worst_wall:.2f}x (goal 2.3x), CPU {worst_cpu:.2f}x (goal 1.3x)")
    print(f"beside a busy core / alone: wall {busy_wall / alone_wall:.2f}x (goal 2.3x)")


if __name__ == "__main__":
    main()
