"""LLM API calls through EcoLogits, against a local OpenAI-compatible server (no network)."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
import time

import pytest

from tests.fakes.receiver import Receiver

openai = pytest.importorskip("openai", reason="the test extra installs openai")
pytest.importorskip("ecologits", reason="the test extra installs wattprint[llm]")

from wattprint import Tracker  # noqa: E402

KNOWN = "gpt-4o-mini"  # a model EcoLogits 0.11 knows
UNKNOWN = "acme-local-llama-7b"  # one it does not


def chat_completion(model: str, prompt_tokens: int, completion_tokens: int) -> bytes:
    """A chat.completion body as OpenAI's API reference gives it."""
    return json.dumps(
        {
            "id": "chatcmpl-test123",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_test",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello there.", "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    ).encode()


def answer(request):
    body = json.loads(request.body)
    if not request.path.endswith("/chat/completions"):
        return 404, b'{"error": {"message": "not found"}}', {"Content-Type": "application/json"}
    tokens = 20 if body["model"] == KNOWN else 35
    return 200, chat_completion(body["model"], 12, tokens), {"Content-Type": "application/json"}


@pytest.fixture
def server():
    with Receiver(respond=answer) as receiver:
        yield receiver


def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="test-key", max_retries=0)


def ask(c, model: str):
    return c.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])


def last_row() -> dict[str, str]:
    with open("emissions.csv", newline="") as f:
        return list(csv.DictReader(f))[-1]


def test_calls_are_added_per_model_with_ecologits_ranges(machine, server):
    c = client(server)
    with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
        answers = [ask(c, KNOWN), ask(c, KNOWN)]
    assert len(server.requests) == 2
    energy = [a.impacts.energy.value for a in answers]  # EcoLogits' own ranges, per call
    gwp = [a.impacts.gwp.value for a in answers]
    r = tracker.result
    entry = r.llm[f"openai/{KNOWN}"]
    assert entry["calls"] == 2 and entry["unknown_calls"] == 0
    assert entry["input_tokens"] == 24 and entry["output_tokens"] == 40
    assert entry["host"] == "127.0.0.1"
    assert entry["energy_low_kwh"] == pytest.approx(sum(e.min for e in energy))
    assert entry["energy_high_kwh"] == pytest.approx(sum(e.max for e in energy))
    assert entry["emissions_kg"] == pytest.approx(sum((g.min + g.max) / 2 for g in gwp))
    row = last_row()
    assert int(row["llm_calls"]) == 2
    low, mid, high = (float(row[f"llm_energy{s}_kwh"]) for s in ("_low", "", "_high"))
    assert 0 < low <= mid <= high
    e_low, e_mid, e_high = (float(row[f"llm_emissions{s}_kg"]) for s in ("_low", "", "_high"))
    assert 0 < e_low <= e_mid <= e_high
    assert json.loads(row["llm_detail"])[f"openai/{KNOWN}"]["output_tokens"] == 40
    # The remote part stays beside the local one: emissions are the machine's alone.
    assert float(row["emissions"]) == pytest.approx(r.emissions_kg)
    assert "LLM calls 2" in str(r)


def test_unknown_model_is_unknown_with_a_note_never_zero(machine, server):
    c = client(server)
    with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
        ask(c, KNOWN)
        ask(c, UNKNOWN)
    entry = tracker.result.llm[f"openai/{UNKNOWN}"]
    assert entry["calls"] == 1 and entry["unknown_calls"] == 1 and entry["output_tokens"] == 35
    assert UNKNOWN in entry["note"]
    row = last_row()
    assert int(row["llm_calls"]) == 2
    assert float(row["llm_energy_kwh"]) > 0  # the known call's estimate
    assert row["llm_energy_high_kwh"] == "" and row["llm_emissions_high_kg"] == ""  # unbounded
    assert "1 call(s) unknown" in str(tracker.result)


def test_only_unknown_calls_leave_the_totals_empty(machine, server):
    c = client(server)
    with Tracker(country="FRA", interval_s=60, track_llm_calls=True):
        ask(c, UNKNOWN)
    row = last_row()
    assert row["llm_calls"] == "1" and row["llm_energy_kwh"] == "" and row["llm_emissions_kg"] == ""


def test_async_client_and_calls_outside_a_run(machine, server):
    async_client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0)

    async def two_calls():
        for _ in range(2):
            await async_client.chat.completions.create(
                model=KNOWN, messages=[{"role": "user", "content": "Hi"}]
            )

    with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
        asyncio.run(two_calls())
    assert tracker.result.llm[f"openai/{KNOWN}"]["calls"] == 2
    ask(client(server), KNOWN)  # after the run: answered as usual, counted nowhere
    assert tracker.result.llm[f"openai/{KNOWN}"]["calls"] == 2
    with Tracker(country="FRA", interval_s=60) as plain:  # the setting off: not collected
        ask(client(server), KNOWN)
    assert plain.result.llm is None and last_row()["llm_calls"] == ""


def test_a_task_lists_its_own_calls(machine, server):
    c = client(server)
    with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
        ask(c, KNOWN)
        with tracker.task("summarise"):
            ask(c, KNOWN)
            ask(c, UNKNOWN)
    with open("emissions_tasks.csv", newline="") as f:
        task = list(csv.DictReader(f))[-1]
    detail = json.loads(task["llm_detail"])
    assert detail[f"openai/{KNOWN}"]["calls"] == 1 and detail[f"openai/{UNKNOWN}"]["calls"] == 1
    assert tracker.result.llm[f"openai/{KNOWN}"]["calls"] == 2


def test_a_tracker_without_the_setting_never_imports_ecologits(tmp_path):
    code = (
        "import sys, wattprint\n"
        "t = wattprint.Tracker(save_csv=False, country='FRA', interval_s=60)\n"
        "t.start(); t.stop()\n"
        "print('ecologits' in sys.modules, 'openai' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["False", "False"]
