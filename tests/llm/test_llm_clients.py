"""LLM calls through the other clients EcoLogits instruments (Anthropic, Mistral, Google,
LiteLLM) and streamed answers, each against a local server that answers in the provider's
documented format (no network). The figures are EcoLogits' own, read back from what it
attached to each answer; unknown models stay unknown."""

from __future__ import annotations

import asyncio
import csv
import json
import time
from typing import Any

import pytest

from tests.fakes.receiver import Receiver

pytest.importorskip("ecologits", reason="the test extra installs wattprint[llm]")

from wattprint import Tracker  # noqa: E402

JSON = {"Content-Type": "application/json"}
SSE = {"Content-Type": "text/event-stream"}
CLAUDE = "claude-haiku-4-5-20251001"  # models EcoLogits 0.11 knows
MISTRAL = "mistral-small-latest"
GEMINI = "gemini-2.5-flash"
GPT = "gpt-4o-mini"
UNKNOWN = "acme-local-llama-7b"


def sse(events: list[tuple[str | None, dict[str, Any] | str]]) -> bytes:
    """Server-sent events: ``event:`` lines where the provider names them, ``data:`` JSON."""
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        out.append((f"event: {name}\n" if name else "") + f"data: {text}\n\n")
    return "".join(out).encode()


# Anthropic's Messages API (docs.anthropic.com, "Messages" and "Streaming Messages").
def anthropic_message(model: str, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    return {
        "id": "msg_01test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "Hello there."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
    }


def anthropic_stream(model: str, tokens_in: int, tokens_out: int) -> bytes:
    start = {**anthropic_message(model, tokens_in, 1), "content": [], "stop_reason": None}
    return sse(
        [
            ("message_start", {"type": "message_start", "message": start}),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            ("ping", {"type": "ping"}),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": "Hello"},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": " there."},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": tokens_out},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    )


def anthropic_server(request):
    body = json.loads(request.body)
    if request.path != "/v1/messages":
        return 404, b'{"type": "error", "error": {"type": "not_found_error"}}', JSON
    if body.get("stream"):
        return 200, anthropic_stream(body["model"], 14, 23), SSE
    return 200, json.dumps(anthropic_message(body["model"], 14, 23)).encode(), JSON


# Mistral's chat completions (docs.mistral.ai, API "Chat Completion").
def mistral_completion(model: str) -> dict[str, Any]:
    return {
        "id": "cmpl-test",
        "object": "chat.completion",
        "model": model,
        "created": int(time.time()),
        "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": "Bonjour.",
                    "tool_calls": None,
                    "prefix": False,
                },
            }
        ],
    }


def mistral_stream(model: str) -> bytes:
    def chunk(delta: dict[str, Any], finish: str | None, usage: bool = False) -> dict[str, Any]:
        c = {
            "id": "cmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage:
            c["usage"] = {"prompt_tokens": 16, "completion_tokens": 3, "total_tokens": 19}
        return c

    return sse(
        [
            (None, chunk({"role": "assistant", "content": ""}, None)),
            (None, chunk({"content": "Bon"}, None)),
            (None, chunk({"content": "jour"}, None)),
            (None, chunk({"content": "."}, "stop", usage=True)),
            (None, "[DONE]"),
        ]
    )


def mistral_server(request):
    body = json.loads(request.body)
    if request.path != "/v1/chat/completions":
        return 404, b'{"message": "not found"}', JSON
    if body.get("stream"):
        return 200, mistral_stream(body["model"]), SSE
    return 200, json.dumps(mistral_completion(body["model"])).encode(), JSON


# Gemini's generateContent (ai.google.dev, API reference "Generating content").
def gemini_answer(model: str) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": "Hi."}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 27, "totalTokenCount": 36},
        "modelVersion": model,
        "responseId": "resp-test",
    }


def gemini_server(request):
    if ":generateContent" not in request.path:
        return 404, b'{"error": {"code": 404, "status": "NOT_FOUND"}}', JSON
    model = request.path.split("/models/")[1].split(":")[0]
    return 200, json.dumps(gemini_answer(model)).encode(), JSON


# OpenAI's chat completions, streamed (platform.openai.com, "Streaming" and the chunk object):
# the usage chunk comes only when the request asks for it (stream_options.include_usage).
def openai_stream(model: str, include_usage: bool = True) -> bytes:
    def chunk(delta: dict[str, Any] | None, finish: str | None) -> dict[str, Any]:
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        )
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_t",
            "choices": choices,
            "usage": None,
        }

    usage = chunk(None, None)
    usage["usage"] = {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}
    return sse(
        [
            (None, chunk({"role": "assistant", "content": ""}, None)),
            *((None, chunk({"content": w}, None)) for w in ("One", " two", " three")),
            (None, chunk({}, "stop")),
            *([(None, usage)] if include_usage else []),
            (None, "[DONE]"),
        ]
    )


def openai_server(request):
    if not request.path.endswith("/chat/completions"):
        return 404, b'{"error": {"message": "not found"}}', JSON
    body = json.loads(request.body)
    asked = bool((body.get("stream_options") or {}).get("include_usage"))
    return 200, openai_stream(body["model"], include_usage=asked), SSE


def serve(respond):
    return Receiver(respond=respond)


def last_row() -> dict[str, str]:
    with open("emissions.csv", newline="") as f:
        return list(csv.DictReader(f))[-1]


def bounds(value: Any) -> tuple[float, float]:
    """An EcoLogits value's (min, max): a range, or a number where it has none."""
    return (value.min, value.max) if hasattr(value, "min") else (value, value)


def assert_entry(entry: dict[str, Any], impacts: list[Any], tokens: tuple[int, int]) -> None:
    """The run's entry holds the calls' EcoLogits ranges, summed, and their tokens."""
    energy = [bounds(i.energy.value) for i in impacts]
    gwp = [bounds(i.gwp.value) for i in impacts]
    assert entry["calls"] == len(impacts) and entry["unknown_calls"] == 0
    assert (entry["input_tokens"], entry["output_tokens"]) == tokens
    assert entry["host"] == "127.0.0.1"
    assert entry["energy_low_kwh"] == pytest.approx(sum(low for low, _ in energy))
    assert entry["energy_high_kwh"] == pytest.approx(sum(high for _, high in energy))
    assert entry["emissions_kg"] == pytest.approx(sum((low + high) / 2 for low, high in gwp))
    assert 0 < entry["energy_low_kwh"] <= entry["energy_high_kwh"]


def anthropic_client(server):
    anthropic = pytest.importorskip("anthropic", reason="the test extra installs anthropic")
    return anthropic.Anthropic(base_url=server.url, api_key="test-key", max_retries=0)


def test_anthropic_messages_and_an_unknown_model(machine):
    with serve(anthropic_server) as server:
        client = anthropic_client(server)
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            answer = client.messages.create(
                model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
            )
            client.messages.create(
                model=UNKNOWN, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
            )
    assert answer.impacts.energy is not None  # EcoLogits' estimate, attached to the answer
    assert_entry(tracker.result.llm[f"anthropic/{CLAUDE}"], [answer.impacts], (14, 23))
    unknown = tracker.result.llm[f"anthropic/{UNKNOWN}"]
    assert unknown["unknown_calls"] == 1 and UNKNOWN in unknown["note"]
    assert unknown["energy_kwh"] == 0.0  # not added: the totals leave their upper bound open
    row = last_row()
    assert int(row["llm_calls"]) == 2 and row["llm_energy_high_kwh"] == ""


def test_anthropic_streams_raw_and_through_the_helper(machine):
    from ecologits.tracers.utils import llm_impacts

    with serve(anthropic_server) as server:
        client = anthropic_client(server)
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            with client.messages.stream(
                model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
            ) as s:
                text = "".join(s.text_stream)
            helper_impacts = s.impacts  # EcoLogits sets it once the text is read
            started = time.perf_counter()
            events = client.messages.create(
                model=CLAUDE,
                max_tokens=64,
                stream=True,
                messages=[{"role": "user", "content": "Hi"}],
            )
            kinds = [event.type for event in events]
            took = time.perf_counter() - started
    assert text == "Hello there." and helper_impacts.energy is not None
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    entry = tracker.result.llm[f"anthropic/{CLAUDE}"]
    assert entry["calls"] == 2 and entry["unknown_calls"] == 0
    assert (entry["input_tokens"], entry["output_tokens"]) == (28, 46)
    # The raw event stream carries no estimate (EcoLogits reads only messages.stream()): it
    # is EcoLogits' llm_impacts for its model and the message_delta's running output total
    # (23 tokens). EcoLogits caps the generation time by the call's measured latency, which
    # a local server makes tiny: the figure lies between the estimates for no time at all
    # and for the whole time the call took.
    helper_low, helper_high = bounds(helper_impacts.energy.value)
    raw_low = entry["energy_low_kwh"] - helper_low
    raw_high = entry["energy_high_kwh"] - helper_high
    fastest, slowest = (
        llm_impacts(
            provider="anthropic", model_name=CLAUDE, output_token_count=23, request_latency=latency
        ).energy.value
        for latency in (1e-9, took)
    )
    assert bounds(fastest)[0] <= raw_low <= bounds(slowest)[0]
    assert bounds(fastest)[1] <= raw_high <= bounds(slowest)[1]
    assert raw_high > 0


def test_openai_stream_takes_the_last_chunks_estimate(machine):
    openai = pytest.importorskip("openai")
    with serve(openai_server) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0)
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            chunks = list(
                client.chat.completions.create(
                    model=GPT,
                    stream=True,
                    stream_options={"include_usage": True},
                    messages=[{"role": "user", "content": "Count"}],
                )
            )
            words = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert words == "One two three"
    last = [c.impacts for c in chunks if getattr(c, "impacts", None) is not None][-1]
    assert_entry(tracker.result.llm[f"openai/{GPT}"], [last], (11, 4))
    assert "stream" not in tracker.result.llm[f"openai/{GPT}"]["note"]


def test_async_openai_stream(machine):
    openai = pytest.importorskip("openai")

    async def streamed(client):
        stream = await client.chat.completions.create(
            model=GPT, stream=True, messages=[{"role": "user", "content": "Count"}]
        )
        return [chunk async for chunk in stream]

    with serve(openai_server) as server:
        client = openai.AsyncOpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0)
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            chunks = asyncio.run(streamed(client))
    last = [c.impacts for c in chunks if getattr(c, "impacts", None) is not None][-1]
    entry = tracker.result.llm[f"openai/{GPT}"]
    assert entry["calls"] == 1 and entry["unknown_calls"] == 0
    assert entry["energy_high_kwh"] == pytest.approx(last.energy.value.max)


def test_an_openai_stream_without_its_usage_chunk_has_unknown_tokens_never_zero(machine):
    openai = pytest.importorskip("openai")
    with serve(openai_server) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0)
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            list(
                client.chat.completions.create(
                    model=GPT,
                    stream=True,
                    stream_options={"include_usage": True},
                    messages=[{"role": "user", "content": "Count"}],
                )
            )
            tracker.start_task("bare")  # OpenAI sends usage only when asked: not asked here
            asked = [{"role": "user", "content": "Count"}]
            bare = list(client.chat.completions.create(model=GPT, stream=True, messages=asked))
            task = tracker.stop_task("bare")
    assert all(c.usage is None for c in bare)  # the server sent no usage chunk
    entry = tracker.result.llm[f"openai/{GPT}"]
    assert entry["calls"] == 2 and entry["unknown_calls"] == 0  # EcoLogits still estimated it
    # One call without a count: the model's total is unknown, not 11 + 0.
    assert (entry["input_tokens"], entry["output_tokens"]) == (None, None)
    detail = json.loads(last_row()["llm_detail"])[f"openai/{GPT}"]
    assert (detail["input_tokens"], detail["output_tokens"]) == (None, None)
    own = task.llm[f"openai/{GPT}"]  # the task's own call: unknown too
    assert (own["calls"], own["input_tokens"], own["output_tokens"]) == (1, None, None)


def test_a_stream_left_unread_is_counted_as_unknown_never_zero(machine):
    openai = pytest.importorskip("openai")
    with serve(openai_server) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0)
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            stream = client.chat.completions.create(
                model=GPT, stream=True, messages=[{"role": "user", "content": "Count"}]
            )
            stream.close()
    entry = tracker.result.llm[f"openai/{GPT}"]
    assert entry["calls"] == 1 and entry["unknown_calls"] == 1
    assert "closed before its end" in entry["note"]


def test_mistral_chat_and_stream(machine):
    mistralai = pytest.importorskip("mistralai", reason="the test extra installs mistralai")
    with serve(mistral_server) as server:
        client = mistralai.Mistral(api_key="k", server_url=server.url)
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            answer = client.chat.complete(
                model=MISTRAL, messages=[{"role": "user", "content": "Salut"}]
            )
            events = list(
                client.chat.stream(model=MISTRAL, messages=[{"role": "user", "content": "Salut"}])
            )
    streamed = events[-1].data.impacts  # the last chunk's estimate is the whole call's
    assert_entry(tracker.result.llm[f"mistralai/{MISTRAL}"], [answer.impacts, streamed], (32, 37))


def test_google_genai_generate_content(machine):
    genai = pytest.importorskip("google.genai", reason="the test extra installs google-genai")
    from google.genai import types

    with serve(gemini_server) as server:
        client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=server.url))
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            answer = client.models.generate_content(model=GEMINI, contents="Hi")
            client.models.generate_content(model=UNKNOWN, contents="Hi")
    assert server.requests[0].path.endswith(f"/models/{GEMINI}:generateContent")
    assert_entry(tracker.result.llm[f"google/{GEMINI}"], [answer.impacts], (9, 27))
    assert tracker.result.llm[f"google/{UNKNOWN}"]["unknown_calls"] == 1


def test_litellm_completion_is_counted_once(machine):
    litellm = pytest.importorskip("litellm", reason="litellm is heavy: tested where installed")

    def answer(request):
        body = json.loads(request.body)
        usage = {"prompt_tokens": 12, "completion_tokens": 20, "total_tokens": 32}
        return (
            200,
            json.dumps(
                {
                    "id": "chatcmpl-t",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "Hi."},
                        }
                    ],
                    "usage": usage,
                }
            ).encode(),
            JSON,
        )

    with serve(answer) as server:
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            response = litellm.completion(
                model=f"openai/{GPT}",
                api_base=f"{server.url}/v1",
                api_key="k",
                messages=[{"role": "user", "content": "Hi"}],
            )
    calls = tracker.result.llm
    assert list(calls) == [f"litellm/{GPT}"]  # not also as an OpenAI call
    assert_entry(calls[f"litellm/{GPT}"], [response.impacts], (12, 20))


def test_a_streamed_unknown_model_is_unknown_with_a_note(machine):
    openai = pytest.importorskip("openai")
    with serve(openai_server) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0)
        with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
            for _ in client.chat.completions.create(
                model=UNKNOWN, stream=True, messages=[{"role": "user", "content": "Count"}]
            ):
                pass
    entry = tracker.result.llm[f"openai/{UNKNOWN}"]
    assert entry["calls"] == 1 and entry["unknown_calls"] == 1
    assert UNKNOWN in entry["note"] and entry["energy_kwh"] == 0.0
    assert last_row()["llm_energy_kwh"] == ""  # unknown, not 0


def test_a_client_calling_another_read_client_counts_once(machine):
    from types import SimpleNamespace

    from wattprint.llm.clients import Method, _wrapper

    def answer(model):
        usage = SimpleNamespace(prompt_tokens=5, completion_tokens=7)
        return SimpleNamespace(model=model, usage=usage, impacts=None)

    def inner(**kwargs):  # an OpenAI-like client...
        return answer(kwargs["model"])

    def outer(**kwargs):  # ...that another client (LiteLLM-like) calls
        return read_inner(**kwargs)

    read_inner = lambda **kw: _wrapper("openai", Method("m", "inner", "answer"))(  # noqa: E731
        inner, None, (), kw
    )
    read_outer = _wrapper("litellm", Method("m", "outer", "answer"))
    with Tracker(country="FRA", interval_s=60, track_llm_calls=True) as tracker:
        read_outer(outer, None, (), {"model": GPT})
        read_inner(model=GPT)  # on its own, it is a call of its own
    assert {k: e["calls"] for k, e in tracker.result.llm.items()} == {
        f"litellm/{GPT}": 1,
        f"openai/{GPT}": 1,
    }


def test_sci_of_a_run_with_calls_by_hand_from_its_row(machine):
    pytest.importorskip("anthropic", reason="the test extra installs anthropic")
    with serve(anthropic_server) as server:
        client = anthropic_client(server)
        with Tracker(
            country="FRA", interval_s=60, functional_unit="answer", track_llm_calls=True
        ) as tracker:
            for _ in range(2):
                client.messages.create(
                    model=CLAUDE, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
                )
                tracker.add_units(1)
    row = last_row()
    e_x_i, llm, m = (float(row[c]) for c in ("emissions", "llm_emissions_kg", "embodied_kg"))
    assert llm > 0 and m > 0
    # SCI = (E x I + LLM + M) per R: the calls' emissions once, beside the local ones.
    assert float(row["sci_g_per_unit"]) == pytest.approx((e_x_i + llm + m) * 1000 / 2)
    low = sum(
        float(row[c]) for c in ("emissions_low_kg", "llm_emissions_low_kg", "embodied_low_kg")
    )
    assert float(row["sci_low_g_per_unit"]) == pytest.approx(low * 1000 / 2)
    assert "llm_emissions_kg" in row["notes"] and "M = embodied_kg" in row["notes"]
