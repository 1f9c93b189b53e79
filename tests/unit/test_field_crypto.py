"""Field-level encryption: round trips, binding to (table, column, row), tampering, unknown
keys, rotation, and key files."""

from __future__ import annotations

import base64
import json
import os
import pickle
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeshare.crypto import (
    FieldCipher,
    FieldDecryptionError,
    KeyFileError,
    Keyring,
    KeyringError,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

SECRET = "Amina K., 14, safe house at Block 7"
WHERE = {"table": "subjects", "column": "name", "row_id": "7d1c2b36-2f5e-4b7b-9a51-3c7f0e1d9a10"}


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture
def cipher(keyring: Keyring) -> FieldCipher:
    return FieldCipher(keyring)


# -- round trip -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "a", SECRET, "عائشة — 👧🏽 — Ñandú", "x" * 100_000])
def test_round_trip(cipher: FieldCipher, text: str) -> None:
    blob = cipher.encrypt(text, **WHERE)
    assert isinstance(blob, bytes)
    assert cipher.decrypt(blob, **WHERE) == text


@settings(max_examples=200)
@given(
    text=st.text(),
    table=st.text(min_size=1, max_size=20),
    column=st.text(min_size=1, max_size=20),
    row_id=st.text(min_size=1, max_size=40),
)
def test_round_trip_property(text: str, table: str, column: str, row_id: str) -> None:
    cipher = FieldCipher(Keyring({"k1": bytes(range(32))}, "k1"))
    blob = cipher.encrypt(text, table=table, column=column, row_id=row_id)
    assert cipher.decrypt(blob, table=table, column=column, row_id=row_id) == text


def test_blob_layout(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("hello", **WHERE)
    assert blob[0] == 1  # version
    assert blob[1] == 2  # len("k1")
    assert blob[2:4] == b"k1"
    assert len(blob) == 1 + 1 + 2 + 12 + len("hello") + 16
    assert b"hello" not in blob


def test_same_plaintext_gives_different_blobs(cipher: FieldCipher) -> None:
    blobs = {cipher.encrypt(SECRET, **WHERE) for _ in range(50)}
    assert len(blobs) == 50  # fresh random nonce each time
    assert len({b[4:16] for b in blobs}) == 50


def test_optional_helpers_pass_none_through(cipher: FieldCipher) -> None:
    assert cipher.encrypt_optional(None, **WHERE) is None
    assert cipher.decrypt_optional(None, **WHERE) is None
    blob = cipher.encrypt_optional(SECRET, **WHERE)
    assert blob is not None
    assert cipher.decrypt_optional(blob, **WHERE) == SECRET


def test_memoryview_and_bytearray_blobs_decrypt(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(SECRET, **WHERE)
    assert cipher.decrypt(memoryview(blob), **WHERE) == SECRET  # type: ignore[arg-type]
    assert cipher.decrypt(bytearray(blob), **WHERE) == SECRET  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"table": ""},
        {"column": ""},
        {"row_id": ""},
    ],
)
def test_empty_binding_refused(cipher: FieldCipher, bad: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        cipher.encrypt(SECRET, **(WHERE | bad))


def test_non_str_inputs_refused(cipher: FieldCipher) -> None:
    with pytest.raises(TypeError):
        cipher.encrypt(b"bytes", **WHERE)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cipher.encrypt(SECRET, table="t", column="c", row_id=42)  # type: ignore[arg-type]


# -- binding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moved",
    [
        {"table": "referrals"},
        {"column": "phone"},
        {"row_id": "7d1c2b36-2f5e-4b7b-9a51-3c7f0e1d9a11"},
        {"table": "Subjects"},
    ],
)
def test_wrong_binding_fails(cipher: FieldCipher, moved: dict[str, str]) -> None:
    blob = cipher.encrypt(SECRET, **WHERE)
    where = WHERE | moved
    with pytest.raises(FieldDecryptionError) as info:
        cipher.decrypt(blob, **where)
    err = info.value
    assert (err.table, err.column, err.row_id) == (where["table"], where["column"], where["row_id"])
    assert where["table"] in str(err)
    assert where["column"] in str(err)
    assert where["row_id"] in str(err)
    assert SECRET not in str(err)
    assert "Amina" not in repr(err)


def test_binding_is_unambiguous(cipher: FieldCipher) -> None:
    """Length prefixes: ("ab", "c") and ("a", "bc") must not collide."""
    blob = cipher.encrypt(SECRET, table="ab", column="c", row_id="1")
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(blob, table="a", column="bc", row_id="1")
    blob = cipher.encrypt(SECRET, table="t", column="c", row_id="12")
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(blob, table="t", column="c1", row_id="2")


# -- tampering --------------------------------------------------------------------------


def test_every_flipped_byte_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(SECRET, **WHERE)
    for i in range(len(blob)):
        for mask in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[i] ^= mask
            with pytest.raises(FieldDecryptionError) as info:
                cipher.decrypt(bytes(tampered), **WHERE)
            assert SECRET not in str(info.value)


@pytest.mark.parametrize("cut", [0, 1, 2, 4, 16, 20, -1])
def test_truncated_blob_fails(cipher: FieldCipher, cut: int) -> None:
    blob = cipher.encrypt(SECRET, **WHERE)
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(blob[:cut], **WHERE)


def test_appended_bytes_fail(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(SECRET, **WHERE)
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(blob + b"\x00", **WHERE)


def test_header_rewritten_to_other_key_fails() -> None:
    """Renaming the key in the header (to another key of the ring) fails: the header is
    authenticated and the key differs."""
    ring = Keyring.generate("k1").with_new_active_key("k2")
    cipher = FieldCipher(ring)
    blob = cipher.encrypt(SECRET, **WHERE)
    assert blob[2:4] == b"k2"
    forged = blob[:2] + b"k1" + blob[4:]
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(forged, **WHERE)


def test_unknown_key_id_fails(cipher: FieldCipher) -> None:
    other = FieldCipher(Keyring.generate("k9"))
    blob = other.encrypt(SECRET, **WHERE)
    with pytest.raises(FieldDecryptionError, match="unknown key id 'k9'") as info:
        cipher.decrypt(blob, **WHERE)
    assert SECRET not in str(info.value)


def test_same_key_id_other_key_fails(cipher: FieldCipher) -> None:
    other = FieldCipher(Keyring.generate("k1"))
    blob = other.encrypt(SECRET, **WHERE)
    with pytest.raises(FieldDecryptionError, match="authentication failed"):
        cipher.decrypt(blob, **WHERE)


def test_unsupported_version_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(SECRET, **WHERE)
    with pytest.raises(FieldDecryptionError, match="version"):
        cipher.decrypt(b"\x02" + blob[1:], **WHERE)


# -- rotation ---------------------------------------------------------------------------


def test_rotation(keyring: Keyring) -> None:
    old_cipher = FieldCipher(keyring)
    old_blob = old_cipher.encrypt(SECRET, **WHERE)
    assert FieldCipher.key_id_of(old_blob) == "k1"
    assert not old_cipher.needs_rotation(old_blob)

    rotated = keyring.with_new_active_key()
    assert rotated.active == "k2"
    assert rotated.key_ids == ("k1", "k2")
    assert rotated.keys["k1"] == keyring.keys["k1"]
    assert keyring.active == "k1"  # the old keyring is unchanged
    cipher = FieldCipher(rotated)

    # old blobs still decrypt with the rotated keyring
    assert cipher.decrypt(old_blob, **WHERE) == SECRET
    assert cipher.needs_rotation(old_blob)

    new_blob = cipher.rotate(old_blob, **WHERE)
    assert new_blob != old_blob
    assert FieldCipher.key_id_of(new_blob) == "k2"
    assert not cipher.needs_rotation(new_blob)
    assert cipher.decrypt(new_blob, **WHERE) == SECRET
    assert cipher.rotate(new_blob, **WHERE) == new_blob  # already current: unchanged

    # fresh encryptions use the new key
    assert FieldCipher.key_id_of(cipher.encrypt("x", **WHERE)) == "k2"
    # the rotated blob stays bound to its row
    with pytest.raises(FieldDecryptionError):
        cipher.decrypt(new_blob, **(WHERE | {"row_id": "other"}))
    # the old keyring cannot read the new blob
    with pytest.raises(FieldDecryptionError, match="unknown key id"):
        old_cipher.decrypt(new_blob, **WHERE)

    # once every blob is rotated, the old key can be retired
    retired = FieldCipher(rotated.without_key("k1"))
    assert retired.decrypt(new_blob, **WHERE) == SECRET
    with pytest.raises(FieldDecryptionError):
        retired.decrypt(old_blob, **WHERE)


def test_rotate_tampered_blob_fails(keyring: Keyring) -> None:
    blob = bytearray(FieldCipher(keyring).encrypt(SECRET, **WHERE))
    blob[-1] ^= 1
    with pytest.raises(FieldDecryptionError) as info:
        FieldCipher(keyring.with_new_active_key()).rotate(bytes(blob), **WHERE)
    assert info.value.row_id == WHERE["row_id"]


def test_rotation_key_ids(keyring: Keyring) -> None:
    ring = keyring.with_new_active_key().with_new_active_key()
    assert ring.active == "k3"
    assert ring.with_new_active_key("2025-q3").active == "2025-q3"
    with pytest.raises(KeyringError):
        ring.with_new_active_key("k1")
    with pytest.raises(KeyringError):
        ring.without_key("k3")  # the active key


# -- keyrings ---------------------------------------------------------------------------


def test_keyring_validation() -> None:
    with pytest.raises(KeyringError):
        Keyring({"k1": b"short"}, "k1")
    with pytest.raises(KeyringError):
        Keyring({"k1": bytes(32)}, "k2")
    with pytest.raises(KeyringError):
        Keyring({}, "k1")
    with pytest.raises(KeyringError):
        Keyring({"bad id": bytes(32)}, "bad id")


def test_keyring_json_round_trip(keyring: Keyring) -> None:
    ring = keyring.with_new_active_key()
    again = Keyring.from_json(ring.to_json())
    assert again == ring
    assert again.active == "k2"
    assert json.loads(ring.to_json())["active"] == "k2"


def test_keyring_repr_hides_keys(keyring: Keyring) -> None:
    encoded = base64.b64encode(keyring.keys["k1"]).decode()
    assert encoded not in repr(keyring)
    assert encoded not in repr(FieldCipher(keyring))
    assert "k1" in repr(keyring)


def test_from_env() -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    value = json.dumps({"active": "k2", "keys": {"k1": key, "k2": key}})
    ring = Keyring.from_env(value)
    assert ring.active == "k2"
    assert ring.keys["k1"] == bytes(range(32))
    with pytest.raises(KeyringError):
        Keyring.from_env("")
    with pytest.raises(KeyringError):
        Keyring.from_env(None)


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '{"keys": {}}',
        '{"active": "k1", "keys": {}}',
        '{"active": "k1", "keys": {"k1": 5}}',
        '{"active": "k1", "keys": {"k1": "!!!not-base64!!!"}}',
        '{"active": "k1", "keys": {"k1": "c2hvcnQ="}}',
        json.dumps({"active": "k1", "keys": {"k1": base64.b64encode(bytes(32)).decode()}, "x": 1}),
    ],
)
def test_malformed_keyrings_refused(value: str) -> None:
    with pytest.raises(KeyringError) as info:
        Keyring.from_env(value)
    assert "c2hvcnQ" not in str(info.value)
    assert "not-base64" not in str(info.value)


# -- key files --------------------------------------------------------------------------


@posix_only
def test_write_is_0600_and_reads_back(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "fields.keys.json"
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        keyring.write(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.from_file(path) == keyring
    assert [p.name for p in tmp_path.iterdir()] == ["fields.keys.json"]  # no temp file left


@posix_only
def test_write_replaces_atomically(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "k.json"
    keyring.write(path)
    rotated = keyring.with_new_active_key()
    rotated.write(path)
    assert Keyring.from_file(path) == rotated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620, 0o602, 0o700 | 0o004])
def test_key_file_readable_by_others_refused(tmp_path: Path, keyring: Keyring, mode: int) -> None:
    path = tmp_path / "k.json"
    keyring.write(path)
    path.chmod(mode)
    with pytest.raises(KeyFileError, match="group or others") as info:
        Keyring.from_file(path)
    assert "chmod 600" in str(info.value)
    assert Keyring.from_file(path, allow_insecure_permissions=True) == keyring


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_private_modes_accepted(tmp_path: Path, keyring: Keyring, mode: int) -> None:
    path = tmp_path / "k.json"
    keyring.write(path)
    path.chmod(mode)
    assert Keyring.from_file(path) == keyring


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        Keyring.from_file(tmp_path / "nope.json")


def test_key_file_directory_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        Keyring.from_file(tmp_path, allow_insecure_permissions=True)


@posix_only
def test_malformed_key_file(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text("{oops")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="not valid JSON"):
        Keyring.from_file(path)


def test_keyring_is_not_picklable(keyring: Keyring) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(keyring)
