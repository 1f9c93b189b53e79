"""The migrations build the schema the models describe: after ``upgrade`` to head, Alembic's
comparison of the database with the models finds nothing to add, drop or change (a model
changed without its migration fails here, on SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import safeshare.store.models_access
import safeshare.store.models_sharing  # noqa: F401 -- registers their tables on Base
from safeshare.store.models import Base
from safeshare.store.unit import Store


def test_the_migrated_schema_is_the_models_schema(store: Store) -> None:
    assert "records" in Base.metadata.tables
    assert "referrals" in Base.metadata.tables
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
