"""Settings, validated once at start (pydantic-settings, environment prefix ``SAFESHARE_``).

``SAFESHARE_ENV`` is one of development, demo, test, production. Outside development, demo and
test, the defaults that exist only for convenience are refused: a generated field key file under
the user's data directory, an unsigned audit log, a SQLite file nobody chose.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "safeshare"
TRUSTED_KEYS_DIR = "trusted-audit-keys"


class Env(StrEnum):
    DEVELOPMENT = "development"
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


CONVENIENCE_ENVS = frozenset({Env.DEVELOPMENT, Env.DEMO, Env.TEST})


class InsecureSettingsError(ValueError):
    """A default that exists for convenience was left in place outside development/demo/test."""


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFESHARE_", extra="ignore")

    env: Env = Env.DEVELOPMENT
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default a SQLite file under the user's data directory.",
    )
    field_key_file: Path | None = Field(
        default=None, description="JSON keyring for field encryption (outside the database)."
    )
    field_keys: SecretStr | None = Field(
        default=None, description="The keyring itself, as the environment value of the crypto lib."
    )
    audit_key_file: Path | None = Field(
        default=None, description="Ed25519 private key (PEM) signing audit checkpoints."
    )
    audit_trusted_keys: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Extra trusted audit public keys: PEM files, or directories of *.pem files "
        "(in the environment, separated by the OS path separator). Checkpoints signed by a key "
        "retired by a rotation verify with its public key; the directory "
        "trusted-audit-keys/ next to the audit key file is always read.",
    )
    checkpoint_every: int = Field(
        default=1000, ge=1, description="Sign a checkpoint every N events."
    )
    busy_timeout_ms: int = Field(default=10_000, ge=0)

    @field_validator("audit_trusted_keys", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [p for p in value.split(os.pathsep) if p.strip()]
        return value

    @property
    def convenience(self) -> bool:
        return self.env in CONVENIENCE_ENVS

    @model_validator(mode="after")
    def _refuse_defaults_in_production(self) -> Settings:
        if self.convenience:
            return self
        missing = []
        if not self.database_url:
            missing.append("SAFESHARE_DATABASE_URL")
        if self.field_key_file is None and self.field_keys is None:
            missing.append("SAFESHARE_FIELD_KEY_FILE or SAFESHARE_FIELD_KEYS")
        if self.audit_key_file is None:
            missing.append("SAFESHARE_AUDIT_KEY_FILE")
        if missing:
            raise InsecureSettingsError(
                f"SAFESHARE_ENV={self.env.value} refuses default secrets and locations; "
                f"set {', '.join(missing)}"
            )
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{data_dir() / 'safeshare.db'}"

    def resolved_field_key_file(self) -> Path:
        return self.field_key_file or data_dir() / "field-keys.json"

    def resolved_audit_key_file(self) -> Path:
        return self.audit_key_file or data_dir() / "audit-signing-key.pem"

    def resolved_trusted_keys_dir(self) -> Path:
        """Where ``safeshare audit rotate-signing-key`` keeps retired public keys: a directory
        next to the audit key file."""
        return self.resolved_audit_key_file().parent / TRUSTED_KEYS_DIR
