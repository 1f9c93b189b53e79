"""What a recipient organisation sees of a person shared to it: the values AS THEY WERE
SHARED, read from the packets it holds (accepted, within their retention period, her consent
not withdrawn), never the sender's current record. A value the sender changes after a share
reaches the recipient only through a new share, decided again (Technical Note: data
minimisation, purpose specification; a recipient sees only what was shared to it).

Each packet is opened with every check a recipient's opening makes
(:func:`~safeshare.services.packet_opening.opened`); one that fails is left out of the view
and its refusal audited (``referral.open-refused``, the rule broken as its code). The
packets opened are named by the caller's access event."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from safeshare.crypto.org_keys import OrgKeyDirectory
from safeshare.services.common import audit
from safeshare.services.packet_opening import OPEN_REFUSED, PacketRefusedError, opened
from safeshare.store.models_sharing import ReferralRow
from safeshare.store.unit import Store, record


@dataclass(frozen=True)
class SharedPacket:
    """One packet's elements about the person, with the values it carried."""

    referral_id: str
    purpose: str
    label: str
    sent_on: date | None
    until: date | None  # None: open-ended
    values: tuple[tuple[str, str], ...]

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(e for e, _ in self.values)


@dataclass(frozen=True)
class SharedView:
    """The packets held about one person, newest first, and those refused."""

    packets: tuple[SharedPacket, ...] = ()
    refused: tuple[str, ...] = ()  # referral ids whose packet failed a check (audited)

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(sorted({e for p in self.packets for e in p.elements}))

    @property
    def referral_ids(self) -> tuple[str, ...]:
        return tuple(p.referral_id for p in self.packets)

    def value(self, element: str) -> str | None:
        """The element's value in the newest packet that holds it (None: none does)."""
        for packet in self.packets:
            for name, value in packet.values:
                if name == element:
                    return value
        return None

    def only(self, elements: Collection[str]) -> SharedView:
        """The view cut to ``elements`` (packets left with none are dropped)."""
        kept = set(elements)
        packets = []
        for p in self.packets:
            values = tuple((e, v) for e, v in p.values if e in kept)
            if values:
                packets.append(
                    SharedPacket(p.referral_id, p.purpose, p.label, p.sent_on, p.until, values)
                )
        return SharedView(tuple(packets), self.refused)


def open_shared_in(
    store: Store,
    session: Session,
    keys: OrgKeyDirectory,
    *,
    actor: str,
    org: str,
    subject: str,
    held: Sequence[ReferralRow],
) -> SharedView:
    """The person's elements in the packets ``held`` (newest first), opened for ``org``, in
    the caller's transaction (or recorded read): a refused packet's audit event is written
    with it."""
    packets: list[SharedPacket] = []
    refused: list[str] = []
    for row in held:
        try:
            payload = opened(keys, session, row)
        except PacketRefusedError as exc:
            refused.append(row.id)
            _audit_refusal(store, session, actor=actor, org=org, referral=row.id, code=exc.code)
            continue
        for entry in payload.subjects:
            if entry.subject == subject:
                until = None if row.open_ended else row.access_until
                packets.append(
                    SharedPacket(
                        row.id, payload.purpose, payload.label, row.sent_on, until, entry.elements
                    )
                )
    return SharedView(tuple(packets), tuple(refused))


def _audit_refusal(
    store: Store, session: Session, *, actor: str, org: str, referral: str, code: str
) -> None:
    record(
        session,
        lambda writer: audit(
            store,
            writer,
            actor=actor,
            action=OPEN_REFUSED,
            object_type="referral",
            object_id=referral,
            codes=[code],
            details={"org": org},
        ),
        one_statement=True,
    )
