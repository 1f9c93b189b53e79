"""JSON errors without tracebacks or echoed input: a validation error names the field and
what is wrong, never the submitted value; every 404 has the same body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeshare.api.deps import NOT_FOUND_DETAIL

MAX_LOC_PART = 64


def _loc(parts: Any) -> list[str | int]:
    out: list[str | int] = []
    for part in parts or ():
        if isinstance(part, int):
            out.append(part)
        else:
            text = str(part)
            out.append(text if len(text) <= MAX_LOC_PART else text[:MAX_LOC_PART] + "...")
    return out


def _message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "json_invalid":
        return "the body is not valid JSON"
    if kind == "extra_forbidden":
        return "this field is not allowed"
    msg = str(error.get("msg", "invalid value"))
    return msg if len(msg) <= 200 else msg[:200]


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {"loc": _loc(e.get("loc")), "msg": _message(e), "type": str(e.get("type", ""))}
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
