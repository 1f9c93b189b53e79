"""JSON errors without tracebacks or echoed input: a validation error names the field and
what is wrong, never the submitted value nor a name the caller made up (an unknown field's,
a dictionary's key); every 404 has the same body."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeshare.api.deps import NOT_FOUND_DETAIL

LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
HIDDEN_NAME = "*"
"""Stands in a validation error's location for a name the caller sent that is not one of the
API's own (an unknown field, a dictionary's key): such a key can be personal data."""


def _loc(parts: Any, names: frozenset[str]) -> list[str | int]:
    """The error's location, with only the API's own names (fields and parameters of its
    OpenAPI document) and positions; any other name — an unknown field's, a dictionary's key
    — is :data:`HIDDEN_NAME`."""
    return [part if isinstance(part, int) or part in names else HIDDEN_NAME for part in parts or ()]


def _names_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            yield from properties
        if isinstance(node.get("in"), str) and isinstance(node.get("name"), str):
            yield node["name"]  # a parameter
        for value in node.values():
            yield from _names_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _names_in(value)


def api_names(app: FastAPI) -> frozenset[str]:
    """Every field and parameter name of the app's OpenAPI document (built once per app)."""
    known: frozenset[str] | None = getattr(app.state, "api_names", None)
    if known is None:
        known = LOCATIONS | frozenset(_names_in(app.openapi()))
        app.state.api_names = known
    return known


def _message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "json_invalid":
        return "the body is not valid JSON"
    if kind == "extra_forbidden":
        return "this field is not allowed"
    msg = str(error.get("msg", "invalid value"))
    return msg if len(msg) <= 200 else msg[:200]


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    names = api_names(request.app)
    issues = [
        {"loc": _loc(e.get("loc"), names), "msg": _message(e), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": issues})


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "error"
    if exc.status_code == 404:
        detail = NOT_FOUND_DETAIL
    elif exc.status_code == 405:
        detail = "method not allowed"
    return JSONResponse(
        status_code=exc.status_code, content={"detail": detail}, headers=exc.headers
    )


async def server_error(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=500, content={"detail": "internal error"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
