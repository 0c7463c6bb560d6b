"""The clients whose calls are read: EcoLogits instruments them; wattprint reads its results.

For each client EcoLogits supports and that is installed, ``install`` turns EcoLogits on
(``EcoLogits.init``), then wraps the same methods once more, outside EcoLogits' wrappers, to
read what they return (``calls.Call``). Once per process: a method wrapped twice would count
its calls twice.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.util
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from .calls import AsyncStream, Call, Manager, Stream, host_of
from .collector import collecting


class Method(NamedTuple):
    module: str
    name: str
    kind: str  # "answer", "stream" (returns an iterable), "manager" (messages.stream())
    asynchronous: bool = False
    #: Whether stream=True turns the answer into a stream; "raw": and EcoLogits' wrapper cannot
    #: take it (Anthropic's create(stream=True)), so the call goes round it and is estimated
    #: at its end from its model and tokens.
    stream_flag: str = ""


OPENAI = "openai.resources.chat.completions"
RESPONSES = "openai.resources.responses.responses"
GENAI = "google.genai.models"
#: EcoLogits' provider name: (the package it needs, the methods wattprint reads).
CLIENTS: dict[str, tuple[str, tuple[Method, ...]]] = {
    "openai": ("openai", (
        Method(OPENAI, "Completions.create", "answer", False, "stream"),
        Method(OPENAI, "AsyncCompletions.create", "answer", True, "stream"),
        Method(RESPONSES, "Responses.create", "answer", False, "stream"),
        Method(RESPONSES, "AsyncResponses.create", "answer", True, "stream"),
    )),
    "anthropic": ("anthropic", (
        Method("anthropic.resources", "Messages.create", "answer", False, "raw"),
        Method("anthropic.resources", "AsyncMessages.create", "answer", True, "raw"),
        Method("anthropic.resources", "Messages.stream", "manager"),
        Method("anthropic.resources", "AsyncMessages.stream", "manager"),
    )),
    "mistralai": ("mistralai", (
        Method("mistralai.chat", "Chat.complete", "answer"),
        Method("mistralai.chat", "Chat.complete_async", "answer", True),
        Method("mistralai.chat", "Chat.stream", "stream"),
        Method("mistralai.chat", "Chat.stream_async", "stream", True),
    )),
    "google_genai": ("google.genai", (
        Method(GENAI, "Models.generate_content", "answer"),
        Method(GENAI, "Models.generate_content_stream", "stream"),
        Method(GENAI, "AsyncModels.generate_content", "answer", True),
        Method(GENAI, "AsyncModels.generate_content_stream", "stream", True),
    )),
    "litellm": ("litellm", (
        Method("litellm", "completion", "answer", False, "stream"),
        Method("litellm", "acompletion", "answer", True, "stream"),
    )),
}  # fmt: skip
#: EcoLogits' other providers: turned on where installed, their calls not read (yet).
OTHERS = {"cohere": "cohere", "huggingface_hub": "huggingface_hub"}
#: The name a provider's calls carry in the record (EcoLogits' names, but Google's shorter).
RECORDED = {"google_genai": "google"}

_lock = threading.Lock()
#: Set while a read call runs: a client that calls another read client (a library over the
#: OpenAI client) is counted once, as the outer call.
_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("wattprint_llm_call", default=False)
_installed = False
_providers: list[str] = []  # those whose calls are read


def _kind(method: Method, kwargs: dict[str, Any]) -> str:
    if method.stream_flag and kwargs.get("stream"):
        return "raw" if method.stream_flag == "raw" else "stream"
    return method.kind


def _observe(kind: str, result: Any, call: Call, asynchronous: bool) -> Any:
    if kind == "manager":
        return Manager(result, call)
    if kind in ("stream", "raw"):
        return AsyncStream(result, call) if asynchronous else Stream(result, call)
    call.read(result)
    call.finish()
    return result


def _wrapper(provider: str, method: Method) -> Callable[..., Any]:
    recorded = RECORDED.get(provider, provider)
    estimator = None if provider == "litellm" else provider  # litellm's names are its own

    def start(wrapped: Any, instance: Any, kwargs: dict[str, Any]) -> tuple[Any, Call, str]:
        kind = _kind(method, kwargs)
        # Round EcoLogits' wrapper where it cannot take the answer (the original is beneath);
        # only a wrapt wrapper's __wrapped__ is beneath EcoLogits' layer (a decorator's would
        # skip the client's own checks); wrapt's C and Python proxies share no base class.
        raw = kind == "raw" and hasattr(wrapped, "_self_wrapper")
        target = wrapped.__wrapped__ if raw else wrapped
        return target, Call(recorded, estimator, host_of(instance, kwargs), kwargs), kind

    if method.asynchronous and method.kind != "manager":

        def wrap_async(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            if not collecting() or _inside.get():
                return wrapped(*args, **kwargs)
            target, call, kind = start(wrapped, instance, kwargs)

            async def answer() -> Any:
                token = _inside.set(True)
                try:
                    result = await target(*args, **kwargs)
                finally:
                    _inside.reset(token)
                return _observe(kind, result, call, True)

            return answer()

        return wrap_async

    def wrap(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if not collecting() or _inside.get():
            return wrapped(*args, **kwargs)
        target, call, kind = start(wrapped, instance, kwargs)
        token = _inside.set(True)
        try:
            result = target(*args, **kwargs)
        finally:
            _inside.reset(token)
        return _observe(kind, result, call, method.asynchronous)

    return wrap


def install() -> list[str]:
    """Turn EcoLogits on for the installed clients it supports and read their calls. Returns
    the providers read. ImportError without ecologits."""
    global _installed
    from ecologits import EcoLogits  # ImportError: said by start_collecting
    from wrapt import wrap_function_wrapper

    with _lock:
        if _installed:
            return _providers
        _installed = True  # never twice, even after a failure: a method wrapped twice breaks
        for provider, (package, methods) in CLIENTS.items():
            if not _turn_on(EcoLogits, provider, package):
                continue
            for method in methods:
                try:  # a client version without one of the methods: the others are still read
                    module = importlib.import_module(method.module)
                    wrap_function_wrapper(module, method.name, _wrapper(provider, method))
                except (ImportError, AttributeError):
                    continue
            _providers.append(provider)
        for provider, package in OTHERS.items():
            _turn_on(EcoLogits, provider, package)
    return _providers


def _turn_on(ecologits: Any, provider: str, package: str) -> bool:
    if not _importable(package):
        return False
    try:  # one at a time: a client whose own extras are missing must not stop the rest
        ecologits.init(providers=[provider])
    except Exception:
        return False
    return True


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
