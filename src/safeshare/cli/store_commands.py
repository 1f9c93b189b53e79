"""Commands on the operation's store: ``db``, ``import``, ``consent``, ``protocol load`` and
``protocol endorse``, ``keys`` and ``audit``. They only call services; the CLI writes no SQL."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from safeshare.bootstrap import bootstrap
from safeshare.cli import app
from safeshare.cli.evaluate import protocol_app
from safeshare.core.vocabulary import ConsentDecision, ConsentKind, ConsentMethod, ConsentStage
from safeshare.core.vocabulary import GivenBy as GivenByWord
from safeshare.crypto.errors import KeyFileError
from safeshare.services import audit as audit_service
from safeshare.services import consent_effects, org_keys
from safeshare.services import keys as key_service
from safeshare.services import protocols as protocol_service
from safeshare.services import scenarios as scenario_service
from safeshare.services.bulk_import import import_file
from safeshare.services.packet_retention import purge_expired_packets
from safeshare.settings import Settings
from safeshare.store import migrate
from safeshare.store.ledger import NewConsent
from safeshare.store.unit import Store


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in some containers
        return "cli"


db_app = typer.Typer(no_args_is_help=True, help="The store's database.")
import_app = typer.Typer(no_args_is_help=True, help="Load scenarios and CSV/XLSX files.")
consent_app = typer.Typer(no_args_is_help=True, help="The consent ledger (append-only).")
keys_app = typer.Typer(
    no_args_is_help=True, help="Field encryption keys and organisations' packet keys."
)
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log.")
packets_app = typer.Typer(no_args_is_help=True, help="Referral packets held for recipients.")
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(consent_app, name="consent")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(packets_app, name="packets")

DEFAULT_ACTOR = _default_actor()
err = Console(stderr=True)
out = Console()

Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit log).")]
ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _store() -> Iterator[Store]:
    store = bootstrap()
    try:
        if migrate.current_revision(store.engine) != migrate.head_revision():
            _fail("the database is not at the current schema: run `safeshare db upgrade`")
        yield store
    except typer.Exit:
        raise
    except (LookupError, ValueError, RuntimeError) as exc:
        _fail(f"{type(exc).__name__}: {exc}")
    finally:
        store.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the current schema."""
    store = bootstrap(upgrade=True)
    try:
        out.print(f"database at revision {migrate.current_revision(store.engine)}")
    finally:
        store.dispose()


@import_app.command("scenario")
def import_scenario(file: ExistingFile, actor: Actor = DEFAULT_ACTOR) -> None:
    """Load a scenario's world (organisations, protocol, subjects, cases, consent, ...)."""
    with _store() as store:
        done = scenario_service.import_scenario_file(store, file, actor=actor)
        out.print(
            f"imported {done.subjects} subjects, {done.cases} cases, {done.consents} consent "
            f"entries; protocol version {done.protocol_version_id}"
        )


def _bulk(kind: str, file: Path, actor: str) -> None:
    total = None
    if file.suffix.lower() == ".csv":
        with file.open("rb") as fh:
            total = max(sum(1 for _ in fh) - 1, 0)
    with (
        _store() as store,
        Progress(
            TextColumn(f"importing {kind}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
        ) as bar,
    ):
        task = bar.add_task(kind, total=total)
        report = import_file(
            store, file, kind, actor=actor, progress=lambda n: bar.update(task, completed=n)
        )
    out.print(f"imported {report.rows} {kind} (sha256 {report.sha256[:16]})")


@import_app.command("subjects")
def import_subjects(file: ExistingFile, actor: Actor = DEFAULT_ACTOR) -> None:
    """Import subjects from CSV or XLSX (see docs/bulk-import.md): all rows or none."""
    _bulk("subjects", file, actor)


@import_app.command("cases")
def import_cases(file: ExistingFile, actor: Actor = DEFAULT_ACTOR) -> None:
    """Import cases from CSV or XLSX: all rows or none."""
    _bulk("cases", file, actor)


@import_app.command("consents")
def import_consents(file: ExistingFile, actor: Actor = DEFAULT_ACTOR) -> None:
    """Import consent ledger entries from CSV or XLSX: all rows or none."""
    _bulk("consents", file, actor)


Subject = Annotated[str, typer.Option("--subject", help="The data subject's id.")]
Purposes = Annotated[list[str], typer.Option("--purpose", help="A protocol purpose id.")]
Recipients = Annotated[list[str] | None, typer.Option("--recipient")]
Method = Annotated[ConsentMethod | None, typer.Option("--method")]
Evidence = Annotated[str | None, typer.Option("--evidence", help="Reference to the evidence.")]
Stage = Annotated[ConsentStage | None, typer.Option("--stage")]
On = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")]


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else date.today()
    except ValueError:
        _fail(f"--date must be YYYY-MM-DD, not {text!r}", 2)


@consent_app.command("withdraw")
def consent_withdraw(  # noqa: PLR0917 (typer options)
    subject: Subject,
    purpose: Purposes,
    recipient: Recipients = None,
    method: Method = None,
    evidence: Evidence = None,
    stage: Stage = None,
    on: On = None,
    actor: Actor = DEFAULT_ACTOR,
) -> None:
    """Record that the person withdrew consent: from now on nothing goes for the purpose."""
    with _store() as store:
        effects = consent_effects.withdraw_consent_and_apply(
            store,
            subject=subject,
            purposes=purpose,
            actor=actor,
            on=_day(on),
            recipients=recipient,
            method=method,
            evidence_ref=evidence,
            stage=stage,
        )
    out.print(f"withdrawal recorded: entry {effects.entry_id}")
    if effects.stopped or effects.notices:
        out.print(
            f"{len(effects.stopped)} share(s) not yet accepted stopped, "
            f"{len(effects.notices)} recipient notice(s) created"
        )


@consent_app.command("record")
def consent_record(  # noqa: PLR0917 (typer options)
    subject: Subject,
    purpose: Purposes,
    decision: Annotated[ConsentDecision, typer.Option("--decision")],
    kind: Annotated[ConsentKind, typer.Option("--kind")] = ConsentKind.CONSENT,
    given_by: Annotated[GivenByWord, typer.Option("--given-by")] = GivenByWord.SELF,
    recipient: Recipients = None,
    element: Annotated[list[str] | None, typer.Option("--element")] = None,
    method: Method = None,
    evidence: Evidence = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    explanation_version: Annotated[str | None, typer.Option("--explanation-version")] = None,
    stage: Stage = None,
    on: On = None,
    actor: Actor = DEFAULT_ACTOR,
) -> None:
    """Record consent given, refused or withdrawn (an entry appended to the ledger)."""
    entry = NewConsent(
        subject=subject,
        decision=decision,
        purposes=purpose,
        date=_day(on),
        kind=kind,
        given_by=given_by,
        recipients=recipient,
        data_elements=element,
        method=method,
        evidence_ref=evidence,
        explanation_language=language,
        explanation_version=explanation_version,
        stage=stage,
    )
    with _store() as store:
        effects = consent_effects.record_consent_and_apply(store, entry, actor=actor)
    out.print(f"{decision.value} recorded: entry {effects.entry_id}")


@protocol_app.command("load")
def protocol_load(file: ExistingFile, actor: Actor = DEFAULT_ACTOR) -> None:
    """Load a protocol file into the store (a changed protocol becomes a new version)."""
    with _store() as store:
        version = protocol_service.load_protocol_file(store, file, actor=actor)
    state = "new version" if version.created else "unchanged"
    out.print(f"{version.protocol_id} version {version.version} ({state}): id {version.id}")
    if not version.endorsed_by:
        out.print(f"not endorsed: run `safeshare protocol endorse {version.id} --by NAME`")


@protocol_app.command("endorse")
def protocol_endorse(
    version_id: Annotated[str, typer.Argument(help="A protocol version id, or 'current'.")],
    by: Annotated[str, typer.Option("--by", help="Who endorsed it (name and function).")],
    actor: Actor = DEFAULT_ACTOR,
) -> None:
    """Record the endorsement of a protocol version by a party's management."""
    with _store() as store:
        endorsement = protocol_service.endorse_protocol(store, version_id, by=by, actor=actor)
    out.print(f"endorsement recorded: {endorsement}")


@keys_app.command("rotate")
def keys_rotate(actor: Actor = DEFAULT_ACTOR) -> None:
    """Make a new active field key and re-encrypt every sealed field (one transaction)."""
    with _store() as store:
        report = key_service.rotate_key_file(store, actor=actor)
    out.print(f"active key {report.active_key_id}: {report.fields_reencrypted} fields re-encrypted")


@keys_app.command("org")
def keys_org(
    org_id: Annotated[str, typer.Argument(help="The organisation's id in the store.")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Make a NEW key pair even if a key file exists (packets sealed to the old "
            "key can no longer be opened).",
        ),
    ] = False,
    actor: Actor = DEFAULT_ACTOR,
) -> None:
    """Create an organisation's packet key pair and register its public keys.

    The private keys go to a key file (mode 0600) under SAFESHARE_ORG_KEY_DIR (in
    development and demo: under the data directory); only the public keys are stored. An
    existing key file is kept and its public keys registered, unless --replace."""
    try:
        directory = org_keys.key_directory(org_keys.SharingSettings())
    except ValueError as exc:
        _fail(str(exc).strip().splitlines()[-1], 2)
    with _store() as store:
        with store.reading() as session:  # refuse an unknown organisation before any file
            if not org_keys.organisation_exists(session, org_id):
                _fail(f"organisation {org_id!r} is not in the store")
        try:
            existed = directory.has(org_id)
            if existed and not replace:
                pair = directory.load(org_id)
            else:
                pair = directory.create(org_id, overwrite=replace)
        except KeyFileError as exc:
            _fail(str(exc))
        changed = org_keys.register_public_keys(store, pair.public(), actor=actor)
    made = "kept existing key file" if existed and not replace else "created key file"
    out.print(f"{org_id}: {made} {directory.file_of(org_id)}", highlight=False, soft_wrap=True)
    state = "registered" if changed else "already registered"
    out.print(f"{org_id}: public keys {state} (key id {pair.key_id})", highlight=False)


@audit_app.command("verify")
def audit_verify(
    anchored: Annotated[
        bool, typer.Option(help="Fail when events follow the last checkpoint.")
    ] = False,
) -> None:
    """Check the hash chain and the signed checkpoints; exit 1 naming the first bad event."""
    with _store() as store:
        result = audit_service.verify_audit(store, require_anchored_head=anchored)
    if not result.ok:
        _fail(f"audit log is NOT intact at event {result.first_bad_seq}: {result.problem}")
    out.print(
        f"audit log intact: {result.events_checked} events, "
        f"{result.checkpoints_checked} checkpoints"
    )


@audit_app.command("checkpoint")
def audit_checkpoint(actor: Actor = DEFAULT_ACTOR) -> None:
    """Sign a checkpoint at the head of the audit chain now."""
    with _store() as store:
        seq = audit_service.write_checkpoint(store, actor=actor)
    out.print(f"checkpoint signed at event {seq}")


@audit_app.command("rotate-signing-key")
def audit_rotate_signing_key(actor: Actor = DEFAULT_ACTOR) -> None:
    """Replace the checkpoint signing key; the old public key is kept (trusted-audit-keys/
    next to the key file) so that checkpoints it signed still verify."""
    settings = Settings()
    with _store() as store:
        done = audit_service.rotate_signing_key(
            store,
            key_file=settings.resolved_audit_key_file(),
            trusted_dir=settings.resolved_trusted_keys_dir(),
            actor=actor,
        )
    out.print(
        f"audit signing key {done.new_key_id} now signs checkpoints; {done.old_key_id} retired "
        f"(public key kept in {done.retired_public_key})"
    )


@packets_app.command("purge")
def packets_purge(on: On = None, actor: Actor = DEFAULT_ACTOR) -> None:
    """Erase the packets nobody may open any more (retention period over, never answered
    within it, or rejected); each erasure is audited. For a daily timer; ``safeshare serve``
    also runs it at start. ``--date`` may not be after today: an erasure cannot be undone."""
    day = _day(on)
    if day > date.today():
        _fail(f"--date may not be after today ({date.today().isoformat()}): a purge erases", 2)
    with _store() as store:
        report = purge_expired_packets(store, today=day, actor=actor)
    out.print(
        f"packets erased: {report.count} ({len(report.retention_ended)} past retention, "
        f"{len(report.unanswered)} unanswered, {len(report.rejected)} rejected)"
    )
