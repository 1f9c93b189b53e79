"""The one place that builds engines and loads keys: from settings to a :class:`Store`.

Nothing connects to a database or reads a key at import time. In development, demo and test
a missing field key file or audit signing key is generated under the data directory; in
production both must be given (settings refuse to start otherwise).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from safeshare.audit.checkpoints import SigningKey, load_public_key, public_key_id
from safeshare.crypto.fields import FieldCipher
from safeshare.crypto.keyring import Keyring
from safeshare.settings import Settings
from safeshare.store import migrate
from safeshare.store.audit_log import CheckpointSigner
from safeshare.store.database import (
    make_engine,
    read_session_factory,
    session_factory,
    statement_session_factory,
)
from safeshare.store.fields import Sealer
from safeshare.store.unit import Store
from safeshare.store.writer_lock import WriterLock


class MissingKeyError(RuntimeError):
    """A key file the settings name does not exist (keys are never generated in production)."""


def load_keyring(settings: Settings) -> tuple[Keyring, Path | None]:
    """The field keyring, from SAFESHARE_FIELD_KEYS or the key file (generated if allowed)."""
    if settings.field_keys is not None:
        return Keyring.from_env(settings.field_keys.get_secret_value()), None
    path = settings.resolved_field_key_file()
    if not path.exists():
        if not settings.convenience:
            raise MissingKeyError(f"field key file {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        Keyring.generate().write(path)
    return Keyring.from_file(path), path


def load_signing_key(settings: Settings) -> SigningKey:
    """The Ed25519 checkpoint signing key (a file outside the database; generated in
    development, demo and test when missing)."""
    path = settings.resolved_audit_key_file()
    if not path.exists():
        if not settings.convenience:
            raise MissingKeyError(f"audit signing key {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        SigningKey.generate().save(path)
    return SigningKey.load(path)


def _pem_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix == ".pem" and p.is_file())
    if not path.exists():
        raise MissingKeyError(f"trusted audit public key {path} does not exist")
    return [path]


def load_trusted_public_keys(settings: Settings) -> dict[str, Any]:
    """Extra trusted audit public keys (key id → key): the PEM files and directories named by
    SAFESHARE_AUDIT_TRUSTED_KEYS, and the retired keys kept next to the signing key by
    ``safeshare audit rotate-signing-key``. Key ids are derived from the public keys."""
    keys: dict[str, Any] = {}
    sources = [*settings.audit_trusted_keys]
    retired = settings.resolved_trusted_keys_dir()
    if retired.is_dir():
        sources.append(retired)
    for source in sources:
        for pem in _pem_files(Path(source)):
            try:
                key = load_public_key(pem.read_bytes())
            except ValueError as exc:
                raise MissingKeyError(f"{pem} is not an Ed25519 public key (PEM): {exc}") from None
            keys[public_key_id(key)] = key
    return keys


def bootstrap(settings: Settings | None = None, *, upgrade: bool = False) -> Store:
    """Builds the store from settings: engine (with pragmas), sessions, cipher, signer."""
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url(), busy_timeout_ms=settings.busy_timeout_ms)
    if upgrade:
        migrate.upgrade(engine)
    keyring, key_file = load_keyring(settings)
    signing = load_signing_key(settings)
    public_keys = {**load_trusted_public_keys(settings), signing.key_id: signing.public_key()}
    signer = CheckpointSigner(
        private_key=signing.private_key,
        key_id=signing.key_id,
        every=settings.checkpoint_every,
        public_keys=public_keys,
    )
    database = make_url(settings.resolved_database_url()).database
    lock = (
        WriterLock(Path(database))
        if engine.dialect.name == "sqlite" and database and database != ":memory:"
        else None
    )
    return Store(
        engine=engine,
        writer_lock=lock,
        sessions=session_factory(engine),
        readers=read_session_factory(engine),
        statement_writers=statement_session_factory(engine),
        sealer=Sealer(FieldCipher(keyring)),
        signer=signer,
        public_keys=public_keys,
        keyring=keyring,
        field_key_file=key_file,
    )
