"""The Tracker on a fake machine: lifecycle, tasks, components, intensity, threads."""

from __future__ import annotations

import csv
import logging
import threading
import time
from pathlib import Path

import pytest

from tests.fakes.fakenvml import FakeGpu, FakeNvml
from tests.fakes.fakesys import cpu_stat
from wattprint import Tracker, track
from wattprint.carbon import tables
from wattprint.meters import nvidia
from wattprint.records import J_PER_KWH

# Country FRA draws from the Electricity Maps zone FR (zone annual beats country annual).
FRA = tables.zone("FR").intensity_g_per_kwh


def rows(path: str = "emissions.csv") -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def add_rapl(machine, package_uj: int = 1_000_000, dram_uj: int = 500_000) -> None:
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=package_uj)
    machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=dram_uj)


def test_context_manager_gives_a_result_with_methods_bounds_and_intensity(machine):
    with Tracker(project_name="demo", country="FRA", interval_s=60) as tracker:
        machine.write("/proc/stat", cpu_stat(1500, 9500))  # 50 % busy meanwhile
        time.sleep(0.05)
    r = tracker.result
    assert r is not None and r.status == "finished" and r.project_name == "demo"
    assert r.cpu.method == "cpu-model" and r.ram.method == "ram-model"
    assert r.gpu.method == "none" and r.gpu.energy_kwh == 0.0
    assert r.cpu.energy_kwh > 0 and r.cpu.low_kwh < r.cpu.energy_kwh < r.cpu.high_kwh
    assert r.energy_kwh == pytest.approx(r.cpu.energy_kwh + r.ram.energy_kwh)
    assert r.intensity.value == pytest.approx(FRA) and r.intensity.zone == "FR"
    assert r.intensity.kind == "zone-annual" and r.intensity.year == tables.zone("FR").year
    assert r.location.source == "explicit"
    assert r.emissions_kg == pytest.approx(r.energy_kwh * FRA / 1000)
    assert r.emissions_low_kg <= r.emissions_kg <= r.emissions_high_kg
    assert "cpu-model" in str(r) and "FR " in str(r) and "marginal" in str(r)


def test_rapl_counters_give_exact_cpu_and_ram_energy(machine):
    add_rapl(machine)
    tracker = Tracker(country="FR").start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 36_000_000)  # +36 J
    machine.set_energy("intel-rapl:0:0", 500_000 + 7_200_000)  # +7.2 J
    r = tracker.stop()
    assert r.cpu.method == "rapl" and r.ram.method == "rapl"
    assert r.cpu.energy_kwh * J_PER_KWH == pytest.approx(36.0)
    assert r.ram.energy_kwh * J_PER_KWH == pytest.approx(7.2)
    assert r.cpu.low_kwh < r.cpu.energy_kwh < r.cpu.high_kwh


def test_gpu_counter_energy_and_model_in_record(machine, monkeypatch):
    gpus = [FakeGpu("GPU-aaaa"), FakeGpu("GPU-bbbb")]
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml(gpus))
    tracker = Tracker(country="FRA").start()
    gpus[0].energy_mj += 1_000_000  # 1000 J
    gpus[1].energy_mj += 500_000
    r = tracker.stop()
    assert r.gpu.method == "nvml-counter"
    assert r.gpu.energy_kwh * J_PER_KWH == pytest.approx(1500.0)
    row = rows()[0]
    assert row["gpu_count"] == "2" and "H100" in row["gpu_model"]
    assert float(row["gpu_energy"]) == pytest.approx(1500 / J_PER_KWH)


def test_gpu_selection_matching_nothing_is_unmeasured_not_zero(machine, monkeypatch, caplog):
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([FakeGpu("GPU-aaaa")]))
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        r = Tracker(country="FRA", gpu_ids=[3]).start().stop()
    assert r.gpu.energy_kwh is None and r.gpu.method == "unmeasured"
    assert any("gpu" in n for n in r.notes)
    assert "GPU-aaaa" in r.gpu.note
    assert any("3" in m for m in caplog.messages)
    row = rows()[0]
    assert row["gpu_energy"] == "" and row["gpu_method"] == "unmeasured" and row["notes"]
    # the measured components still count
    assert r.energy_kwh == pytest.approx(r.cpu.energy_kwh + r.ram.energy_kwh)


def test_flush_is_cumulative_and_the_run_goes_on(machine):
    add_rapl(machine)
    tracker = Tracker(country="FRA").start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 3_600_000)
    first = tracker.flush()
    machine.set_energy("intel-rapl:0", 1_000_000 + 7_200_000)
    final = tracker.stop()
    assert first.status == "running" and final.status == "finished"
    assert first.run_id == final.run_id
    assert first.cpu.energy_kwh * J_PER_KWH == pytest.approx(3.6)
    assert final.cpu.energy_kwh * J_PER_KWH == pytest.approx(7.2)
    assert [r["status"] for r in rows()] == ["running", "finished"]


def test_restart_gives_a_new_run_and_double_stop_is_harmless(machine):
    tracker = Tracker(country="FRA")
    first = tracker.start().stop()
    again = tracker.stop()
    assert again is first
    second = tracker.start().stop()
    assert second.run_id != first.run_id
    assert [r["run_id"] for r in rows()] == [first.run_id, second.run_id]


def test_stop_without_start_returns_none_and_flush_without_start_raises(machine):
    tracker = Tracker(country="FRA")
    assert tracker.stop() is None
    with pytest.raises(RuntimeError, match="start"):
        tracker.flush()
    with pytest.raises(RuntimeError, match="start"):
        tracker.start_task("x")


def test_exception_in_user_code_is_recorded_and_propagates(machine):
    tracker = Tracker(country="FRA")
    with pytest.raises(ZeroDivisionError):
        with tracker:
            raise ZeroDivisionError
    assert tracker.result.status == "failed"
    with pytest.raises(KeyboardInterrupt):
        with tracker:
            raise KeyboardInterrupt
    assert tracker.result.status == "interrupted"
    assert [r["status"] for r in rows()] == ["failed", "interrupted"]


def test_tasks_nest_and_are_measured_at_their_edges(machine):
    add_rapl(machine)
    base = 1_000_000
    tracker = Tracker(country="FRA").start()
    tracker.start_task("outer")
    machine.set_energy("intel-rapl:0", base + 10_000_000)
    with tracker.task("inner") as t:
        assert t is tracker
        machine.set_energy("intel-rapl:0", base + 15_000_000)
    outer = tracker.stop_task("outer")
    machine.set_energy("intel-rapl:0", base + 20_000_000)
    run = tracker.stop()
    tasks = {r["task_name"]: r for r in rows("emissions_tasks.csv")}
    assert set(tasks) == {"outer", "inner"}
    assert float(tasks["inner"]["cpu_energy"]) * J_PER_KWH == pytest.approx(5.0)
    assert outer.cpu.energy_kwh * J_PER_KWH == pytest.approx(15.0)
    assert outer.task_name == "outer" and outer.run_id == run.run_id
    assert run.cpu.energy_kwh * J_PER_KWH == pytest.approx(20.0)  # the run was never paused
    assert outer.emissions_kg == pytest.approx(outer.energy_kwh * FRA / 1000)


def test_task_errors_are_clear(machine):
    tracker = Tracker(country="FRA").start()
    tracker.start_task("a")
    with pytest.raises(ValueError, match="already running"):
        tracker.start_task("a")
    with pytest.raises(ValueError, match="'b' is not running.*'a'"):
        tracker.stop_task("b")
    tracker.stop()
    assert rows("emissions_tasks.csv")[0]["task_name"] == "a"  # closed with the run


def test_sampling_thread_journals_intervals(machine):
    add_rapl(machine)
    tracker = Tracker(country="FRA", interval_s=0.05).start()
    for step in range(1, 6):
        machine.set_energy("intel-rapl:0", 1_000_000 + step * 1_000_000)
        time.sleep(0.06)
    r = tracker.stop()
    journal = Path(".wattprint") / f"{r.run_id}.jsonl"
    lines = journal.read_text().splitlines()
    assert '"type":"run"' in lines[0] and '"type":"end"' in lines[-1]
    assert sum('"type":"interval"' in line for line in lines) >= 3
    assert threading.active_count() == 1 or all(
        t.name != "wattprint-sampler" for t in threading.enumerate()
    )


def test_meter_failure_in_background_is_marked_not_raised(machine, caplog):
    add_rapl(machine)
    tracker = Tracker(country="FRA", interval_s=0.05).start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 2_000_000)
    time.sleep(0.12)
    machine.remove(machine.rapl_zone_dir("intel-rapl:0"))
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        time.sleep(0.2)  # the sampler hits the vanished file
        r = tracker.stop()
    assert r.status == "finished"
    assert r.cpu.method.endswith("+error") and "not counted" in r.cpu.note
    assert r.cpu.energy_kwh * J_PER_KWH == pytest.approx(2.0)
    assert r.cpu.high_kwh is None and r.energy_high_kwh is None
    assert sum("cpu meter" in m for m in caplog.messages) == 1


def test_many_threads_share_one_tracker(machine):
    add_rapl(machine)
    tracker = Tracker(country="FRA", interval_s=0.05).start()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(20):
                with tracker.task(f"t{i}-{j}"):
                    tracker.flush()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tracker.stop()
    tracker.stop()
    assert errors == []
    assert len(rows("emissions_tasks.csv")) == 80
    assert [r["status"] for r in rows()].count("finished") == 1


def test_stop_while_threads_run_tasks(machine):
    add_rapl(machine)
    tracker = Tracker(country="FRA", interval_s=0.05).start()
    errors: list[BaseException] = []
    stopped: list[str] = []
    busy = threading.Barrier(5)  # the stop comes once every worker is inside its tasks

    def work(i: int) -> None:
        try:
            for j in range(100_000):  # until the stop ends the run under them
                with tracker.task(f"t{i}-{j}"):
                    if j == 0:
                        busy.wait(10)
                    tracker.flush()
        except RuntimeError as exc:  # "needs a running tracker": the run was stopped
            stopped.append(str(exc))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    busy.wait(10)
    result = tracker.stop()
    for t in threads:
        t.join(30)
    assert errors == [] and len(stopped) == 4
    assert all("call start() first" in s for s in stopped)
    assert tracker.stop() is result and result.status == "finished"
    assert [r["status"] for r in rows()].count("finished") == 1
    tasks = [r["task_name"] for r in rows("emissions_tasks.csv")]
    assert len(tasks) == len(set(tasks)) >= 4  # each task ended once, the stop closing the rest


def test_track_decorator_bare_and_with_arguments(machine):
    @track
    def bare(x):
        return x * 2

    @track(project_name="inference", country="DE")
    def predict(x):
        return x + 1

    assert bare(2) == 4 and predict(1) == 2
    first = predict.last_result
    predict(1)
    assert predict.last_result.run_id != first.run_id
    assert first.project_name == "inference" and first.location.country == "DEU"
    assert bare.last_result.status == "finished"
    assert [r["project_name"] for r in rows()] == ["wattprint", "inference", "inference"]
    with pytest.raises(ValueError, match="pue"):
        track(pue=0.5)


def test_track_decorator_on_async_functions(machine):
    import asyncio

    @track(country="FRA")
    async def job():
        await asyncio.sleep(0.01)
        return "done"

    assert asyncio.run(job()) == "done"
    assert job.last_result.status == "finished" and job.last_result.duration_s >= 0.01


def test_location_from_timezone_is_labelled_and_announced(machine, caplog):
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        r = Tracker().start().stop()
    assert r.location.source == "timezone" and r.location.country == "FRA"
    assert r.intensity.value == pytest.approx(FRA)
    assert any("Europe/Paris" in m and "WATTPRINT_COUNTRY" in m for m in caplog.messages)
    assert rows()[0]["location_source"] == "timezone"


def test_utc_machine_falls_back_to_world_average_with_wide_bounds(machine, caplog):
    machine.write("/etc/timezone", "Etc/UTC\n")
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        r = Tracker().start().stop()
    assert r.location.source == "world-average" and r.intensity.zone == "WORLD"
    assert r.intensity.low < r.intensity.value < r.intensity.high
    assert any("world average" in m for m in caplog.messages)


def test_explicit_intensity_and_pue(machine):
    add_rapl(machine)
    tracker = Tracker(intensity_g_per_kwh=100, pue=1.5).start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 36_000_000)
    r = tracker.stop()
    it_energy = (r.cpu.energy_kwh + r.ram.energy_kwh) * 1.5
    assert r.energy_kwh == pytest.approx(it_energy)
    assert r.emissions_kg == pytest.approx(it_energy * 100 / 1000)
    assert r.intensity.kind == "explicit" and r.intensity.source == "setting intensity_g_per_kwh"


def test_save_csv_false_writes_nothing(machine):
    r = Tracker(country="FRA", save_csv=False).start().stop()
    assert r.status == "finished"
    assert list(Path(".").iterdir()) == []


def test_output_dir_is_created(machine, tmp_path):
    out = tmp_path / "runs" / "a"
    Tracker(country="FRA", output_dir=out).start().stop()
    assert (out / "emissions.csv").is_file()


def test_the_machine_adds_the_platform_beside_codecarbons_energy(machine):
    add_rapl(machine)
    tracker = Tracker(country="FRA", pue=1.2).start()
    machine.set_energy("intel-rapl:0", 1_000_000 + 36_000_000)
    time.sleep(0.05)
    r = tracker.stop()
    assert r.platform is not None and r.platform.method == "platform-model"
    assert r.platform.energy_kwh > 0
    it = r.cpu.energy_kwh + r.ram.energy_kwh
    assert r.energy_kwh == pytest.approx(it * 1.2)  # CodeCarbon's figure: no platform
    assert r.machine_energy_kwh == pytest.approx((it + r.platform.energy_kwh) * 1.2)
    assert r.machine_emissions_kg == pytest.approx(r.machine_energy_kwh * FRA / 1000)
    assert r.machine_energy_low_kwh < r.machine_energy_kwh < r.machine_energy_high_kwh
    row = rows()[0]
    assert float(row["machine_energy_kwh"]) == pytest.approx(r.machine_energy_kwh)
    assert float(row["energy_consumed"]) == pytest.approx(r.energy_kwh)
    assert row["platform_method"] == "platform-model" and float(row["platform_energy_kwh"]) > 0


def test_a_chdir_during_the_run_does_not_move_or_break_its_files(machine, tmp_path):
    import os

    start_dir = Path.cwd()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    tracker = Tracker(country="FRA").start()
    os.chdir(elsewhere)
    result = tracker.stop()
    assert result is not None and result.status == "finished"
    assert (start_dir / "emissions.csv").is_file()
    assert not (elsewhere / "emissions.csv").exists()
    assert list((start_dir / ".wattprint").glob("*.jsonl"))
