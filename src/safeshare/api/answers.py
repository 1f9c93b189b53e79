"""Answers serialised once: a hot endpoint returns :func:`json_answer` of its output model
instead of the model itself.

FastAPI validates and serialises a returned model again against the route's
``response_model``, and for a plain ``def`` endpoint it does that in the thread pool: a second
thread hop per request. A model built by the endpoint is already valid (Pydantic validated it
when it was made), so the endpoint writes its JSON itself. The route keeps its
``response_model``, so the OpenAPI document still describes the answer (and schemathesis checks
the answers against it)."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def json_answer(model: BaseModel, status_code: int = 200) -> Response:
    """``model`` as the JSON answer (the same bytes FastAPI would send for it)."""
    return Response(
        content=model.model_dump_json(), status_code=status_code, media_type="application/json"
    )
