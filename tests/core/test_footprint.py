"""Embodied emissions, the attributed share, functional units and the SCI score in the record."""

from __future__ import annotations

import csv
import dataclasses
import logging
import time

import pytest

from tests.fakes.fakesys import cpu_stat
from wattprint import Tracker
from wattprint.embodied import HOURS_PER_YEAR, charge, model, table
from wattprint.embodied.share import attributed_share
from wattprint.footprint import SCI_NOTE, sci_g_per_unit, sci_parts
from wattprint.records import to_row

# Boavizta's published gwp factors (boaviztapi data/factors.yml), written out by hand.
CPU_DIE_KG_PER_MM2, CPU_BASE_KG = 0.0197, 9.14
RAM_DIE_KG_PER_CM2, RAM_BASE_KG = 2.2, 5.22
SSD_DIE_KG_PER_CM2, SSD_BASE_KG = 2.2, 6.34
MOTHERBOARD_KG, PSU_KG_PER_KG, RACK_CASE_KG, ASSEMBLY_KG = 66.1, 24.3, 150.0, 6.68
# Memory densities (GB/cm2) Boavizta lists (crowdsourcing/ram_manufacture.csv,
# ssd_manufacture.csv); with no process given, wattprint takes their mean.
RAM_DENSITIES = (0.625, 1.25, 1.75, 2.375, 0.75, 1.0, 1.313, 1.875, 0.75, 0.875, 1.125)
SSD_DENSITIES = (
    16.4,
    49.6,
    48.5,
    53.6,
    90.9,
    57.5,
    76.3,
    96.9,
    128,
    19,
    23,
    33,
    41,
    57,
    71,
    31,
    45.5,
    76.1,
    28.5,
)


def rows(path: str = "emissions.csv") -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_dell_r740_embodied_per_hour_by_hand() -> None:
    # Boavizta's dellR740 archetype: 2 CPUs x 24 cores x 24.5 mm2 per core, 12 x 32 GB RAM,
    # one 400 GB SSD, two 2.99 kg power supplies, a rack case.
    cpus = 2 * (24 * 24.5 * CPU_DIE_KG_PER_MM2 + CPU_BASE_KG)  # 2 x (11.5836 + 9.14) = 41.4472
    ram_density = sum(RAM_DENSITIES) / len(RAM_DENSITIES)  # 13.688 / 11 = 1.244364
    ram = 12 * (32 / ram_density * RAM_DIE_KG_PER_CM2 + RAM_BASE_KG)  # 678.91 + 62.64 = 741.55
    ssd_density = sum(SSD_DENSITIES) / len(SSD_DENSITIES)  # 1042.8 / 19 = 54.884211
    ssd = 400 / ssd_density * SSD_DIE_KG_PER_CM2 + SSD_BASE_KG  # 16.034 + 6.34 = 22.374
    chassis = MOTHERBOARD_KG + 2 * 2.99 * PSU_KG_PER_KG + RACK_CASE_KG + ASSEMBLY_KG  # 368.094
    total = cpus + ram + ssd + chassis  # 1173.46 kgCO2e
    assert total == pytest.approx(1173.46, abs=0.01)
    per_hour = total / (4 * 8760)  # four years of 8760 hours: 0.03349 kg (33.5 g) per hour
    assert per_hour == pytest.approx(0.03349, abs=1e-5)

    row = table.get("server", "dellR740")
    assert row is not None and row.value == pytest.approx(total, rel=1e-6)
    assert row.low < row.value < row.high
    density = table.get("factor", "ram_density")
    assert density is not None and density.value == pytest.approx(ram_density, rel=1e-6)
    kg = model.server_kg(2, 24, 24.5, 384, 12, ram_density, 1, 400, ssd_density, 0, 2, 2.99)
    assert kg == pytest.approx(total, rel=1e-9)
    rate = model.Estimate(kg, row.low, row.high, "boavizta-components", row.source).per_hour(4)
    assert rate["kg_per_h"] == pytest.approx(per_hour, rel=1e-9)
    assert charge(rate, 1800, 1.0)[0] == pytest.approx(per_hour / 2, rel=1e-9)  # half an hour


def test_cloud_instance_is_its_share_of_the_host_by_hand() -> None:
    # CCF: m5.large runs on a host of 96 vCPUs whose embodied total is 1610.79 kgCO2e.
    found = model.estimate(
        "", 1, 2, 8.0, [], virtual=True, cloud_provider="aws", instance_type="m5.large"
    )
    assert found.method == "ccf-instance" and not found.warnings
    assert found.kg == pytest.approx(1610.79 * 2 / 96, rel=1e-6)  # 33.56 kg
    assert found.low_kg < found.kg < found.high_kg
    assert found.per_hour(4)["kg_per_h"] == pytest.approx(33.558 / 35040, rel=1e-4)


@pytest.mark.parametrize(
    ("cpu", "virtual", "instance", "method"),
    [
        ("AMD EPYC 7763 64-Core Processor", False, None, "boavizta-components"),
        ("Mystery CPU 9000", False, None, "boavizta-archetype"),
        ("AMD EPYC 7763 64-Core Processor", True, None, "boavizta-archetype"),
        ("AMD EPYC 7763 64-Core Processor", True, "no-such.instance", "boavizta-archetype"),
    ],
)
def test_every_estimate_is_bounded_and_unknowns_warn(cpu, virtual, instance, method) -> None:
    found = model.estimate(
        cpu,
        1,
        8,
        32.0,
        ["NVIDIA Quantum Widget"],
        virtual=virtual,
        cloud_provider="aws",
        instance_type=instance,
    )
    assert found.method == method
    assert 0 < found.low_kg < found.kg < found.high_kg
    # The unknown GPU is Boavizta's default GPU, said once, in every case.
    assert sum("Quantum Widget" in w for w in found.warnings) == 1
    assert "GPUs: NVIDIA" not in found.detail and "GPUs: DEFAULT" in found.detail
    if method == "boavizta-archetype":
        assert len(found.warnings) == 2
        assert any("Boavizta's medium compute server" in w for w in found.warnings)
        assert found.high_kg / found.low_kg > 5  # wide bounds, never zero
    else:
        assert len(found.warnings) == 1


def test_gpus_are_costed_per_model_times_their_count() -> None:
    one = model.estimate("AMD EPYC 7763 64-Core Processor", 1, 8, 32.0, ["NVIDIA A100-SXM4-80GB"])
    many = model.estimate(
        "AMD EPYC 7763 64-Core Processor", 1, 8, 32.0, {"NVIDIA A100-SXM4-80GB": 1_000_000}
    )
    gpu = table.get("gpu", "NVIDIA A100 SXM4 80GB")
    assert gpu is not None
    assert many.kg - one.kg == pytest.approx(999_999 * gpu.value)
    assert "1000000 x NVIDIA A100 SXM4 80GB" in many.detail
    bare = model.estimate("", 1, 8, 32.0, {"NVIDIA A100-SXM4-80GB": 2}, virtual=True)
    assert bare.method == "boavizta-archetype" and "2 x NVIDIA A100 SXM4 80GB" in bare.detail
    no_provider = model.estimate("", 1, 2, 8.0, [], virtual=True, instance_type="m5.large")
    assert "needs cloud_provider" in no_provider.warnings[0]


def test_known_gpu_is_matched_by_its_nvml_name() -> None:
    row = model.find_gpu_row("NVIDIA A100-SXM4-80GB")
    assert row is not None and row.key == "NVIDIA A100 SXM4 80GB"
    assert model.find_gpu_row("NVIDIA GeForce GT 210") is None
    assert model.find_gpu_row("NVIDIA H100 80GB HBM3").key == "NVIDIA H100 SXM 80GB"
    assert model.find_gpu_row("NVIDIA H100 SXM5 80 GB").key == "NVIDIA H100 SXM 80GB"
    assert model.find_gpu_row("NVIDIA H100 PCIe").key == "NVIDIA H100 PCIe 80GB"


def test_attributed_share_by_mode() -> None:
    meta = {"tracking_mode": "machine", "machine": {"cpu_count": 4}}
    state = {"duration_s": 10.0, "share": {"process_cpu_s": 5.0}}
    assert attributed_share(meta, state) == 1.0
    process = {**meta, "tracking_mode": "process"}
    assert attributed_share(process, state) == pytest.approx(5.0 / (10.0 * 4))
    assert attributed_share(process, {"duration_s": 10.0}) is None  # not read: unknown
    job = {"duration_s": 10.0, "share": {"process_cpu_s": 5.0, "job": 0.25}}
    assert attributed_share(process, job) == 0.25 and attributed_share(meta, job) == 0.25
    # What attribution charged ([charged J, machine J]): the platform's share, else the CPU's.
    charged = {"duration_s": 10.0, "shares": {"cpu": [30.0, 100.0], "platform": [20.0, 80.0]}}
    job_mode = {**meta, "tracking_mode": "job"}
    assert attributed_share(job_mode, charged) == pytest.approx(0.25)
    del charged["shares"]["platform"]
    assert attributed_share(job_mode, charged) == pytest.approx(0.3)


def test_machine_run_charges_the_whole_machine_per_hour(machine) -> None:
    with Tracker(country="FRA", interval_s=60) as tracker:
        time.sleep(0.2)
    r = tracker.result
    # The fake machine: one AMD EPYC 7763 (64 cores), 16.4 GB of RAM, no GPU.
    expected = model.estimate("AMD EPYC 7763 64-Core Processor", 1, 4, 16.384, []).per_hour(4)
    assert r.embodied_method == "boavizta-components" and "Boavizta" in r.embodied_source
    hours = r.duration_s / 3600
    assert r.embodied_kg == pytest.approx(expected["kg_per_h"] * hours, rel=1e-6)
    assert r.embodied_low_kg < r.embodied_kg < r.embodied_high_kg
    row = rows()[-1]
    assert float(row["embodied_kg"]) == pytest.approx(r.embodied_kg)
    assert row["embodied_method"] == "boavizta-components"
    # Beside the operational emissions, never in them.
    assert float(row["emissions"]) == pytest.approx(r.emissions_kg)
    assert r.emissions_kg != pytest.approx(r.emissions_kg + r.embodied_kg, rel=1e-12, abs=0)


def test_lifetime_setting_spreads_the_same_hardware_thinner(machine) -> None:
    results = []
    for years in (4, 8):
        with Tracker(country="FRA", interval_s=60, hardware_lifetime_years=years) as t:
            time.sleep(0.1)
        results.append(t.result.embodied_kg / t.result.duration_s)
    assert results[1] == pytest.approx(results[0] / 2, rel=1e-6)


def test_unknown_cpu_gets_the_archetype_and_one_warning(machine, caplog) -> None:
    machine.write("/proc/cpuinfo", "processor\t: 0\nmodel name\t: Mystery CPU 9000\n\n")
    caplog.set_level(logging.WARNING, logger="wattprint")
    for _ in range(2):
        with Tracker(country="FRA", interval_s=60) as tracker:
            pass
    r = tracker.result
    assert r.embodied_method == "boavizta-archetype" and r.embodied_kg > 0
    assert r.embodied_high_kg / r.embodied_low_kg > 5
    said = [m for m in caplog.messages if "medium compute server" in m]
    assert len(said) == 1


def test_process_mode_charges_its_share_of_the_machine(machine) -> None:
    with Tracker(country="FRA", interval_s=60, tracking_mode="process") as tracker:
        end = time.process_time() + 0.3
        while time.process_time() < end:  # busy: this process uses some of the CPU
            pass
    r = tracker.result
    full = model.estimate("AMD EPYC 7763 64-Core Processor", 1, 4, 16.384, []).per_hour(4)
    whole = full["kg_per_h"] * r.duration_s / 3600
    # One busy thread of the fake machine's 4: about a quarter (the sampler thread adds a little)
    assert 0 < r.embodied_kg < whole / 2


def test_sci_by_hand_for_a_small_run(machine) -> None:
    with Tracker(country="FRA", interval_s=60, functional_unit="1000 inferences") as tracker:
        tracker.add_units(3)
        tracker.add_units(1)
    r = tracker.result
    assert r.units == 4 and r.functional_unit == "1000 inferences"
    # A small run, by hand: E x I = 120 g, M = 0.036 kg/h for half an hour = 18 g, R = 4.
    small = dataclasses.replace(
        r,
        emissions_kg=0.120,
        emissions_low_kg=0.100,
        emissions_high_kg=0.150,
        embodied_kg=0.018,
        embodied_low_kg=0.010,
        embodied_high_kg=0.030,
    )
    sci, low, high = sci_g_per_unit(sci_parts(small))
    assert sci == pytest.approx((120 + 18) / 4)  # 34.5 g per 1000 inferences
    assert low == pytest.approx((100 + 10) / 4) and high == pytest.approx((150 + 30) / 4)
    row = to_row(small, "test")
    assert row["sci_g_per_unit"] == pytest.approx(34.5)
    assert row["units"] == 4 and row["functional_unit"] == "1000 inferences"
    assert "SCI 34.5 gCO2e per 1000 inferences" in str(small)
    written = rows()[-1]
    assert float(written["sci_g_per_unit"]) == pytest.approx(
        (r.emissions_kg + r.embodied_kg) * 1000 / 4
    )


def _calls(calls: int, unknown: int, energy: float, low: float, gwp: float, high: float):
    """A run's llm field (per provider/model), as the tracker's collector keeps it."""
    return {
        "openai/gpt-4o-mini": {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "host": "",
            "note": "",
            "calls": calls,
            "unknown_calls": unknown,
            "input_tokens": 40,
            "output_tokens": 80,
            "energy_kwh": energy,
            "energy_low_kwh": energy / 2,
            "energy_high_kwh": energy * 2,
            "emissions_kg": gwp,
            "emissions_low_kg": low,
            "emissions_high_kg": high,
        }
    }


def test_sci_adds_the_llm_calls_once_by_hand(machine) -> None:
    with Tracker(country="FRA", interval_s=60, functional_unit="answer") as tracker:
        tracker.add_units(10)
    assert SCI_NOTE in rows()[-1]["notes"]  # the record says what its score adds up
    small = dataclasses.replace(
        tracker.result,
        emissions_kg=0.010,
        emissions_low_kg=0.008,
        emissions_high_kg=0.012,
        embodied_kg=0.002,
        embodied_low_kg=0.001,
        embodied_high_kg=0.003,
        llm=_calls(4, 0, 0.002, 0.004, 0.008, 0.016),
    )
    # (E x I 10 g + LLM 8 g + M 2 g) / 10 answers = 2 g per answer. The calls' 2 Wh are spent
    # on the provider's grid: EcoLogits' 8 g already holds them, no local intensity applies.
    sci, low, high = sci_g_per_unit(sci_parts(small))
    assert sci == pytest.approx(2.0)
    assert low == pytest.approx((8 + 4 + 1) / 10) and high == pytest.approx((12 + 16 + 3) / 10)
    row = to_row(small, "test")
    assert row["sci_g_per_unit"] == pytest.approx(2.0) and SCI_NOTE in row["notes"]
    assert float(row["emissions"]) == pytest.approx(0.010)  # the calls stay out of emissions
    assert "SCI 2 gCO2e per answer [1.3 - 3.1] = (E x I 10 g + LLM 8 g + M 2 g) / 10" in str(small)
    # Calls EcoLogits could not estimate: the score is unknown, never the calls taken as 0 g.
    unknown = dataclasses.replace(small, llm=_calls(4, 4, 0.0, 0.0, 0.0, 0.0))
    assert sci_g_per_unit(sci_parts(unknown)) == (None, None, None)
    assert "SCI unknown per answer" in str(unknown)
    some = dataclasses.replace(small, llm=_calls(4, 1, 0.002, 0.004, 0.008, 0.016))
    assert sci_g_per_unit(sci_parts(some))[2] is None  # one call unestimated: no upper bound


def test_sci_needs_units_and_add_units_checks_its_number(machine) -> None:
    tracker = Tracker(country="FRA", interval_s=60)
    tracker.start()
    for bad in (-1, float("nan"), "3", True):
        with pytest.raises(ValueError, match="add_units"):
            tracker.add_units(bad)
    r = tracker.stop()
    assert r.units is None and rows()[-1]["sci_g_per_unit"] == ""
    assert SCI_NOTE not in rows()[-1]["notes"]
    with pytest.raises(RuntimeError, match="start"):
        tracker.add_units(1)


def test_functional_units_setting_is_the_count_without_add_units(machine) -> None:
    with Tracker(
        country="FRA", interval_s=60, functional_unit="image", functional_units=250
    ) as tracker:
        pass
    assert tracker.result.units == 250
    assert float(rows()[-1]["sci_g_per_unit"]) > 0


def test_a_task_counts_its_own_units(machine) -> None:
    with Tracker(country="FRA", interval_s=60, functional_unit="batch") as tracker:
        tracker.add_units(2)
        with tracker.task("eval"):
            machine.write("/proc/stat", cpu_stat(1500, 9500))
            tracker.add_units(5)
    assert tracker.result.units == 7
    with open("emissions_tasks.csv", newline="") as f:
        task = list(csv.DictReader(f))[-1]
    assert float(task["units"]) == 5
    assert float(task["embodied_kg"]) <= tracker.result.embodied_kg


def test_hours_per_year() -> None:
    assert HOURS_PER_YEAR == 8760  # 4 years = 35040 h, the lifetime Boavizta and CCF use
