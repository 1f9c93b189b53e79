"""Cryptographic building blocks of the store, with no database: field-level encryption of
personal protection data (:mod:`safeshare.crypto.fields`) under a keyring
(:mod:`safeshare.crypto.keyring`), and secret-file handling (:mod:`safeshare.crypto.files`).
The tamper-evident audit log is :mod:`safeshare.audit`."""

from safeshare.crypto.errors import CryptoError, FieldDecryptionError, KeyFileError, KeyringError
from safeshare.crypto.fields import BLOB_VERSION, NONCE_BYTES, FieldCipher
from safeshare.crypto.files import read_secret_file, write_secret_file
from safeshare.crypto.keyring import KEY_BYTES, Keyring

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
