"""Energy and emissions accounting, in plain numbers: no meter, clock, file or lock here.

A run's emissions grow one stretch at a time: the energy each component gained since the last
update, times the PUE, times the intensity valid for that stretch (the lower and upper energy
bounds times the lower and upper intensity bounds). A figure that became unknown (a meter that
failed has no upper bound any more) stays unknown: ``None`` is never counted as zero.

The tracker's sampling loop feeds ``Emissions.account``; a task's figures are the difference
of two states (``task_delta``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

#: (energy, low, high) in joules; None where unknown.
Energy = tuple[float | None, float | None, float | None]

#: A run state's emission figures, in grams, as ``Emissions.state`` names them.
EMISSION_KEYS = (
    "emissions_g",
    "emissions_low_g",
    "emissions_high_g",
    "emissions_marginal_g",
    "machine_g",
    "machine_low_g",
    "machine_high_g",
)


def sum_or_none(values: Iterable[float | None]) -> float | None:
    """The sum, or None if any value is unknown."""
    values = list(values)
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def add(acc: float | None, now: float | None, before: float | None, k: float) -> float | None:
    """``acc`` plus what grew from ``before`` to ``now``, times ``k``; None if any is unknown."""
    if acc is None or now is None or before is None:
        return None
    return acc + (now - before) * k


def sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


class Emissions:
    """A run's cumulative emissions (grams): CodeCarbon's figure (CPU + GPU + RAM) with its
    bounds and marginal figure, and the whole machine's (platform included)."""

    __slots__ = (
        "g",
        "low_g",
        "high_g",
        "marginal_g",
        "machine_g",
        "machine_low_g",
        "machine_high_g",
        "last_total",
        "last_machine",
    )

    def __init__(self, marginal: bool = False) -> None:
        self.g: float | None = 0.0
        self.low_g: float | None = 0.0
        self.high_g: float | None = 0.0
        self.marginal_g: float | None = 0.0 if marginal else None
        self.machine_g: float | None = 0.0
        self.machine_low_g: float | None = 0.0
        self.machine_high_g: float | None = 0.0
        # The energies (J) as of the last update, which the next stretch starts from.
        self.last_total: Energy = (0.0, 0.0, 0.0)
        self.last_machine: Energy = (0.0, 0.0, 0.0)

    def account(
        self,
        parts: Sequence[Energy],
        platform: Energy | None,
        factor: float,
        intensity: tuple[float, float, float],
        marginal: float | None = None,
    ) -> None:
        """Count the stretch since the last update.

        ``parts``: the cumulative (energy, low, high) of each measured component but the
        platform (whose energy is known); ``platform``: the platform's, None if unknown or
        absent; ``factor``: PUE / J_PER_KWH; ``intensity``: (value, low, high) in g/kWh valid
        for the stretch; ``marginal``: the marginal intensity then, if the run has one.
        """
        value, it_low, it_high = intensity
        total = sum(p[0] for p in parts if p[0] is not None)
        low = sum_or_none(p[1] for p in parts)
        high = sum_or_none(p[2] for p in parts)
        prev = self.last_total
        if self.g is not None and prev[0] is not None:
            self.g += (total - prev[0]) * factor * value
        self.low_g = add(self.low_g, low, prev[1], factor * it_low)
        self.high_g = add(self.high_g, high, prev[2], factor * it_high)
        if platform is not None and platform[0] is not None:
            m_total = total + platform[0]
            m_low = None if low is None or platform[1] is None else low + platform[1]
            m_high = None if high is None or platform[2] is None else high + platform[2]
            mprev = self.last_machine
            self.machine_g = add(self.machine_g, m_total, mprev[0], factor * value)
            self.machine_low_g = add(self.machine_low_g, m_low, mprev[1], factor * it_low)
            self.machine_high_g = add(self.machine_high_g, m_high, mprev[2], factor * it_high)
            self.last_machine = (m_total, m_low, m_high)
        if self.marginal_g is not None and prev[0] is not None and marginal is not None:
            self.marginal_g += (total - prev[0]) * factor * marginal
        self.last_total = (total, low, high)

    def state(self) -> dict[str, float | None]:
        return dict(
            zip(
                EMISSION_KEYS,
                (
                    self.g,
                    self.low_g,
                    self.high_g,
                    self.marginal_g,
                    self.machine_g,
                    self.machine_low_g,
                    self.machine_high_g,
                ),
                strict=True,
            )
        )


def cpu_utilization(
    start: tuple[float, float] | None, now: tuple[float, float] | None
) -> float | None:
    """Percent of the machine's CPU time that was busy between two (busy, total) readings."""
    if start and now and now[1] > start[1]:
        return 100.0 * (now[0] - start[0]) / (now[1] - start[1])
    return None


def task_delta(start: dict[str, Any], end: dict[str, Any], started_s: float) -> dict[str, Any]:
    """A task's own state: the run's state at its end minus that at its start.

    ``started_s``: the task's start, in seconds since the run's. Energies, emissions, shares,
    units of work and LLM calls are differences; the rest (methods, notes, utilisation) is the
    end's.
    """
    delta = dict(end)
    delta["duration_s"] = end["duration_s"] - started_s
    delta["components"] = {
        c: {
            **s,
            **{k: sub(s[k], start["components"][c][k]) for k in ("energy_j", "low_j", "high_j")},
        }
        for c, s in end["components"].items()
    }
    for key in EMISSION_KEYS:
        delta[key] = sub(end[key], start[key])
    before = start.get("shares", {})
    delta["shares"] = {
        c: [v - w for v, w in zip(pair, before.get(c, (0.0, 0.0)), strict=False)]
        for c, pair in end.get("shares", {}).items()
    }
    if "units" in end:  # the task's own units of work and LLM calls, not the run's
        delta["units"] = end["units"] - start.get("units", 0.0)
    if "llm" in end:
        from .llm import subtract

        delta["llm"] = subtract(end["llm"], start.get("llm") or {})
    if "process_cpu_s" in end.get("share", {}):
        was = (start.get("share") or {}).get("process_cpu_s", 0.0)
        delta["share"] = {**end["share"], "process_cpu_s": end["share"]["process_cpu_s"] - was}
    return delta


def without_upper_bounds(state: dict[str, Any], notes: Iterable[str]) -> dict[str, Any]:
    """``state`` once what happens after it is not counted: no upper bound on the emissions,
    and ``notes`` saying why."""
    return {
        **state,
        "emissions_high_g": None,
        "machine_high_g": None,
        "notes": [*state.get("notes", ()), *notes],
    }


def stalled(state: dict[str, Any], names: list[str], note: str) -> dict[str, Any]:
    """``state`` with the components ``names`` labelled as stalled (``note`` says how): their
    energy after their last reading is not counted, so they have no upper bound."""
    components = dict(state["components"])
    for n in names:
        if n in components:
            part = dict(components[n])
            part.update(high_j=None, method=f"{part.get('method', 'none')}+stalled", note=note)
            components[n] = part
    return without_upper_bounds(
        {**state, "components": components}, (f"{n}: {note}" for n in names)
    )
