"""Share requests as JSON (kept sealed in the store while an escalation waits, so that the
focal point's approval decides the very request that was made)."""

from __future__ import annotations

import json
from typing import Any

from safeshare.core.request import Circumstance, Selection, ShareRequest
from safeshare.core.vocabulary import Basis, CircumstanceKind


def request_to_json(request: ShareRequest) -> str:
    data: dict[str, Any] = {
        "sender": request.sender,
        "recipient": request.recipient,
        "purpose": request.purpose,
        "basis": request.basis.value,
        "data_elements": list(request.data_elements),
        "subjects": list(request.subjects),
        "label": request.label,
        "contact_method": request.contact_method,
        "routine": request.routine,
        "risk_assessment": request.risk_assessment,
        "alternative_available": request.alternative_available,
        "select": None,
        "circumstance": None,
    }
    if request.select is not None:
        data["select"] = {
            "categories": sorted(request.select.categories),
            "owner": request.select.owner,
            "status": request.select.status,
        }
    if request.circumstance is not None:
        c = request.circumstance
        data["circumstance"] = {
            "kind": c.kind.value,
            "immediate": c.immediate,
            "detail": c.detail,
            "individuals_named": c.individuals_named,
        }
    return json.dumps(data, sort_keys=True)


def request_from_json(text: str) -> ShareRequest:
    data = json.loads(text)
    select = data.get("select")
    circumstance = data.get("circumstance")
    return ShareRequest(
        sender=data["sender"],
        recipient=data["recipient"],
        purpose=data["purpose"],
        basis=Basis(data["basis"]),
        data_elements=tuple(data["data_elements"]),
        subjects=tuple(data["subjects"]),
        select=None
        if select is None
        else Selection(frozenset(select["categories"]), select["owner"], select["status"]),
        label=data["label"],
        contact_method=data["contact_method"],
        routine=data["routine"],
        circumstance=None
        if circumstance is None
        else Circumstance(
            CircumstanceKind(circumstance["kind"]),
            circumstance["immediate"],
            circumstance["detail"],
            circumstance["individuals_named"],
        ),
        risk_assessment=data["risk_assessment"],
        alternative_available=data["alternative_available"],
    )
