"""Energy bookkeeping shared by the GPU meters: counters that may reset, power that is sampled.

Vendor-neutral (joules, watts, seconds); the NVIDIA and AMD meters feed it their readings.
"""

from __future__ import annotations

from .base import Reading

#: Samples further apart than this (a stalled sampling thread, failed polls) are not trusted to
#: describe what happened between them: the stretch becomes a labelled gap.
MAX_SAMPLE_GAP_S = 10.0


class CounterTrack:
    """Energy from a cumulative hardware counter, never negative.

    When the counter goes backwards (driver reload, GPU reset) the track re-bases at the new
    value and the lost interval is covered by a labelled gap: power x elapsed as the value, 0 as
    the low bound, power limit x elapsed as the high bound.
    """

    __slots__ = (
        "rel",
        "limit_w",
        "_base",
        "_last",
        "_t",
        "_done",
        "gap_energy",
        "gap_high",
        "gap_s",
        "had_gap",
        "reset_dt",
        "energy",
        "low",
        "high",
    )

    def __init__(self, rel: float, limit_w: float, raw_j: float, t: float) -> None:
        self.rel = rel
        self.limit_w = limit_w
        self._base = raw_j
        self._last = raw_j
        self._t = t
        self._done = 0.0  # counted energy from before the latest re-base
        self.gap_energy = 0.0
        self.gap_high = 0.0
        self.gap_s = 0.0
        self.had_gap = False
        self.reset_dt = 0.0
        self.energy = self.low = self.high = 0.0

    def update(self, raw_j: float, t: float) -> bool:
        """Take a counter value. True when it went backwards: then call :meth:`add_gap`."""
        reset = raw_j < self._last
        if reset:
            self.reset_dt = max(0.0, t - self._t)
            self._done += self._last - self._base
            self._base = raw_j
        self._last = raw_j
        self._t = t
        self._settle()
        return reset

    def add_gap(self, dt: float, power_w: float | None) -> None:
        """Cover ``dt`` seconds the counter lost with an estimate inside wide bounds."""
        limit = self.limit_w
        if power_w is None:
            power_w = 0.5 * limit  # power unreadable too: the middle of [0, limit]
        self.gap_energy += power_w * dt
        self.gap_high += max(limit, power_w) * dt  # power may briefly exceed the limit
        self.gap_s += dt
        self.had_gap = True
        self._settle()

    def _settle(self) -> None:
        counted = self._done + (self._last - self._base)
        self.energy = counted + self.gap_energy
        self.low = counted * (1.0 - self.rel)
        self.high = counted * (1.0 + self.rel) + self.gap_high


class PowerTrack:
    """Energy integrated from power samples by the trapezoid rule.

    Bounds: the sensor's relative accuracy, widened per interval by half the absolute
    difference of its two samples times its length. That is the distance between the trapezoid
    and either rectangle (left or right sample held), so for power that moves monotonically
    between samples the true integral lies inside it; faster wiggles are what the 1 s sampling
    cannot see and are not covered.
    """

    __slots__ = (
        "rel",
        "limit_w",
        "_t",
        "_p",
        "_energy",
        "_spread",
        "gap_energy",
        "gap_high",
        "gap_s",
        "had_gap",
        "energy",
        "low",
        "high",
        "tail_gap_s",
    )

    def __init__(self, rel: float, limit_w: float, power_w: float, t: float) -> None:
        self.rel = rel
        self.limit_w = limit_w
        self._t = t
        self._p = power_w
        self._energy = 0.0
        self._spread = 0.0
        self.gap_energy = 0.0
        self.gap_high = 0.0
        self.gap_s = 0.0
        self.had_gap = False
        self.energy = self.low = self.high = 0.0
        self.tail_gap_s = 0.0

    def sample(self, power_w: float, t: float) -> None:
        dt = t - self._t
        p0 = self._p
        if dt > MAX_SAMPLE_GAP_S:
            self.gap_energy += 0.5 * (p0 + power_w) * dt
            self.gap_high += max(self.limit_w, p0, power_w) * dt
            self.gap_s += dt
            self.had_gap = True
        elif dt > 0.0:
            self._energy += 0.5 * (p0 + power_w) * dt
            self._spread += 0.5 * abs(power_w - p0) * dt
        if dt >= 0.0:  # a clock that stepped back keeps the older sample
            self._t = t
            self._p = power_w

    def settle(self, now: float) -> None:
        """Totals up to ``now``, holding the last sample since it was taken."""
        tail = now - self._t
        if tail < 0.0:
            tail = 0.0
        held = self._p * tail
        energy = self._energy
        gap_energy = self.gap_energy
        gap_high = self.gap_high
        if tail > MAX_SAMPLE_GAP_S:  # nobody polled: the held sample is a guess
            gap_energy += held
            gap_high += max(self.limit_w, self._p) * tail
            self.tail_gap_s = tail
        else:
            energy += held
            self.tail_gap_s = 0.0
        spread = self._spread
        self.energy = energy + gap_energy
        low = energy * (1.0 - self.rel) - spread
        self.low = low if low > 0.0 else 0.0
        self.high = energy * (1.0 + self.rel) + spread + gap_high


class Cumulative:
    """Turns summed device totals into a Reading, never below an earlier one.

    A read holds the last power sample; the next poll may integrate that stretch lower. Keeping
    each figure at its running maximum keeps every interval between two reads >= 0, and
    low <= energy <= high still holds (each was below/above the other's earlier value too).
    """

    __slots__ = ("energy", "low", "high", "gap_s")

    def __init__(self) -> None:
        self.energy = self.low = self.high = self.gap_s = 0.0

    def reading(self, energy: float, low: float, high: float, gap_s: float, method: str) -> Reading:
        if energy < self.energy:
            energy = self.energy
        if low < self.low:
            low = self.low
        if high < self.high:
            high = self.high
        if gap_s < self.gap_s:
            gap_s = self.gap_s
        self.energy, self.low, self.high, self.gap_s = energy, low, high, gap_s
        return Reading(energy, low, high, method, gap_s)


def combined_method(counter_method: str, power_method: str, counters: int, powers: int) -> str:
    if powers == 0:
        return counter_method
    if counters == 0:
        return power_method
    return f"{counter_method}+{power_method}"
