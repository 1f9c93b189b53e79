"""A referral sent by a staff member: her need-to-know for each person is checked (and
audited) and the referral decided and made, in ONE write transaction.

Before, the access checks ran in a recorded read of their own, then the referral in a second
transaction that loaded the same person's world again; one transaction saves a commit and a
snapshot per referral, and the checks and the share can no longer see two states of the
store. The person's world is read once for both decisions (:func:`stable_world`: a referral
writes decisions, referrals, packets and audit events, nothing a world is loaded from). A
refusal's audit event commits (the answer is then the 404); when the referral itself
fails (no key registered for the recipient, nothing shareable, an unknown organisation) its
writes are rolled back to a savepoint and the access events still commit."""

from __future__ import annotations

from datetime import datetime

from safeshare.core.request import ShareRequest
from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services import access, reads_ahead
from safeshare.services.access import Actor
from safeshare.services.common import NotFoundError
from safeshare.services.org_keys import NoPublicKeyError
from safeshare.services.referrals import ReferralOutcome, create_referral_in
from safeshare.sharing.payload import NotShareableError
from safeshare.store.reads import stable_world
from safeshare.store.unit import Store

REFERRAL_FAILURES = (NoPublicKeyError, NotShareableError, NotFoundError, KeyError)


def send_referral(
    store: Store, keys: OrgKeyDirectory, request: ShareRequest, *, actor: Actor, at: datetime
) -> ReferralOutcome | None:
    """The referral's outcome, or None when a person named is not the sender's to see (the
    refusal audited, nothing else written). Raises what :func:`create_referral_in` raises
    (:data:`REFERRAL_FAILURES`) after the access events commit."""
    failure: Exception | None = None
    with store.transaction() as session, stable_world(session):
        reads_ahead.evaluation(session, actor.staff_id, request.subjects)  # PostgreSQL: at once
        for subject in request.subjects:
            seen = access.own_subject_access_in(
                store, session, actor, subject, request.data_elements, at=at
            )
            if seen is None:
                return None
        try:
            with session.begin_nested():
                return create_referral_in(
                    store, session, keys, request, actor=actor.user_id, today=at.date()
                )
        except REFERRAL_FAILURES as exc:
            failure = exc
    raise failure
