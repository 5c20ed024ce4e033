"""Checkpoints as C2SP signed notes: the exact form, round trips, signatures, bad input."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import BadInput
from ledger.checkpoint import (
    Checkpoint,
    Signature,
    decode_hash,
    decode_proof,
    encode_hash,
    encode_proof,
    key_id,
    load_private_key,
    load_public_key,
    utc_now,
    verify_signature,
)

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
ORIGIN = "example.org/blockledger"
CHECKPOINT = Checkpoint(ORIGIN, 3, bytes(range(32)), bytes([0xAB]) * 32, "2024-05-01T12:00:00Z")


def _pem_private(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _with_signature(note: str, signature: Signature) -> str:
    return note + signature.line()


# -- the form ----------------------------------------------------------------------------------


def test_body_is_the_tlog_checkpoint_text_with_our_extension_lines():
    assert CHECKPOINT.body() == (
        b"example.org/blockledger\n"
        b"3\n"
        b"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        b"chain abababababababababababababababababababababababababababababababab\n"
        b"time 2024-05-01T12:00:00Z\n")


INDEXED = Checkpoint(ORIGIN, 3, bytes(range(32)), bytes([0xAB]) * 32, "2024-05-01T12:00:00Z",
                     5, bytes(range(1, 33)))


def test_the_platform_index_is_an_extension_line_after_the_time():
    assert INDEXED.body() == CHECKPOINT.body() + (
        b"platforms 5 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n")
    for note in (INDEXED.to_note(), INDEXED.to_note(KEY)):
        parsed, _ = Checkpoint.parse(note)
        assert parsed == INDEXED
    assert verify_signature(INDEXED.to_note(KEY), KEY.public_key())
    # Without the line a note still parses, as notes written before the index did.
    assert Checkpoint.parse(CHECKPOINT.to_note())[0].index_root is None
    with pytest.raises(BadInput, match="both its size and its root"):
        Checkpoint(ORIGIN, 3, bytes(32), bytes(32), "2024-05-01T12:00:00Z", 5, None)


def test_signed_note_form():
    note = CHECKPOINT.to_note(KEY)
    body, blank, signature_line = note.partition("\n\n")
    assert (body + "\n").encode() == CHECKPOINT.body()
    assert blank == "\n\n"
    assert signature_line.startswith(f"\u2014 {ORIGIN} ") and signature_line.endswith("\n")
    raw = base64.b64decode(signature_line.rstrip("\n").split(" ")[2], validate=True)
    public = KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    assert raw[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert len(raw) == 4 + 64
    KEY.public_key().verify(raw[4:], CHECKPOINT.body())  # raises if it does not verify


def test_signature_line_reproduces_the_go_note_reference():
    """golang.org/x/mod/sumdb/note's documented example: same key ID, same line, byte for byte.

    Ed25519 is deterministic, so the published signer key must give the published line.
    """
    skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    text = (b"If you think cryptography is the answer to your problem,\n"
            b"then you don't know what your problem is.\n")
    line = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
            "KvqfqdngotpRZb6KE6RyyBwJnAM=\n")
    seed = base64.b64decode(skey.split("+", 4)[4])
    assert seed[0] == 1  # the Ed25519 type byte
    private = Ed25519PrivateKey.from_private_bytes(seed[1:])
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(vkey.split("+", 2)[2])[1:])
    assert key_id("PeterNeumann", public) == bytes.fromhex("c74f20a3")
    signature = Signature("PeterNeumann", key_id("PeterNeumann", public), private.sign(text))
    assert signature.line() == line


def test_unsigned_note_has_no_signature_lines_and_never_verifies():
    note = CHECKPOINT.to_note(None)
    assert note == CHECKPOINT.body().decode() + "\n"
    parsed, signatures = Checkpoint.parse(note)
    assert parsed == CHECKPOINT
    assert signatures == []
    assert not verify_signature(note, KEY.public_key())


# -- round trips -------------------------------------------------------------------------------

origins = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=30)
times = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31)).map(
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"))
checkpoints = st.builds(Checkpoint, origins, st.integers(0, 2**64 - 1),
                        st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32),
                        times)


@settings(max_examples=200, deadline=None)
@given(checkpoints)
def test_round_trip(checkpoint):
    """to_note then parse gives the same checkpoint, signed or not, text or bytes."""
    for note in (checkpoint.to_note(None), checkpoint.to_note(KEY, "log.example/key")):
        parsed, _ = Checkpoint.parse(note)
        assert parsed == checkpoint
        assert Checkpoint.parse(note.encode())[0] == checkpoint
        assert parsed.to_note(None) == checkpoint.to_note(None)


def test_round_trip_keeps_fractional_seconds():
    checkpoint = Checkpoint(ORIGIN, 0, bytes(32), bytes(32), "2024-05-01T12:00:00.123456Z")
    assert Checkpoint.parse(checkpoint.to_note(KEY))[0] == checkpoint


def test_utc_now_is_a_checkpoint_time():
    now = utc_now()
    Checkpoint(ORIGIN, 0, bytes(32), bytes(32), now)
    parsed = datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 5


# -- signatures --------------------------------------------------------------------------------


def test_signature_verifies_with_the_right_key_in_every_form():
    note = CHECKPOINT.to_note(KEY)
    assert verify_signature(note, KEY.public_key())
    assert verify_signature(note.encode(), KEY.public_key())
    assert verify_signature(Checkpoint.parse(note), KEY.public_key())
    assert verify_signature(note, KEY.public_key(), ORIGIN)


def test_signature_fails_with_another_key_or_name():
    note = CHECKPOINT.to_note(KEY)
    assert not verify_signature(note, OTHER_KEY.public_key())
    assert not verify_signature(note, KEY.public_key(), "example.org/other")


def test_key_name_defaults_to_the_origin_and_can_differ():
    note = CHECKPOINT.to_note(KEY, "keys.example/ledger-2024")
    assert "\n\u2014 keys.example/ledger-2024 " in note
    assert verify_signature(note, KEY.public_key(), "keys.example/ledger-2024")
    assert not verify_signature(note, KEY.public_key())  # looks for the origin's name


@pytest.mark.parametrize(("old", "new"), [
    ("\n3\n", "\n4\n"),  # tree size
    ("AAECAwQF", "AAECAwQG"),  # root hash
    ("chain abab", "chain abac"),  # chain head
    ("12:00:00Z", "12:00:01Z"),  # time
    ("example.org/blockledger\n3", "example.org/blockledgeR\n3"),  # origin, not the key name
])
def test_signature_fails_on_an_altered_body(old, new):
    note = CHECKPOINT.to_note(KEY)
    assert note.count(old) == 1
    altered = note.replace(old, new)
    Checkpoint.parse(altered)  # still a well-formed checkpoint
    assert not verify_signature(altered, KEY.public_key())


def test_signature_fails_when_the_signature_is_altered():
    note = CHECKPOINT.to_note(KEY)
    _, (signature,) = Checkpoint.parse(note)
    broken = bytes([signature.signature[0] ^ 1]) + signature.signature[1:]
    forged = CHECKPOINT.to_note(None) + Signature(signature.key_name, signature.key_id,
                                                  broken).line()
    assert not verify_signature(forged, KEY.public_key())
    truncated = CHECKPOINT.to_note(None) + Signature(signature.key_name, signature.key_id,
                                                     signature.signature[:10]).line()
    assert not verify_signature(truncated, KEY.public_key())


def test_other_signers_are_ignored_but_a_bad_line_from_ours_rejects():
    """signed-note: unknown keys are ignored; a failing signature from the key rejects."""
    note = CHECKPOINT.to_note(KEY)
    witness = Signature("witness.example", key_id("witness.example", OTHER_KEY.public_key()),
                        OTHER_KEY.sign(CHECKPOINT.body()))
    cosigned = _with_signature(note, witness)
    assert verify_signature(cosigned, KEY.public_key())
    assert verify_signature(cosigned, OTHER_KEY.public_key(), "witness.example")
    # Same name, other key: another key ID, so ignored.
    impostor = Signature(ORIGIN, key_id(ORIGIN, OTHER_KEY.public_key()),
                         OTHER_KEY.sign(CHECKPOINT.body()))
    assert verify_signature(_with_signature(note, impostor), KEY.public_key())
    # Our name and key ID, a bad signature: the whole note fails despite the good line.
    bad = Signature(ORIGIN, key_id(ORIGIN, KEY.public_key()), bytes(64))
    assert not verify_signature(_with_signature(note, bad), KEY.public_key())


def test_signing_needs_a_valid_key_name():
    for name in ("", "has space", "a+b", "tab\there"):
        with pytest.raises(BadInput):
            CHECKPOINT.to_note(KEY, name)
    spaced = Checkpoint("my ledger", 0, bytes(32), bytes(32), "2024-05-01T12:00:00Z")
    with pytest.raises(BadInput, match="key name"):
        spaced.to_note(KEY)
    assert spaced.to_note(KEY, "my-ledger")  # an explicit name works


# -- malformed notes ---------------------------------------------------------------------------

GOOD = CHECKPOINT.to_note(KEY)
BODY = CHECKPOINT.body().decode()
SIGNATURE_LINE = GOOD[len(BODY) + 1 :]
ROOT_B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
CHAIN = "chain " + "ab" * 32
TIME = "time 2024-05-01T12:00:00Z"


def _note(*lines: str, signatures: str = SIGNATURE_LINE) -> str:
    return "".join(line + "\n" for line in lines) + "\n" + signatures


MALFORMED = {
    "empty": "",
    "no final newline": GOOD[:-1],
    "no blank line": BODY,
    "CRLF line endings": GOOD.replace("\n", "\r\n"),
    "tab": GOOD.replace("example.org", "example\t.org"),
    "four lines": _note(ORIGIN, "3", ROOT_B64, CHAIN),
    "six lines": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME, "extra line"),
    "empty origin": _note("", "3", ROOT_B64, CHAIN, TIME),
    "size with leading zero": _note(ORIGIN, "03", ROOT_B64, CHAIN, TIME),
    "negative size": _note(ORIGIN, "-3", ROOT_B64, CHAIN, TIME),
    "size in words": _note(ORIGIN, "three", ROOT_B64, CHAIN, TIME),
    "size in fullwidth digits": _note(ORIGIN, "\uff13", ROOT_B64, CHAIN, TIME),
    "size over 2**64 - 1": _note(ORIGIN, str(2**64), ROOT_B64, CHAIN, TIME),
    "size with a sign": _note(ORIGIN, "+3", ROOT_B64, CHAIN, TIME),
    "huge size": _note(ORIGIN, "9" * 5000, ROOT_B64, CHAIN, TIME),
    "root not base64": _note(ORIGIN, "3", "not base64!", CHAIN, TIME),
    "root of 31 bytes": _note(ORIGIN, "3", base64.b64encode(bytes(31)).decode(), CHAIN, TIME),
    "root in hex": _note(ORIGIN, "3", "00" * 32, CHAIN, TIME),
    "root without padding": _note(ORIGIN, "3", ROOT_B64.rstrip("="), CHAIN, TIME),
    # "...Hh8=" and "...Hh9=" decode alike: the last character's spare bits must be zero.
    "root non-canonical base64": _note(ORIGIN, "3", ROOT_B64[:-2] + "9=", CHAIN, TIME),
    "root url-safe base64": _note(ORIGIN, "3", "_" + ROOT_B64[1:], CHAIN, TIME),
    "chain without keyword": _note(ORIGIN, "3", ROOT_B64, "ab" * 32, TIME),
    "chain in upper case": _note(ORIGIN, "3", ROOT_B64, "chain " + "AB" * 32, TIME),
    "chain too short": _note(ORIGIN, "3", ROOT_B64, "chain " + "ab" * 31, TIME),
    "chain and time swapped": _note(ORIGIN, "3", ROOT_B64, TIME, CHAIN),
    "time without keyword": _note(ORIGIN, "3", ROOT_B64, CHAIN, "2024-05-01T12:00:00Z"),
    "time with an offset": _note(ORIGIN, "3", ROOT_B64, CHAIN, "time 2024-05-01T12:00:00+00:00"),
    "time without zone": _note(ORIGIN, "3", ROOT_B64, CHAIN, "time 2024-05-01T12:00:00"),
    "time as a date": _note(ORIGIN, "3", ROOT_B64, CHAIN, "time 2024-05-01"),
    "impossible date": _note(ORIGIN, "3", ROOT_B64, CHAIN, "time 2024-02-30T12:00:00Z"),
    "hyphen for em dash": GOOD.replace("\u2014 ", "- "),
    "em dash without space": GOOD.replace("\u2014 ", "\u2014"),
    "signature without name": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME,
                                    signatures="\u2014 " + SIGNATURE_LINE.split(" ")[2]),
    "signature with extra field": GOOD[:-1] + " extra\n",
    "key name with plus": GOOD.replace(f"\u2014 {ORIGIN} ", "\u2014 a+b "),
    "signature not base64": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME,
                                  signatures=f"\u2014 {ORIGIN} not*base64\n"),
    "signature too short": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME,
                                 signatures=f"\u2014 {ORIGIN} AAAAAA==\n"),
    "text after the signatures": GOOD + "trailing text\n",
    "blank line after the signatures": GOOD + "\n",
    "too many signatures": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME,
                                 signatures=SIGNATURE_LINE * 101),
    "platforms without size": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME,
                                    f"platforms {ROOT_B64}"),
    "platforms size in words": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME,
                                     f"platforms three {ROOT_B64}"),
    "platforms root in hex": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME, "platforms 3 " + "00" * 32),
    "platforms with extra field": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME,
                                        f"platforms 3 {ROOT_B64} x"),
    "platforms before time": _note(ORIGIN, "3", ROOT_B64, CHAIN, f"platforms 3 {ROOT_B64}",
                                   TIME),
    "seven lines": _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME, f"platforms 3 {ROOT_B64}",
                         "extra line"),
}


@pytest.mark.parametrize("text", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_notes_raise_bad_input(text):
    with pytest.raises(BadInput) as raised:
        Checkpoint.parse(text)
    message = str(raised.value)
    assert message.startswith("checkpoint")
    assert "\n" not in message and "\r" not in message


def test_verify_signature_raises_bad_input_on_a_malformed_note():
    with pytest.raises(BadInput):
        verify_signature(MALFORMED["four lines"], KEY.public_key())


def test_non_utf8_bytes_raise_bad_input():
    with pytest.raises(BadInput, match="UTF-8"):
        Checkpoint.parse(GOOD.encode().replace(b"example", b"ex\xffample"))


def test_many_signatures_are_fine_up_to_the_limit():
    note = _note(ORIGIN, "3", ROOT_B64, CHAIN, TIME, signatures=SIGNATURE_LINE * 100)
    _, signatures = Checkpoint.parse(note)
    assert len(signatures) == 100
    assert verify_signature(note, KEY.public_key())


@pytest.mark.parametrize(("field", "value"), [
    ("origin", ""),
    ("origin", "two\nlines"),
    ("origin", "bell\x07"),
    ("tree_size", -1),
    ("tree_size", 2**64),
    ("tree_size", True),
    ("tree_size", "3"),
    ("root_hash", bytes(31)),
    ("root_hash", "00" * 32),
    ("chain_head", bytes(33)),
    ("time", "2024-05-01 12:00:00Z"),
    ("time", "2024-13-01T12:00:00Z"),
    ("time", None),
])
def test_invalid_fields_raise_bad_input(field, value):
    fields = {"origin": ORIGIN, "tree_size": 3, "root_hash": bytes(32),
              "chain_head": bytes(32), "time": "2024-05-01T12:00:00Z"}
    with pytest.raises(BadInput) as raised:
        Checkpoint(**{**fields, field: value})
    assert "\n" not in str(raised.value)


# -- keys --------------------------------------------------------------------------------------


def test_keys_load_from_pem(tmp_path):
    private_file, public_file = tmp_path / "ledger.pem", tmp_path / "ledger.pub.pem"
    private_file.write_bytes(_pem_private(KEY))
    public_file.write_bytes(_pem_public(KEY))
    private, public = load_private_key(private_file), load_public_key(str(public_file))
    note = CHECKPOINT.to_note(private)
    assert note == CHECKPOINT.to_note(KEY)  # Ed25519 is deterministic: the same key
    assert verify_signature(note, public)


def _ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(("content", "message"), [
    (None, "not found"),
    (b"", "not an Ed25519 private key"),
    (b"hello", "not an Ed25519 private key"),
    ("public", "not an Ed25519 private key"),
    ("ec", "not an Ed25519 key"),
    ("encrypted", "encrypted"),
])
def test_bad_private_key_files(tmp_path, content, message):
    file = tmp_path / "key.pem"
    if content == "public":
        content = _pem_public(KEY)
    elif content == "ec":
        content = _pem_private(_ec_key())
    elif content == "encrypted":
        content = KEY.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.BestAvailableEncryption(b"secret"))
    if content is not None:
        file.write_bytes(content)
    with pytest.raises(BadInput, match=message) as raised:
        load_private_key(file)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("content", "message"), [
    (None, "not found"),
    (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not an Ed25519 public"),
    ("private", "is a private key"),
    ("ec", "not an Ed25519 key"),
])
def test_bad_public_key_files(tmp_path, content, message):
    file = tmp_path / "key.pub.pem"
    if content == "private":
        content = _pem_private(KEY)
    elif content == "ec":
        content = _pem_public(_ec_key())
    if content is not None:
        file.write_bytes(content)
    with pytest.raises(BadInput, match=message) as raised:
        load_public_key(file)
    assert "\n" not in str(raised.value)


def test_a_directory_is_not_a_key_file(tmp_path):
    with pytest.raises(BadInput, match="cannot read"):
        load_private_key(tmp_path)


# -- proofs and hashes as JSON ------------------------------------------------------------------


def test_proof_round_trip():
    proof = [hashlib.sha256(b"%d" % i).digest() for i in range(5)]
    encoded = encode_proof(proof)
    assert all(isinstance(item, str) for item in encoded)
    assert encoded[0] == base64.b64encode(proof[0]).decode()
    assert decode_proof(encoded) == proof
    assert decode_proof([]) == []
    assert decode_hash(encode_hash(proof[0])) == proof[0]


@pytest.mark.parametrize("items", [
    "not a list",
    {"a": 1},
    [1],
    [None],
    ["not base64!"],
    [base64.b64encode(bytes(31)).decode()],
    [base64.b64encode(bytes(32)).decode().rstrip("=")],
])
def test_bad_proofs_raise_bad_input(items):
    with pytest.raises(BadInput) as raised:
        decode_proof(items)
    assert "\n" not in str(raised.value)


def test_encode_hash_refuses_other_lengths():
    with pytest.raises(ValueError):
        encode_hash(bytes(31))
    with pytest.raises(ValueError):
        encode_proof([bytes(32), bytes(16)])
