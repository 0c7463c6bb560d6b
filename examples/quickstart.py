"""Track a small training job: the whole run, and each phase as a task.

    python examples/quickstart.py            # location from the machine's timezone
    WATTPRINT_COUNTRY=FRA python examples/quickstart.py

Writes emissions.csv (one row per run) and emissions_tasks.csv (one row per task) in the
current directory, and prints the run's report.
"""

from __future__ import annotations

import random

from wattprint import Tracker


def make_data(n: int) -> list[tuple[float, float]]:
    rng = random.Random(0)
    return [(x, 3.0 * x - 1.0 + rng.gauss(0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(n))]


def train(data: list[tuple[float, float]], epochs: int) -> tuple[float, float]:
    """Least squares by plain gradient descent: a CPU-bound stand-in for a training loop."""
    w = b = 0.0
    for _ in range(epochs):
        gw = gb = 0.0
        for x, y in data:
            err = w * x + b - y
            gw += err * x
            gb += err
        w -= 0.5 * gw / len(data)
        b -= 0.5 * gb / len(data)
    return w, b


def main() -> None:
    with Tracker(project_name="quickstart", interval_s=1) as tracker:
        with tracker.task("load data"):
            data = make_data(20_000)
        with tracker.task("train"):
            w, b = train(data, epochs=3000)
    print(f"fitted y = {w:.2f} x + {b:.2f}\n")
    print(tracker.result)
    print("\nrows written to emissions.csv and emissions_tasks.csv")


if __name__ == "__main__":
    main()
