"""The consent ledger (withdrawal, latest wins) and protocol versions with endorsements."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

import factories as f
from safeshare.core.vocabulary import ConsentDecision
from safeshare.services import consent as consents
from safeshare.services import protocols
from safeshare.services.common import NotFoundError
from safeshare.services.decisions import build_world
from safeshare.services.registry import open_case, register_subject, save_organisation
from safeshare.store.models import AuditEventRow
from safeshare.store.unit import Store


def _setup(store: Store) -> None:
    for org in f.organisations():
        save_organisation(store, org, actor="tester")
    register_subject(store, f.subject(), actor="tester")
    open_case(store, f.case(), actor="tester")


def _events(store: Store) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(AuditEventRow)) or 0


def test_withdrawal_is_recorded_and_the_latest_entry_wins(store: Store) -> None:
    _setup(store)
    consents.record_consent(store, f.consent(on=date(2026, 2, 1)), actor="cw")
    current = consents.current_consent(store, "s1", "legal-aid-referral", "ngo-a")
    assert current is not None
    assert current.decision is ConsentDecision.GRANTED
    consents.withdraw_consent(
        store, subject="s1", purposes=["legal-aid-referral"], actor="cw", on=date(2026, 2, 1)
    )
    latest = consents.current_consent(store, "s1", "legal-aid-referral", "ngo-a")
    assert latest is not None
    assert latest.decision is ConsentDecision.WITHDRAWN
    history = consents.consent_history(store, "s1")
    assert [r.decision for r in history] == [ConsentDecision.GRANTED, ConsentDecision.WITHDRAWN]
    assert consents.current_consent(store, "s1", "other-purpose") is None


def test_consent_for_an_unknown_subject_leaves_no_event(store: Store) -> None:
    _setup(store)
    before = _events(store)
    with pytest.raises(NotFoundError):
        consents.record_consent(store, f.consent(sid="nobody"), actor="cw")
    assert _events(store) == before


def test_evidence_reference_is_sealed_and_opened_with_an_audited_access(store: Store) -> None:
    _setup(store)
    entry_id = consents.record_consent(store, f.consent(evidence_ref="audio-77"), actor="cw")
    before = _events(store)
    assert consents.evidence_reference(store, entry_id, actor="fp") == "audio-77"
    assert _events(store) == before + 1


def test_protocol_versions_and_endorsement(store: Store) -> None:
    _setup(store)
    first = protocols.load_protocol(store, f.protocol(), actor="im")
    assert first.created
    assert first.version == 1
    again = protocols.load_protocol(store, f.protocol(endorsed=False), actor="im")
    assert not again.created
    assert again.id == first.id  # the file's endorsed: claim is not part of the content

    request = f.share_request()
    with store.reading() as session:
        assert not build_world(session, request, today=f.TODAY).protocol.endorsed

    protocols.endorse_protocol(store, first.id, by="Representative, UNHCR", actor="im")
    with store.reading() as session:
        world = build_world(session, request, today=f.TODAY)
    assert world.protocol.endorsed
    assert world.protocol.endorsed_by == ("Representative, UNHCR",)

    changed = f.protocol(f.purpose(data_elements=("name", "phone")))
    second = protocols.load_protocol(store, changed, actor="im")
    assert second.created
    assert second.version == 2
    with store.reading() as session:
        world = build_world(session, request, today=f.TODAY)
    assert not world.protocol.endorsed  # a new version needs its own endorsement
    assert world.protocol.purposes[0].data_elements == ("name", "phone")
    assert [v.version for v in protocols.list_versions(store)] == [1, 2]


def test_endorsing_an_unknown_version_fails(store: Store) -> None:
    with pytest.raises(NotFoundError):
        protocols.endorse_protocol(store, "nope", by="x", actor="im")
