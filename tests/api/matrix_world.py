"""The world of the authorization matrix: the demo operation with its organisations' keys
registered, and REAL referrals made and answered through the sharing services (no lookup is
faked): for each organisation of the matrix, a case of the other organisation shared to it
and accepted today (within the purpose's retention), one shared and accepted so long ago that
the purpose's retention is over at the test's clock, referrals its organisation sent about
its own cases (assigned, unassigned, with a recorded need), and one between two other
organisations. Consent is on record (through the
consent service) wherever the demo has none for the purpose; the withdrawal behind the
'withdrawn' relation goes through the consent service with its effects; the 'archived' cases
are the demo's closed cases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from api_client import api_client
from api_support import START, Api, Clock, web_settings
from policy_table import TARGETS

from safeshare.api.app import create_app
from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import Basis, ConsentDecision, GivenBy
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.demo import load_demo
from safeshare.services.consent import record_consent
from safeshare.services.consent_effects import withdraw_consent_and_apply
from safeshare.services.referrals import accept_referral, create_referral
from safeshare.settings import Settings
from safeshare.store.ledger import NewConsent
from safeshare.store.models import CaseRow
from safeshare.store.unit import Store

TODAY = START.date()
MISSING_REFERRAL = "ref-0000000000000000"


@dataclass(frozen=True)
class Share:
    """One referral to make: who sends what about whom, for which purpose, on which day,
    whether the recipient accepts it (that day), and the consent to record first."""

    sender: str
    recipient: str
    purpose: str
    case: str
    elements: tuple[str, ...]
    on: date = TODAY
    accept: bool = True
    consent: tuple[GivenBy, ...] = ()
    values: dict[str, str] | None = None


# Retentions (demo protocol): psychosocial-support-referral P6M, cash-eligibility duration of
# status (open-ended), referral-status-feedback P1Y, legal-aid-referral P6M.
SHARES: dict[tuple[str, str], Share] = {
    # --- the matrix's UNHCR staff: ngo-a's cases shared to UNHCR
    ("unhcr", "shared"): Share(
        "ngo-a",
        "unhcr",
        "cash-eligibility",
        TARGETS["unhcr"]["shared"],
        ("individual_number", "name"),
    ),
    ("unhcr", "shared-expired"): Share(
        "ngo-a",
        "unhcr",
        "referral-status-feedback",
        TARGETS["unhcr"]["shared-expired"],
        ("referral_id", "referral_status", "status_dates"),
        on=TODAY - timedelta(days=400),  # accepted then: P1Y ended 35 days ago
        consent=(GivenBy.SELF,),
        values={"referral_id": "ref-earlier", "referral_status": "accepted", "status_dates": "-"},
    ),
    ("unhcr", "other-org"): Share(  # between ngo-b and ngo-a (a child: caregiver consents)
        "ngo-b",
        "ngo-a",
        "legal-aid-referral",
        "c-012",
        ("referral_id", "name", "phone", "service_needed"),
        accept=False,
        consent=(GivenBy.SELF, GivenBy.CAREGIVER),
    ),
    # --- the matrix's ngo-a staff: UNHCR's cases shared to ngo-a
    ("ngo-a", "shared"): Share(
        "unhcr",
        "ngo-a",
        "psychosocial-support-referral",
        TARGETS["ngo-a"]["shared"],
        ("referral_id", "name", "phone", "service_needed"),
    ),
    ("ngo-a", "shared-expired"): Share(
        "unhcr",
        "ngo-a",
        "psychosocial-support-referral",
        TARGETS["ngo-a"]["shared-expired"],
        ("referral_id", "name", "phone", "service_needed"),
        on=TODAY - timedelta(days=200),  # accepted then: P6M ended 16 days ago
        consent=(GivenBy.SELF,),
    ),
    ("ngo-a", "other-org"): Share(  # between UNHCR and ngo-b (consent and assent on record)
        "unhcr",
        "ngo-b",
        "child-protection-referral",
        "c-025",
        ("referral_id", "name", "phone", "service_needed"),
        accept=False,
    ),
    # ngo-a's own (assigned) case, sent to UNHCR and not yet answered
    ("ngo-a", "assigned"): Share(
        "ngo-a",
        "unhcr",
        "cash-eligibility",
        TARGETS["ngo-a"]["assigned"],
        ("individual_number", "name"),
        accept=False,
    ),
    # each organisation's referrals about its case assigned to nobody of the matrix, and
    # about its case with a recorded need (sent, not yet answered)
    ("ngo-a", "unassigned"): Share(
        "ngo-a",
        "unhcr",
        "cash-eligibility",
        TARGETS["ngo-a"]["unassigned"],
        ("individual_number", "name"),
        accept=False,
        consent=(GivenBy.SELF,),
    ),
    ("ngo-a", "need"): Share(
        "ngo-a",
        "unhcr",
        "cash-eligibility",
        TARGETS["ngo-a"]["need"],
        ("individual_number", "name"),
        accept=False,
        consent=(GivenBy.SELF,),
    ),
    ("unhcr", "unassigned"): Share(
        "unhcr",
        "ngo-a",
        "psychosocial-support-referral",
        TARGETS["unhcr"]["unassigned"],
        ("referral_id", "name", "phone", "service_needed"),
        accept=False,
        consent=(GivenBy.SELF,),
    ),
    ("unhcr", "need"): Share(
        "unhcr",
        "ngo-a",
        "psychosocial-support-referral",
        TARGETS["unhcr"]["need"],
        ("referral_id", "name", "phone", "service_needed"),
        accept=False,
        consent=(GivenBy.SELF,),
    ),
}
# UNHCR's own (assigned) case is the one it shared to ngo-a.
SAME_AS: dict[tuple[str, str], tuple[str, str]] = {("unhcr", "assigned"): ("ngo-a", "shared")}


def _subject(store: Store, case: str) -> str:
    with store.reading() as session:
        row = session.get(CaseRow, case)
        assert row is not None, case
        return row.subject_id


def _share(store: Store, keys: OrgKeyDirectory, share: Share) -> str:
    subject = _subject(store, share.case)
    for given_by in share.consent:
        record_consent(
            store,
            NewConsent(
                subject=subject,
                decision=ConsentDecision.GRANTED,
                purposes=(share.purpose,),
                date=share.on - timedelta(days=10),
                given_by=given_by,
            ),
            actor="matrix-setup",
        )
    out = create_referral(
        store,
        keys,
        ShareRequest(
            sender=share.sender,
            recipient=share.recipient,
            purpose=share.purpose,
            basis=Basis.CONSENT,
            data_elements=share.elements,
            subjects=(subject,),
            contact_method="phone",
        ),
        actor=f"{share.sender}.caseworker",
        today=share.on,
        values={subject: dict(share.values)} if share.values else None,
    )
    assert out.referral is not None, (share, out.decision)
    assert out.referral.status == "pending", (share, out.referral.status)
    if share.accept:
        accepted = accept_referral(
            store,
            out.referral.id,
            org_id=share.recipient,
            actor=f"{share.recipient}.caseworker",
            today=share.on,
        )
        assert accepted.access_until is not None or accepted.open_ended
    return out.referral.id


def make_world(store: Store, keys: OrgKeyDirectory) -> dict[tuple[str, str], str]:
    """The referrals behind the matrix's relations: (org of the actor, relation) → id."""
    made = {key: _share(store, keys, share) for key, share in SHARES.items()}
    made.update({key: made[same] for key, same in SAME_AS.items()})
    # ngo-a's 'withdrawn' case: the person withdraws consent (the consent service, with its
    # effects). UNHCR's (c-024) has its withdrawal in the demo ledger.
    withdraw_consent_and_apply(
        store,
        subject=_subject(store, TARGETS["ngo-a"]["withdrawn"]),
        purposes=("cash-eligibility",),
        actor="matrix-setup",
        on=TODAY,
    )
    return made


@contextmanager
def matrix_api(
    store: Store, store_settings: Settings, tmp_path: Path
) -> Iterator[tuple[Api, dict[tuple[str, str], str]]]:
    """The API over the demo operation with the organisations' keys and the referrals."""
    web = web_settings()
    keys = OrgKeyDirectory(tmp_path / "org-keys", generate_missing=True)
    demo = load_demo(store, policy=web.access_policy(), today=TODAY, keys=keys)
    referrals = make_world(store, keys)
    clock = Clock()
    app = create_app(store_settings, store, web=web, clock=clock)
    app.state.org_keys = OrgKeyDirectory(tmp_path / "org-keys", generate_missing=False)
    with api_client(app) as client:
        yield Api(app, client, store, clock, demo, web), referrals
