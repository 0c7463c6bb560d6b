"""One LLM call as its client answers it: whole, or streamed chunk by chunk.

EcoLogits attaches its estimate (``impacts``) to what each client returns: to the answer, to
a stream's chunks (the last one carries the whole call's), or to Anthropic's message stream
once its text is read. A Call reads the model, the token counts and the latest estimate from
whatever passes by, and records the call once, when the answer is complete. A stream that ends
without an estimate (Anthropic's raw event stream, which EcoLogits does not read) is
estimated from its model and output tokens by EcoLogits' own ``llm_impacts``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from .collector import record

USAGE = ("usage", "usage_metadata")
TOKENS_IN = ("prompt_tokens", "input_tokens", "prompt_token_count")
TOKENS_OUT = ("completion_tokens", "output_tokens", "candidates_token_count")
#: Where a chunk or event keeps the answer's parts: Mistral's events (data), OpenAI's Responses
#: events (response), Anthropic's message_start (message).
NESTED = ("data", "response", "message")


def _first(obj: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def host_of(instance: Any, kwargs: dict[str, Any]) -> str:
    """The host a client talks to (an OpenAI-compatible server's, a proxy's), or ""."""
    candidates = (
        getattr(getattr(instance, "_client", None), "base_url", None),  # openai, anthropic
        getattr(getattr(instance, "sdk_configuration", None), "server_url", None),  # mistralai
        getattr(
            getattr(getattr(instance, "_api_client", None), "_http_options", None), "base_url", None
        ),  # google-genai
        kwargs.get("api_base") or kwargs.get("base_url"),  # litellm
    )
    for url in candidates:
        host = getattr(url, "host", None)
        if host is None and isinstance(url, str) and url:
            host = urlsplit(url).hostname
        if host:
            return str(host)
    return ""


class Call:
    """What one call's answer said, read as it passes; recorded once by ``finish``."""

    def __init__(
        self, provider: str, estimator: str | None, host: str, kwargs: dict[str, Any]
    ) -> None:
        self.provider = provider  # the client's name in the record
        self.estimator = estimator  # EcoLogits' provider name, for a stream it did not estimate
        self.host = host
        self.model = str(kwargs.get("model") or "")
        self.tokens_in: int | None = None
        self.tokens_out: int | None = None
        self.impacts: Any = None
        self.started = time.perf_counter()
        self.done = False

    def read(self, item: Any) -> None:
        """An answer, a chunk or an event. Never raises: an estimate must not break a call."""
        try:
            for part in (item, *(getattr(item, name, None) for name in NESTED)):
                if part is not None and not isinstance(part, (str, bytes, list, dict)):
                    self._read_part(part)
        except Exception:  # noqa: S110 - a client's odd object: nothing more to read from it
            pass

    def _read_part(self, part: Any) -> None:
        model = getattr(part, "model", None)
        if isinstance(model, str) and model:
            self.model = model
        usage = _first(part, USAGE)
        if usage is not None:
            tokens_in, tokens_out = _first(usage, TOKENS_IN), _first(usage, TOKENS_OUT)
            if isinstance(tokens_in, int):
                self.tokens_in = tokens_in
            if isinstance(tokens_out, int):  # Anthropic's message_delta: the running total
                self.tokens_out = tokens_out
        impacts = getattr(part, "impacts", None)
        if impacts is not None and not callable(impacts):
            self.impacts = impacts

    def finish(self, note: str = "") -> None:
        if self.done:
            return
        self.done = True
        try:
            impacts = self.impacts
            if impacts is None:
                impacts = self._estimate()
            record(
                self.provider,
                self.model or "?",
                self.host,
                self.tokens_in,
                self.tokens_out,
                impacts,
                note,
            )
        except Exception:  # noqa: S110 - an estimate must never break the call it describes
            pass

    def _estimate(self) -> Any:
        """EcoLogits' estimate from the model and output tokens, where it attached none."""
        if not (self.estimator and self.model and self.tokens_out is not None):
            return None
        from ecologits._ecologits import EcoLogits
        from ecologits.tracers.utils import llm_impacts

        return llm_impacts(
            provider=self.estimator,
            model_name=self.model,
            output_token_count=self.tokens_out,
            request_latency=time.perf_counter() - self.started,
            electricity_mix_zone=EcoLogits.config.electricity_mix_zone,
        )


class Stream:
    """A streamed answer, passed through unchanged; the call is recorded when it ends (or is
    closed, or dropped). Anything else is the client's stream's own."""

    def __init__(self, stream: Any, call: Call) -> None:
        self._stream = stream
        self._call = call
        self._iterator: Any = None

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Any:
        if self._iterator is None:
            self._iterator = iter(self._stream)
        try:
            item = next(self._iterator)
        except StopIteration:
            self._call.finish()
            raise
        self._call.read(item)
        return item

    def __enter__(self) -> Stream:
        enter = getattr(self._stream, "__enter__", None)
        if enter is not None:
            enter()
        return self

    def __exit__(self, *exc: Any) -> Any:
        try:
            leave = getattr(self._stream, "__exit__", None)
            return leave(*exc) if leave is not None else None
        finally:
            self._call.finish(_partial(self._call))

    def close(self) -> None:
        try:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()
        finally:
            self._call.finish(_partial(self._call))

    def __del__(self) -> None:
        self._call.finish(_partial(self._call))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class AsyncStream:
    """``Stream`` for the asynchronous clients."""

    def __init__(self, stream: Any, call: Call) -> None:
        self._stream = stream
        self._call = call
        self._iterator: Any = None

    def __aiter__(self) -> AsyncStream:
        return self

    async def __anext__(self) -> Any:
        if self._iterator is None:
            self._iterator = self._stream.__aiter__()
        try:
            item = await self._iterator.__anext__()
        except StopAsyncIteration:
            self._call.finish()
            raise
        self._call.read(item)
        return item

    async def __aenter__(self) -> AsyncStream:
        enter = getattr(self._stream, "__aenter__", None)
        if enter is not None:
            await enter()
        return self

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            leave = getattr(self._stream, "__aexit__", None)
            return (await leave(*exc)) if leave is not None else None
        finally:
            self._call.finish(_partial(self._call))

    def __del__(self) -> None:
        self._call.finish(_partial(self._call))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _partial(call: Call) -> str:
    return "" if call.impacts is not None else "stream closed before its end"


class Manager:
    """Anthropic's ``messages.stream()``: ``with`` gives the message stream, whose estimate
    EcoLogits sets once its text is read; on leaving, the call is recorded from it."""

    def __init__(self, manager: Any, call: Call) -> None:
        self._manager = manager
        self._call = call
        self._stream: Any = None

    def __enter__(self) -> Any:
        self._stream = self._manager.__enter__()
        return self._stream

    def __exit__(self, *exc: Any) -> Any:
        try:
            return self._manager.__exit__(*exc)
        finally:
            _read_message_stream(self._call, self._stream)

    async def __aenter__(self) -> Any:
        self._stream = await self._manager.__aenter__()
        return self._stream

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            return await self._manager.__aexit__(*exc)
        finally:
            _read_message_stream(self._call, self._stream)


def _read_message_stream(call: Call, stream: Any) -> None:
    try:
        call.read(stream.current_message_snapshot)  # model and usage, as far as it came
    except Exception:  # noqa: S110 - no message came at all: the call stays without tokens
        pass
    call.read(stream)  # EcoLogits' impacts, where the text was read
    call.finish()
