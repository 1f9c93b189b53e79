"""Feedback on a referral, from its recipient back to its sender (Legitimate Purposes >
Feedback on service referrals): process feedback (is the referral pending, accepted,
rejected, and when) always; service feedback (what was provided) only with the person's
consent; and only the elements agreed for the referral's purpose. The engine decides, with the
feedback purpose; the packet is sealed to the referral's sender and delivered at once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import Basis
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services.common import NotFoundError
from safeshare.services.referral_store import purpose_of, subjects_of
from safeshare.services.referrals import ReferralOutcome, create_referral_in, respond_in
from safeshare.store.models_sharing import ReferralRow
from safeshare.store.unit import Store

FEEDBACK_FROM = frozenset({"pending", "accepted", "rejected", "closed"})
REFERRAL_ID = "referral_id"


def _access_ended(row: ReferralRow, today: date) -> bool:
    """After the purpose's retention period the recipient holds nothing of the referral, and
    has nothing to give feedback on."""
    return not row.open_ended and row.access_until is not None and today > row.access_until


def send_feedback(
    store: Store,
    keys: OrgKeyDirectory,
    referral_id: str,
    *,
    org_id: str,
    purpose: str,
    values: Mapping[str, str],
    actor: str,
    today: date,
) -> ReferralOutcome:
    """``values``: element → value (e.g. referral_status, status_dates, services_provided).
    ``referral_status`` defaults to the referral's own status."""
    with store.reading() as session:
        row = session.get(ReferralRow, referral_id)
        if (
            row is None
            or row.recipient != org_id
            or row.status not in FEEDBACK_FROM
            or _access_ended(row, today)
        ):
            raise NotFoundError(f"referral {referral_id!r} is not in the store")
        original = purpose_of(session, row.purpose)
        subjects = subjects_of(session, referral_id)
        sender, status = row.sender, row.status
    given = {"referral_status": status, **dict(values)}
    agreed = set(original.feedback) if original and original.feedback else None
    if agreed is not None:
        given = {e: v for e, v in given.items() if e in agreed}
    request = ShareRequest(
        sender=org_id,
        recipient=sender,
        purpose=purpose,
        basis=Basis.CONSENT,
        subjects=subjects,
        data_elements=(REFERRAL_ID, *given),
        label="Referral feedback",
    )
    with store.transaction() as session:  # the feedback and its acceptance: one change
        outcome = create_referral_in(
            store,
            session,
            keys,
            request,
            actor=actor,
            today=today,
            answers=referral_id,
            values={sid: dict(given) for sid in subjects},
        )
        if outcome.referral is not None and outcome.referral.status == "pending":
            accepted = respond_in(
                store,
                session,
                outcome.referral.id,
                org_id=sender,
                actor=actor,
                today=today,
                accept=True,
            )
            return ReferralOutcome(outcome.decision, outcome.decision_id, accepted)
        return outcome
