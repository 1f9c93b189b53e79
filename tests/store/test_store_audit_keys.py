"""The audit chain in the real database, and field key rotation."""

from __future__ import annotations

import threading

from sqlalchemy import select, text, update

import factories as f
from safeshare.services import audit as audit_service
from safeshare.services import keys
from safeshare.services.consent import consent_history, evidence_reference, record_consent
from safeshare.services.registry import (
    case_details,
    open_case,
    register_subject,
    save_organisation,
    subject_details,
)
from safeshare.store.models import AuditCheckpointRow, AuditEventRow, SubjectRow
from safeshare.store.unit import Store


def _setup(store: Store) -> None:
    for org in f.organisations():
        save_organisation(store, org, actor="tester")
    register_subject(store, f.subject(), actor="tester", name="Amina", contact="+254 700 000001")
    open_case(store, f.case(), actor="tester", details="incident text")
    record_consent(store, f.consent(evidence_ref="form 12"), actor="tester")


def test_verify_passes_then_names_a_modified_event(store: Store) -> None:
    _setup(store)
    assert audit_service.write_checkpoint(store, actor="auditor") is not None
    result = audit_service.verify_audit(store)
    assert result.ok, result.problem
    assert result.events_checked >= 5
    assert result.checkpoints_checked == 1
    with store.engine.begin() as conn:
        body = conn.execute(text("SELECT body FROM audit_events WHERE seq = 2")).scalar_one()
        forged = bytes(body).replace(b"tester", b"someone")
        conn.execute(update(AuditEventRow).where(AuditEventRow.seq == 2).values(body=forged))
    result = audit_service.verify_audit(store)
    assert not result.ok
    assert result.first_bad_seq == 2


def test_a_rewritten_chain_is_caught_by_the_checkpoint(store: Store) -> None:
    _setup(store)
    audit_service.write_checkpoint(store, actor="auditor")
    with store.engine.begin() as conn:
        conn.execute(update(AuditCheckpointRow).values(signature=b"\x00" * 64))
    assert not audit_service.verify_audit(store).ok


def test_checkpoints_are_signed_every_n_events(store: Store) -> None:
    store.signer = type(store.signer)(  # type: ignore[misc]
        private_key=store.signer.private_key,  # type: ignore[union-attr]
        key_id=store.signer.key_id,  # type: ignore[union-attr]
        every=2,
    )
    _setup(store)
    with store.reading() as session:
        seqs = session.scalars(select(AuditCheckpointRow.seq)).all()
    assert seqs
    assert all(s % 2 == 0 for s in seqs)
    assert audit_service.verify_audit(store).ok


def test_concurrent_writers_do_not_fork_the_chain(store: Store) -> None:
    for org in f.organisations():
        save_organisation(store, org, actor="tester")
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                register_subject(store, f.subject(f"t{n}-{i}"), actor=f"w{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = audit_service.verify_audit(store)
    assert result.ok, result.problem
    assert result.events_checked == 2 + 20


def test_key_rotation_reencrypts_every_field(store: Store) -> None:
    _setup(store)
    old_key = store.keyring.active_key_id
    with store.reading() as session:
        before = bytes(session.scalars(select(SubjectRow.name_enc)).one() or b"")
    report = keys.rotate_key_file(store, actor="admin")
    assert report.active_key_id != old_key
    assert report.fields_reencrypted == 4  # name, contact, incident details, evidence
    with store.reading() as session:
        after = bytes(session.scalars(select(SubjectRow.name_enc)).one() or b"")
        assert after != before
        assert not store.sealer.cipher.needs_rotation(after)
    assert subject_details(store, "s1", actor="cw").name == "Amina"
    assert case_details(store, "c1", actor="cw").details == "incident text"
    entry = consent_history(store, "s1")[0]
    assert evidence_reference(store, entry.id, actor="cw") == "form 12"
    assert keys.rotate_field_keys(store, store.keyring, actor="admin").fields_reencrypted == 0
    assert audit_service.verify_audit(store).ok
