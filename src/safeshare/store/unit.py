"""The unit of work: one store (engine, sessions, field cipher, audit signer). A service
function takes a :class:`Store` and owns its transaction: the change and its audit event
commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from safeshare.store.audit_log import CheckpointSigner
from safeshare.store.fields import Sealer


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    sealer: Sealer
    signer: CheckpointSigner | None = None
    public_keys: Mapping[str, Any] = field(default_factory=dict)
    keyring: Any = None
    field_key_file: Any = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads (rolled back at the end)."""
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
