"""Choose a meter for each component, and say what was tried and why.

Order of preference, per component: a hardware counter first, a model last. Every GPU source
that works is used (a machine may hold NVIDIA and AMD cards); for CPU and RAM the first usable
source wins.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from .base import COMPONENTS, Meter, Probe, ProbeContext

ProbeFn = Callable[[ProbeContext], list[Probe]]


def _probes() -> dict[str, list[tuple[str, ProbeFn]]]:
    # Imported here so that `import wattprint` loads none of them.
    from . import amd, cpu_model, memory, nvidia, platform, rapl

    return {
        "cpu": [("rapl", rapl.probe), ("cpu-model", cpu_model.probe)],
        "ram": [("rapl", rapl.probe), ("ram-model", memory.probe)],
        "gpu": [("nvml", nvidia.probe), ("amdsmi", amd.probe)],
        "platform": [("platform-model", platform.probe)],
    }


@dataclass
class ComponentChoice:
    component: str
    chosen: list[Probe] = field(default_factory=list)
    tried: list[Probe] = field(default_factory=list)

    @property
    def meters(self) -> list[Meter]:
        return [p.meter for p in self.chosen if p.meter is not None]

    @property
    def method(self) -> str:
        return "+".join(m.method for m in self.meters) or "none"


@dataclass
class Detection:
    """Per component: which meters were chosen, everything tried, and what to do about it."""

    components: dict[str, ComponentChoice]

    def __getitem__(self, component: str) -> ComponentChoice:
        return self.components[component]

    def close(self) -> None:
        for choice in self.components.values():
            for meter in choice.meters:
                try:
                    meter.close()
                except Exception:  # closing is best effort
                    pass

    def notes(self) -> list[str]:
        """What detection found that a record must carry, so that a CSV alone tells why a
        figure is a model or missing: a counter there but unusable (unreadable RAPL, a GPU
        selection that matched nothing), a model standing in, what a usable source ignored."""
        out: list[str] = []
        for name, choice in self.components.items():
            for p in choice.tried:
                if p in choice.chosen:
                    out.extend(f"{name}: {note}" for note in p.notes)
                elif choice.chosen and choice.chosen[0].name == "user":
                    continue  # the user's figure: why a counter failed does not matter
                elif p.present or (not p.usable and name in ("cpu", "ram")):
                    # Hardware there but unmeasured, or why a CPU/RAM counter gave way to a
                    # model; a GPU library missing on a machine without such GPUs says nothing.
                    fix = f" (fix: {p.fix})" if p.fix else ""
                    out.append(f"{name}: {p.name} not used: {p.reason}{fix}")
        return out

    def __str__(self) -> str:
        lines = []
        for name, choice in self.components.items():
            lines.append(f"{name}: {choice.method}")
            for p in choice.tried:
                mark = "chosen" if p in choice.chosen else ("usable" if p.usable else "not usable")
                lines.append(f"  - {p.name} [{mark}]: {p.reason}")
                if p.fix and not p.usable:
                    lines.append(f"      fix: {p.fix}")
        return "\n".join(lines)


def _run(fn: ProbeFn, ctx: ProbeContext, name: str, component: str) -> list[Probe]:
    try:
        return fn(ctx)
    except Exception as exc:  # a broken driver must not stop the other components
        return [Probe(name, component, False, f"probe failed: {type(exc).__name__}: {exc}")]


def probe_all(ctx: ProbeContext) -> Detection:
    """Open the best meters for this machine. The caller owns them (``Detection.close``)."""
    cache: dict[str, list[Probe]] = {}
    components: dict[str, ComponentChoice] = {}
    for component, sources in _probes().items():
        choice = ComponentChoice(component)
        for name, fn in sources:
            if choice.chosen and component != "gpu":
                break  # a model is only probed (and its warnings said) when it is needed
            if name not in cache:  # rapl answers for cpu and ram in one probe
                cache[name] = _run(fn, ctx, name, component)
            for p in cache[name]:
                if p.component != component:
                    continue
                choice.tried.append(p)
                if p.usable and (component == "gpu" or not choice.chosen):
                    choice.chosen.append(p)
        # Meters probed but not chosen (a model when a counter won) are closed right away.
        for p in choice.tried:
            if p.meter is not None and p not in choice.chosen:
                p.meter.close()
        if component in ctx.power:  # the user's figure wins; what it replaced stays listed
            from . import user

            probe = functools.partial(user.probe, component=component, replaced=choice.meters)
            mine = _run(lambda c, p=probe: [p(c)], ctx, "user", component)
            choice.tried.insert(0, mine[0])
            if mine[0].usable:
                choice.chosen = [mine[0]]
        components[component] = choice
    return Detection({c: components[c] for c in COMPONENTS})
