"""Cryptographic building blocks of the store, with no database: field-level encryption of
personal protection data (:mod:`safeshare.crypto.fields`) and secret-file handling
(:mod:`safeshare.crypto.files`). The tamper-evident audit log is :mod:`safeshare.audit`."""

from safeshare.crypto.errors import CryptoError, FieldDecryptionError, KeyFileError, KeyringError
from safeshare.crypto.fields import BLOB_VERSION, KEY_BYTES, NONCE_BYTES, FieldCipher, Keyring
from safeshare.crypto.files import read_secret_file, write_secret_file

__all__ = [
    "BLOB_VERSION",
    "KEY_BYTES",
    "NONCE_BYTES",
    "CryptoError",
    "FieldCipher",
    "FieldDecryptionError",
    "KeyFileError",
    "Keyring",
    "KeyringError",
    "read_secret_file",
    "write_secret_file",
]
