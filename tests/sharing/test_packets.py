"""Referral packets: what a decision lets go is all a packet holds; only the recipient's key
opens it; any changed byte or a bad signature is refused (hypothesis)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeshare.core import Decision, Outcome, decide
from safeshare.core.decision import Condition
from safeshare.core.request import ShareRequest
from safeshare.core.vocabulary import (
    STANDARD_ELEMENTS,
    Basis,
    BenefitKind,
    ConsentDecision,
    ConsentKind,
    DPAssessment,
    GeneralPurpose,
    GivenBy,
    OrgKind,
)
from safeshare.core.world import (
    Case,
    ConsentRecord,
    Organisation,
    Period,
    Protocol,
    Purpose,
    Subject,
    World,
)
from safeshare.crypto.errors import KeyFileError
from safeshare.crypto.org_keys import OrgKeyDirectory, OrgKeyPair
from safeshare.crypto.packets import (
    Packet,
    PacketDecryptionError,
    PacketError,
    PacketRecipientError,
    PacketSignatureError,
    _signed_bytes,  # the signing layout, to forge a valid signature
    new_referral_id,
    open_packet,
    seal_packet,
)
from safeshare.sharing.payload import NEUTRAL_LABEL, NotShareableError, payload_from_decision

UNHCR = OrgKeyPair.generate("unhcr")
NGO_A = OrgKeyPair.generate("ngo-a")
NGO_B = OrgKeyPair.generate("ngo-b")
ELEMENTS = sorted(STANDARD_ELEMENTS)
SUBJECTS = ["s1", "s2", "s3", "s4"]
TODAY = date(2026, 3, 1)


def _values(subjects: list[str]) -> dict[str, dict[str, str | None]]:
    """Every element of every subject (and of subjects not asked for) has a value."""
    return {s: {e: f"{s}:{e}" for e in ELEMENTS} for s in [*subjects, "outsider"]}


# --- decisions generated directly ----------------------------------------------------------

conditions = st.lists(
    st.one_of(
        st.builds(
            Condition,
            code=st.just("drop-elements"),
            message=st.just("m"),
            section=st.just("s"),
            elements=st.lists(st.sampled_from(ELEMENTS), max_size=4).map(tuple),
        ),
        st.builds(
            Condition,
            code=st.just("only-subjects"),
            message=st.just("m"),
            section=st.just("s"),
            subjects=st.lists(st.sampled_from(SUBJECTS), max_size=3).map(tuple),
        ),
        st.builds(
            Condition,
            code=st.sampled_from(["neutral-label", "safe-contact", "inform-subject"]),
            message=st.just("m"),
            section=st.just("s"),
        ),
    ),
    max_size=4,
)
decisions = st.builds(
    Decision,
    kind=st.just("share"),
    outcome=st.sampled_from(list(Outcome)),
    conditions=conditions.map(tuple),
    share_subjects=st.lists(st.sampled_from(SUBJECTS), unique=True, max_size=4).map(tuple),
    share_elements=st.lists(st.sampled_from(ELEMENTS), unique=True, max_size=8).map(tuple),
)


def _check_within(decision: Decision, approved: bool) -> None:
    ref = new_referral_id()
    try:
        payload = payload_from_decision(
            decision,
            referral_id=ref,
            purpose="p",
            values=_values(SUBJECTS),
            label="GBV survivor referral",
            contact_method="home-visit",
            agreed_contact_methods=["home-visit", "phone"],
            approved_escalation=approved,
        )
    except NotShareableError:
        assert (
            decision.outcome is Outcome.DENY
            or (decision.outcome is Outcome.ESCALATE and not approved)
            or not decision.share_subjects
            or not decision.share_elements
            or decision.condition("drop-elements") is not None
            or decision.condition("only-subjects") is not None
        )
        return
    assert decision.outcome is not Outcome.DENY
    dropped = decision.condition("drop-elements")
    only = decision.condition("only-subjects")
    assert payload.subject_ids <= set(decision.share_subjects)
    assert payload.element_names <= set(decision.share_elements)
    if dropped is not None:
        assert not payload.element_names & set(dropped.elements)
    if only is not None:
        assert payload.subject_ids <= set(only.subjects)
    assert payload.label == NEUTRAL_LABEL  # the stigmatising label never goes
    if decision.condition("safe-contact") is not None:
        assert payload.contact_method == "phone"
    opened = open_packet(
        seal_packet(payload, sender=UNHCR, recipient=NGO_A.public()),
        recipient=NGO_A,
        sender=UNHCR.public(),
    )
    assert opened == payload


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(decision=decisions, approved=st.booleans())
def test_generated_decision_packet_holds_only_what_may_go(
    decision: Decision, approved: bool
) -> None:
    _check_within(decision, approved)


# --- decisions from the engine over small generated worlds ---------------------------------

PURPOSE_ELEMENTS = ["name", "phone", "service_needed", "priority", "referral_id"]


@st.composite
def engine_cases(draw: st.DrawFn) -> tuple[World, ShareRequest]:
    n = draw(st.integers(1, 4))
    subjects = [
        Subject(
            f"s{i + 1}",
            age=draw(st.sampled_from([12, 30, 30, 40])),
            categories=frozenset(draw(st.lists(st.sampled_from(["gbv", "legal"]), max_size=2))),
        )
        for i in range(n)
    ]
    purpose = Purpose(
        id="ref",
        general=GeneralPurpose.IMMEDIATE_REFERRAL,
        benefit="Legal counselling",
        benefit_kind=BenefitKind.DIRECT,
        services=("legal counselling",),
        senders=frozenset({"unhcr"}),
        recipients=frozenset({"ngo-a"}),
        data_elements=tuple(
            draw(st.lists(st.sampled_from(PURPOSE_ELEMENTS), min_size=1, unique=True))
        ),
        retention=Period("P6M", months=6),
        access_roles=("caseworker",),
        contact_methods=("phone", "office", "home-visit"),
        explanation="I will share your name and phone with NGO A for legal counselling.",
    )
    consents = []
    for s in subjects:
        for kind, by in (
            (ConsentKind.CONSENT, GivenBy.SELF),
            (ConsentKind.ASSENT, GivenBy.SELF),
            (ConsentKind.CONSENT, GivenBy.PARENT),
        ):
            if draw(st.integers(0, 3)) > 0:
                consents.append(
                    ConsentRecord(
                        subject=s.id,
                        kind=kind,
                        given_by=by,
                        decision=draw(
                            st.sampled_from([*[ConsentDecision.GRANTED] * 4, *ConsentDecision])
                        ),
                        purposes=frozenset({"ref"}),
                        date=date(2026, 2, 1),
                        data_elements=(
                            frozenset(draw(st.lists(st.sampled_from(PURPOSE_ELEMENTS))))
                            if draw(st.booleans())
                            else None
                        ),
                    )
                )
    world = World.build(
        today=TODAY,
        protocol=Protocol("op", endorsed=draw(st.booleans()) or True, purposes=(purpose,)),
        organisations=[
            Organisation("unhcr", OrgKind.UNHCR),
            Organisation("ngo-a", OrgKind.PARTNER, dp_assessment=DPAssessment.PASSED),
        ],
        subjects=subjects,
        cases=[Case(f"c{s.id}", s.id, "unhcr") for s in subjects],
        consents=consents,
    )
    request = ShareRequest(
        sender="unhcr",
        recipient="ngo-a",
        purpose="ref",
        basis=Basis.CONSENT,
        subjects=tuple(s.id for s in subjects),
        data_elements=tuple(
            draw(
                st.lists(
                    st.sampled_from([*PURPOSE_ELEMENTS, *ELEMENTS[:12]]), min_size=1, max_size=8
                )
            )
        ),
        label=draw(st.sampled_from(["", "Legal aid", "GBV survivor", "Torture case"])),
        contact_method=draw(st.sampled_from(["phone", "home-visit", "sms"])),
    )
    return world, request


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(case=engine_cases())
def test_engine_decision_packet_holds_only_what_may_go(case: tuple[World, ShareRequest]) -> None:
    world, request = case
    decision = decide(world, request)
    _check_within(decision, approved=False)
    if decision.outcome is Outcome.DENY:
        assert not decision.share_subjects


# --- keys and tampering --------------------------------------------------------------------


def _sealed() -> tuple[Packet, Decision]:
    decision = Decision(
        kind="share",
        outcome=Outcome.ALLOW,
        share_subjects=("s1",),
        share_elements=("name", "phone", "referral_id"),
    )
    payload = payload_from_decision(
        decision,
        referral_id=new_referral_id(),
        purpose="ref",
        values=_values(["s1"]),
        label="Legal aid",
        contact_method="phone",
    )
    return seal_packet(payload, sender=UNHCR, recipient=NGO_A.public()), decision


def test_payload_holds_values_and_referral_id_not_case_number() -> None:
    packet, _ = _sealed()
    payload = open_packet(packet, recipient=NGO_A, sender=UNHCR.public())
    (entry,) = payload.subjects
    assert entry.as_dict() == {
        "name": "s1:name",
        "phone": "s1:phone",
        "referral_id": packet.header.referral_id,
    }
    assert packet.header.referral_id.startswith("ref-")
    assert b"s1:name" not in packet.ciphertext
    assert payload.label == "Legal aid"


def test_another_organisation_cannot_open() -> None:
    packet, _ = _sealed()
    with pytest.raises(PacketRecipientError):
        open_packet(packet, recipient=NGO_B, sender=UNHCR.public())
    # claiming to be ngo-a with another key: refused too
    impostor = OrgKeyPair.generate("ngo-a")
    with pytest.raises(PacketRecipientError):
        open_packet(packet, recipient=impostor, sender=UNHCR.public())


def test_readdressed_header_is_refused() -> None:
    packet, _ = _sealed()
    header = packet.header
    moved = Packet(
        type(header)(**{**header.__dict__, "recipient": "ngo-b", "recipient_key_id": NGO_B.key_id}),
        packet.ciphertext,
        packet.signature,
    )
    with pytest.raises(PacketSignatureError):
        open_packet(moved, recipient=NGO_B, sender=UNHCR.public())


def test_wrong_sender_key_is_refused() -> None:
    packet, _ = _sealed()
    with pytest.raises(PacketSignatureError):
        open_packet(packet, recipient=NGO_A, sender=NGO_B.public())
    forged = OrgKeyPair.generate("unhcr")
    with pytest.raises(PacketSignatureError):
        open_packet(packet, recipient=NGO_A, sender=forged.public())


def test_resigned_by_attacker_does_not_verify() -> None:
    packet, _ = _sealed()
    attacker = OrgKeyPair.generate("unhcr")
    bad = Packet(packet.header, packet.ciphertext, attacker.signing.sign(b"x"))
    with pytest.raises(PacketSignatureError):
        open_packet(bad, recipient=NGO_A, sender=UNHCR.public())


PACKET, _DECISION = _sealed()
WIRE = PACKET.to_json().encode()


@settings(max_examples=300)
@given(index=st.integers(0, len(WIRE) - 1), flip=st.integers(1, 255))
def test_any_changed_byte_is_refused(index: int, flip: int) -> None:
    data = bytearray(WIRE)
    data[index] ^= flip
    try:
        packet = Packet.from_json(bytes(data))
    except PacketError:
        return
    if packet == PACKET:  # a change JSON cannot see (e.g. whitespace, escape equivalence)
        return
    with pytest.raises(PacketError):
        open_packet(packet, recipient=NGO_A, sender=UNHCR.public())


@settings(max_examples=200)
@given(
    part=st.sampled_from(["ciphertext", "signature"]),
    index=st.integers(0, 200),
    flip=st.integers(1, 255),
)
def test_any_changed_raw_byte_is_refused(part: str, index: int, flip: int) -> None:
    raw = bytearray(getattr(PACKET, part))
    raw[index % len(raw)] ^= flip
    changed = Packet(
        PACKET.header,
        bytes(raw) if part == "ciphertext" else PACKET.ciphertext,
        bytes(raw) if part == "signature" else PACKET.signature,
    )
    with pytest.raises(PacketSignatureError):
        open_packet(changed, recipient=NGO_A, sender=UNHCR.public())


def test_signed_but_undecryptable_is_a_decryption_error() -> None:
    """The sender signed garbage (or a ciphertext for another key): decryption refuses."""
    packet, _ = _sealed()
    other = seal_packet(
        open_packet(packet, recipient=NGO_A, sender=UNHCR.public()),
        sender=UNHCR,
        recipient=NGO_B.public(),
    )
    header = packet.header

    forged = Packet(
        header,
        other.ciphertext,
        UNHCR.signing.sign(_signed_bytes(header.canonical(), other.ciphertext)),
    )
    with pytest.raises(PacketDecryptionError):
        open_packet(forged, recipient=NGO_A, sender=UNHCR.public())


def test_deny_and_pending_escalation_build_nothing() -> None:
    for outcome in (Outcome.DENY, Outcome.ESCALATE):
        d = Decision(
            kind="share", outcome=outcome, share_subjects=("s1",), share_elements=("name",)
        )
        with pytest.raises(NotShareableError):
            payload_from_decision(d, referral_id="r", purpose="p", values=_values(["s1"]))
    anon = Decision(
        kind="share",
        outcome=Outcome.ALLOW_WITH_CONDITIONS,
        share_elements=("age",),
        share_subjects=("s1",),
        conditions=(Condition("anonymise", "m", "s"),),
    )
    with pytest.raises(NotShareableError):
        payload_from_decision(anon, referral_id="r", purpose="p", values=_values(["s1"]))


def test_key_directory(tmp_path: Path) -> None:
    keys = OrgKeyDirectory(tmp_path / "org-keys")
    pair = keys.create("ngo-a")
    assert (keys.file_of("ngo-a").stat().st_mode & 0o777) == 0o600
    assert keys.load("ngo-a").key_id == pair.key_id
    assert "x25519" not in repr(pair)
    assert pair.key_id in repr(pair)
    with pytest.raises(KeyFileError):
        keys.create("ngo-a")
    with pytest.raises(KeyFileError):
        keys.load("ngo-b")
    with pytest.raises(KeyFileError):
        keys.file_of("../etc")
    auto = OrgKeyDirectory(tmp_path / "auto", generate_missing=True)
    assert auto.load("unhcr").org_id == "unhcr"
    keys.file_of("ngo-a").chmod(0o644)
    with pytest.raises(KeyFileError):
        keys.load("ngo-a")
