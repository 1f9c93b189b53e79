"""Answers serialised once: a hot endpoint returns :func:`json_answer` of its output model
instead of the model itself.

FastAPI validates and serialises a returned model again against the route's
``response_model``, and for a plain ``def`` endpoint it does that in the thread pool: a second
thread hop per request. A model built by the endpoint is already valid (Pydantic validated it
when it was made), so the endpoint writes its JSON itself. The route keeps its
``response_model``, so the OpenAPI document still describes the answer (and schemathesis checks
the answers against it).

:func:`on_event_loop` runs a hot endpoint's short, bounded work on the worker's event loop
instead of handing it to the thread pool (see its docstring)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from pydantic import BaseModel
from starlette.responses import Response

P = ParamSpec("P")
R = TypeVar("R")


def json_answer(model: BaseModel, status_code: int = 200) -> Response:
    """``model`` as the JSON answer (the same bytes FastAPI would send for it)."""
    return Response(
        content=model.model_dump_json(), status_code=status_code, media_type="application/json"
    )


def on_event_loop(endpoint: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``endpoint`` (a plain function) as a coroutine that runs it where it is awaited: on the
    worker process's event loop, without the thread pool.

    For the hot endpoints only (a case read, an evaluation, a referral, the CSRF token, who am
    I): each is a few milliseconds of CPU-bound work (the engine, a few indexed reads, one short
    audit append). Handed to a thread, that work only waits for the interpreter lock the event
    loop holds, and the hand-over costs CPU of its own on both sides; run in place, a worker
    serves its requests one after another at full speed, and ``serve --workers N`` uses the
    cores. What it costs: while one runs, the worker's other connections wait (as they would
    for the lock), including while SQLite's write lock is awaited. Long or unbounded work
    (imports, reports, audit verification, the web pages) stays in the thread pool.

    FastAPI reads the endpoint's parameters through ``functools.wraps`` (the signature of
    ``__wrapped__``), so dependencies, validation and the OpenAPI document are unchanged."""

    @functools.wraps(endpoint)
    async def in_place(*args: P.args, **kwargs: P.kwargs) -> R:
        return endpoint(*args, **kwargs)

    return in_place
