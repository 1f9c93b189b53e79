"""Errors of :mod:`safeshare.crypto`. None of them ever carries key material or plaintext."""

from __future__ import annotations

__all__ = ["CryptoError", "FieldDecryptionError", "KeyFileError", "KeyringError"]


class CryptoError(Exception):
    """Base of the errors raised by :mod:`safeshare.crypto`."""


class KeyringError(CryptoError, ValueError):
    """A keyring is malformed (bad JSON, unknown active key, key of the wrong length...)."""


class KeyFileError(KeyringError):
    """A key file cannot be used: missing, unreadable, not a regular file, readable by group
    or others, or malformed."""


class FieldDecryptionError(CryptoError):
    """An encrypted field cannot be decrypted: the blob is malformed, was tampered with, is
    bound to another table, column or row, or names a key the keyring does not hold.

    The message names the table, column and row (when known) and the reason; it never
    contains plaintext, ciphertext or key material."""

    def __init__(
        self,
        reason: str,
        *,
        table: str | None = None,
        column: str | None = None,
        row_id: str | None = None,
    ) -> None:
        self.reason = reason
        self.table = table
        self.column = column
        self.row_id = row_id
        if table is None:
            message = f"cannot decrypt field: {reason}"
        else:
            message = f"cannot decrypt {table}.{column} of row {row_id!r}: {reason}"
        super().__init__(message)
