"""Web settings (environment prefix ``SAFESHARE_``), validated at start beside
:class:`safeshare.settings.Settings`.

Outside development, demo and test a session secret of at least 32 characters must be
given (it binds CSRF tokens to sessions) and the cheap password hashing of the test suite is
refused; cookies are ``Secure`` everywhere but in development.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from safeshare.services.passwords import fast_hasher, production_hasher
from safeshare.services.sessions import AccessPolicy
from safeshare.settings import CONVENIENCE_ENVS, Env, InsecureSettingsError

KNOWN_PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "development", "dev", "demo"})
MIN_SECRET_LENGTH = 32


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFESHARE_", extra="ignore")

    env: Env = Env.DEVELOPMENT
    session_secret: SecretStr | None = Field(
        default=None, description="Binds CSRF tokens to sessions (32+ characters)."
    )
    idle_timeout_minutes: int = Field(default=30, ge=1, le=240)
    absolute_timeout_hours: int = Field(default=12, ge=1, le=24)
    max_login_failures: int = Field(default=5, ge=3, le=20)
    lockout_minutes: int = Field(default=15, ge=1, le=1440)
    fast_password_hashing: bool = Field(
        default=False, description="Cheap argon2id parameters: the test suite only."
    )
    cookie_secure: bool | None = Field(
        default=None, description="Default: Secure cookies everywhere but in development."
    )
    request_threads: int = Field(
        default=2,
        ge=1,
        le=256,
        description="Threads per server process running requests' work at once. The work is "
        "CPU-bound under one interpreter lock: more threads only take turns at it (measured: "
        "p99 at 200 requests/s about 3 times longer with 8 than with 2); with 1, a request "
        "waiting for the write lock holds up every other. Scale with --workers instead.",
    )

    @model_validator(mode="after")
    def _refuse_defaults(self) -> WebSettings:
        if self.env in CONVENIENCE_ENVS:
            if self.fast_password_hashing and self.env is not Env.TEST:
                raise InsecureSettingsError("fast password hashing is for the test suite only")
            return self
        secret = self.session_secret.get_secret_value() if self.session_secret else ""
        if len(secret) < MIN_SECRET_LENGTH or secret.strip().lower() in KNOWN_PLACEHOLDERS:
            raise InsecureSettingsError(
                f"SAFESHARE_ENV={self.env.value} needs SAFESHARE_SESSION_SECRET "
                f"({MIN_SECRET_LENGTH}+ random characters)"
            )
        if self.fast_password_hashing:
            raise InsecureSettingsError("fast password hashing is for the test suite only")
        if self.cookie_secure is False:
            raise InsecureSettingsError("cookies must be Secure outside development")
        return self

    def secret_bytes(self) -> bytes:
        """The session secret; in development, demo and test a random one per process."""
        if self.session_secret is not None:
            return self.session_secret.get_secret_value().encode("utf-8")
        return _PROCESS_SECRET

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.env is not Env.DEVELOPMENT

    def access_policy(self) -> AccessPolicy:
        return AccessPolicy(
            idle_timeout=timedelta(minutes=self.idle_timeout_minutes),
            absolute_timeout=timedelta(hours=self.absolute_timeout_hours),
            max_failures=self.max_login_failures,
            lockout=timedelta(minutes=self.lockout_minutes),
            failure_window=timedelta(minutes=self.lockout_minutes),
            hasher=fast_hasher() if self.fast_password_hashing else production_hasher(),
        )


_PROCESS_SECRET = secrets.token_bytes(32)
