"""Checkpoints: signed tree heads that auditors keep outside the ledger.

A checkpoint is a C2SP signed note (https://c2sp.org/signed-note) whose text follows
https://c2sp.org/tlog-checkpoint, with extension lines of ours::

    <origin>
    <tree size, decimal>
    <root hash, standard base64>
    chain <chain head, lowercase hex>
    time <RFC 3339 UTC time>
    index 3 <index size, decimal> <index root, standard base64>

    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>

The chain head ties the checkpoint to the hash chain that ``verify`` recomputes, so one
file pins both structures; the time says when the head was taken. The ``index`` line
commits to the index of the same tree size (``ledger.platform_index``): which positions
concern which platform, which are which order's and request's, and which set the
ledger's default jurisdiction, so that a report can prove it left none out. The line is
versioned (``index_version``):

- version 1, written as ``platforms <size> <root>`` (notes written before subjects had
  leaves): platform leaves only;
- version 2, ``index 2 <size> <root>``: platform leaves and subject leaves (orders',
  requests');
- version 3, ``index 3 <size> <root>``: those and the ledger's settings (its default
  jurisdiction), which a report for one jurisdiction proves complete.

Notes of every version parse and verify; a version this release does not know is
refused. Notes written before the index existed have no such line and still parse
(``index_size``, ``index_root`` and ``index_version`` are then None), but prove no
completeness. tlog-checkpoint
discourages extension lines because generic log monitors cannot audit them; here the
ledger's own ``verify`` does. Ed25519 signatures cover the text including its final newline
and not the blank line. A checkpoint written without a key has the blank line and no
signature lines: still a record of the head an auditor can compare, but not a valid signed
note, and ``verify_signature`` never accepts it.

Parsing is strict: anything but the exact form ``Checkpoint.body`` writes is ``BadInput``,
so that the text a signature covers is always the text the checkpoint re-renders.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
from attrs import frozen
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from domain.errors import BadInput
from ledger.merkle import HASH_SIZE

#: Starts every signature line: an em dash (U+2014) and a space.
SIGNATURE_PREFIX = "\u2014 "

#: The signed-note signature type byte for Ed25519, hashed into the key ID.
ED25519_SIGNATURE_TYPE = b"\x01"

#: Go's note package refuses more; signed-note asks verifiers for a limit of at least 16.
MAX_SIGNATURES = 100

# The RFC 6962 tree size is a uint64; 20 digits bound the number before int() sees it.
_MAX_TREE_SIZE = 2**64 - 1
_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_CHAIN_HEX = re.compile(r"[0-9a-f]{64}")
_RFC3339_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z")
# signed-note forbids every ASCII control character but the newline.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")

NoteInput = str | bytes


def _bad(message: str) -> BadInput:
    return BadInput(f"checkpoint: {message}")


def _short(text: str, limit: int = 40) -> str:
    """A value for an error message: quoted, and cut short so the message stays one line."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


# -- hashes and proofs as text ---------------------------------------------------------------


def _b64decode(text: str) -> bytes | None:
    """Strict standard base64, or None: no stray characters, and only the canonical form.

    Re-encoding rules out the several spellings one byte string can otherwise have
    (non-zero padding bits), so equal hashes always have equal text.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error is a ValueError; so is non-ASCII text
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def encode_hash(digest: bytes) -> str:
    """A 32-byte hash as standard base64, the form checkpoints and reports use."""
    if len(digest) != HASH_SIZE:
        raise ValueError(f"a hash is {HASH_SIZE} bytes, not {len(digest)}")
    return base64.b64encode(digest).decode("ascii")


def decode_hash(text: object, what: str = "hash") -> bytes:
    """The 32-byte hash in standard base64 ``text``; ``BadInput`` naming ``what`` otherwise."""
    if not isinstance(text, str):
        raise BadInput(f"{what}: expected a base64 string, got {type(text).__name__}")
    raw = _b64decode(text)
    if raw is None:
        raise BadInput(f"{what}: {_short(text)} is not standard base64")
    if len(raw) != HASH_SIZE:
        raise BadInput(f"{what}: {len(raw)} bytes, expected {HASH_SIZE}")
    return raw


def encode_proof(proof: Sequence[bytes]) -> list[str]:
    """A Merkle proof (32-byte hashes) as a list of base64 strings, for JSON reports."""
    return [encode_hash(node) for node in proof]


def decode_proof(items: object) -> list[bytes]:
    """The Merkle proof in a JSON list of base64 strings; ``BadInput`` if malformed."""
    if not isinstance(items, list):
        raise BadInput(f"proof: expected a list of base64 hashes, got {type(items).__name__}")
    return [decode_hash(item, f"proof[{i}]") for i, item in enumerate(items)]


# -- keys --------------------------------------------------------------------------------------


def _check_key_name(name: str) -> None:
    # signed-note: non-empty, no Unicode space (it separates the fields of a signature
    # line), no plus (it separates the fields of a verifier key).
    if not isinstance(name, str) or not name:
        raise BadInput("key name: must not be empty")
    if any(c.isspace() or c == "+" for c in name) or _CONTROL.search(name):
        raise BadInput(f"key name: {_short(name)} must not contain spaces, '+' or control "
                       "characters")


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """The signed-note key ID: SHA-256(key name || 0x0A || 0x01 || public key)[:4]."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(key_name.encode("utf-8") + b"\n" + ED25519_SIGNATURE_TYPE
                          + raw).digest()[:4]


def _read_key_file(path: str | os.PathLike[str], what: str) -> tuple[Path, bytes]:
    file = Path(path)
    try:
        return file, file.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{what} file not found: {file}") from None
    except OSError as exc:
        raise BadInput(f"cannot read {what} file {file}: {exc.strerror or exc}") from None


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM (PKCS#8) file ``path``.

    ``openssl genpkey -algorithm ed25519`` writes one. Raises ``BadInput`` if the file is
    missing, encrypted, or not an Ed25519 private key in PEM.
    """
    file, data = _read_key_file(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        # The library's way of saying the key needs a password.
        raise BadInput(f"{file}: the private key is encrypted; give an unencrypted "
                       "Ed25519 PEM key") from None
    except (ValueError, UnsupportedAlgorithm):
        raise BadInput(f"{file}: not an Ed25519 private key in PEM form") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInput(f"{file}: the private key is not an Ed25519 key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM (SubjectPublicKeyInfo) file ``path``.

    ``openssl pkey -in private.pem -pubout`` writes one. Raises ``BadInput`` if the file
    is missing or not an Ed25519 public key in PEM.
    """
    file, data = _read_key_file(path, "public key")
    if b"PRIVATE KEY-----" in data:
        # Auditors verify with the public half; say so rather than "not a public key".
        raise BadInput(f"{file}: is a private key; give the Ed25519 public key PEM")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise BadInput(f"{file}: not an Ed25519 public key in PEM form") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BadInput(f"{file}: the public key is not an Ed25519 key")
    return key


# -- checkpoints -------------------------------------------------------------------------------


def utc_now() -> str:
    """The current time in the form checkpoints record: RFC 3339, UTC, whole seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_origin(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise BadInput("checkpoint origin: must be a non-empty string")
    if "\n" in value or _CONTROL.search(value):
        raise BadInput(f"checkpoint origin: {_short(value)} must be one line without "
                       "control characters")


def _check_tree_size(_instance: object, _attribute: object, value: object) -> None:
    if type(value) is not int or not 0 <= value <= _MAX_TREE_SIZE:
        raise BadInput(f"checkpoint tree size: {value!r} is not an integer from 0 to 2**64-1")


def _check_hash(_instance: object, attribute: attrs.Attribute, value: object) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise BadInput(f"checkpoint {attribute.name.replace('_', ' ')}: expected {HASH_SIZE} "
                       "bytes")


def _check_time(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, str) or not _RFC3339_UTC.fullmatch(value):
        shown = _short(value) if isinstance(value, str) else type(value).__name__
        raise BadInput(f"checkpoint time: {shown} is not an RFC 3339 UTC time "
                       "(YYYY-MM-DDTHH:MM:SSZ)")
    try:
        # The pattern checks the shape; this checks the calendar (no 2024-02-30).
        datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise BadInput(f"checkpoint time: {_short(value)} is not a real date and time") from None


def _check_index_size(instance: Any, _attribute: object, value: object) -> None:
    if value is None:
        return
    _check_tree_size(instance, _attribute, value)


def _check_index_root(instance: Any, attribute: attrs.Attribute, value: object) -> None:
    if (value is None) != (instance.index_size is None):
        raise BadInput("checkpoint platform index: needs both its size and its root")
    if value is not None:
        _check_hash(instance, attribute, value)


#: The index versions this release reads (``ledger.platform_index``); it writes the last.
INDEX_VERSIONS = (1, 2, 3)


def _default_index_version(instance: Any) -> int | None:
    # A checkpoint made with an index but no version is one of the first: platforms only.
    return None if instance.index_root is None else 1


def _check_index_version(instance: Any, _attribute: object, value: object) -> None:
    if (value is None) != (instance.index_root is None):
        raise BadInput("checkpoint platform index: a version goes with an index, and only "
                       "with one")
    if value is not None and (type(value) is not int or value not in INDEX_VERSIONS):
        raise BadInput(f"checkpoint index version {value!r} is not one this release knows "
                       f"({', '.join(map(str, INDEX_VERSIONS))}): upgrade blockledger")


@frozen
class Signature:
    """One signature line of a signed note, parsed but not verified."""

    key_name: str
    key_id: bytes
    #: The signature proper: 64 bytes for Ed25519. Other key types may differ in length.
    signature: bytes

    def line(self) -> str:
        """The signature line: ``— <key name> <base64(key ID || signature)>`` and newline."""
        encoded = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.key_name} {encoded}\n"


@frozen
class Checkpoint:
    """The head of the ledger's Merkle tree and hash chain at one size, at one time."""

    #: Names the ledger: the first line, and the default key name.
    origin: str = attrs.field(validator=_check_origin)
    tree_size: int = attrs.field(validator=_check_tree_size)
    root_hash: bytes = attrs.field(validator=_check_hash)
    chain_head: bytes = attrs.field(validator=_check_hash)
    #: RFC 3339, UTC (``Z``), as ``utc_now`` gives it.
    time: str = attrs.field(validator=_check_time)
    #: The platform index (``ledger.platform_index``): its number of leaves and its root;
    #: both None in a note written before the index existed.
    index_size: int | None = attrs.field(default=None, validator=_check_index_size)
    index_root: bytes | None = attrs.field(default=None, validator=_check_index_root)
    #: Which leaves the index holds (see the module): 1, platforms only; 2, orders and
    #: requests too; 3, and the ledger's settings.
    index_version: int | None = attrs.field(
        default=attrs.Factory(_default_index_version, takes_self=True),
        validator=_check_index_version)

    def body(self) -> bytes:
        """The note text: the bytes a signature covers, final newline included."""
        index = ""
        if self.index_root is not None:
            name = "platforms" if self.index_version == 1 else f"index {self.index_version}"
            index = f"{name} {self.index_size} {encode_hash(self.index_root)}\n"
        return (f"{self.origin}\n{self.tree_size}\n{encode_hash(self.root_hash)}\n"
                f"chain {self.chain_head.hex()}\ntime {self.time}\n{index}").encode()

    def to_note(self, private_key: Ed25519PrivateKey | None = None,
                key_name: str | None = None) -> str:
        """The checkpoint as a signed note, signed with ``private_key`` if one is given.

        ``key_name`` defaults to the origin, as tlog-checkpoint recommends. Without a key
        the note ends at the blank line, with no signature lines.
        """
        body = self.body()
        note = body.decode("utf-8") + "\n"
        if private_key is None:
            return note
        name = self.origin if key_name is None else key_name
        _check_key_name(name)
        signature = Signature(name, key_id(name, private_key.public_key()),
                              private_key.sign(body))
        return note + signature.line()

    @classmethod
    def parse(cls, text: NoteInput) -> tuple[Checkpoint, list[Signature]]:
        """The checkpoint and the (unverified) signatures in a note.

        Raises ``BadInput`` with a one-line message on anything but the exact form
        ``to_note`` writes, with any number of signature lines.
        """
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise _bad("not valid UTF-8") from None
        if not isinstance(text, str):
            raise _bad(f"expected note text, got {type(text).__name__}")
        if not text:
            raise _bad("empty")
        control = _CONTROL.search(text)
        if control:
            raise _bad(f"contains the control character U+{ord(control.group()):04X}")
        if not text.endswith("\n"):
            raise _bad("does not end with a newline")
        # signed-note: the text ends at the last blank line; signatures follow it.
        blank = text.rfind("\n\n")
        if blank < 0:
            raise _bad("no blank line after the checkpoint text")
        body, signature_text = text[: blank + 1], text[blank + 2 :]
        signature_lines = signature_text[:-1].split("\n") if signature_text else []
        if len(signature_lines) > MAX_SIGNATURES:
            raise _bad(f"more than {MAX_SIGNATURES} signatures")
        signatures = [_parse_signature(line, number)
                      for number, line in enumerate(signature_lines, start=1)]
        checkpoint = cls._parse_body(body)
        if checkpoint.body() != body.encode("utf-8"):
            # Every field is parsed strictly, so this cannot happen; if it ever did, a
            # signature checked over body() would not be over the text that was read.
            raise _bad("text is not in canonical form")
        return checkpoint, signatures

    @classmethod
    def _parse_body(cls, body: str) -> Checkpoint:
        lines = body[:-1].split("\n")
        if "" in lines[1:]:
            # The text ends at the last blank line, so a stray one (say, after the
            # signatures) pulls what follows it into the text.
            raise _bad("an empty line inside the text; only the one before the signatures "
                       "may be blank")
        if len(lines) not in (5, 6):
            raise _bad(f"expected 5 or 6 lines of text (origin, tree size, root hash, chain, "
                       f"time, platforms), found {len(lines)}")
        origin, size_text, root_text, chain_line, time_line = lines[:5]
        if not origin:
            raise _bad("the origin line is empty")
        if not _TREE_SIZE.fullmatch(size_text):
            raise _bad(f"tree size {_short(size_text)} is not a decimal number without "
                       "leading zeros")
        root = _b64decode(root_text)
        if root is None or len(root) != HASH_SIZE:
            raise _bad(f"root hash {_short(root_text)} is not a base64 {HASH_SIZE}-byte hash")
        chain_hex = chain_line.removeprefix("chain ")
        if chain_hex == chain_line or not _CHAIN_HEX.fullmatch(chain_hex):
            raise _bad(f"line 4 {_short(chain_line)} is not 'chain' and 64 lowercase hex "
                       "digits")
        time = time_line.removeprefix("time ")
        if time == time_line:
            raise _bad(f"line 5 {_short(time_line)} is not 'time' and an RFC 3339 UTC time")
        index_size = index_root = index_version = None
        if len(lines) == 6:
            index_version, index_size, index_root = _parse_index(lines[5])
        # The validators check the rest (size range, calendar) with their own messages.
        return cls(origin, int(size_text), root, bytes.fromhex(chain_hex), time, index_size,
                   index_root, index_version)


def _parse_index(line: str) -> tuple[int, int, bytes]:
    """``(version, size, root)`` of the index extension line: ``platforms <size> <root>``
    (version 1) or ``index <version> <size> <root>`` (version 2 on)."""
    fields = line.split(" ")
    if fields[0] == "platforms" and len(fields) == 3:
        version, fields = 1, fields[1:]
    elif (fields[0] == "index" and len(fields) == 4 and _TREE_SIZE.fullmatch(fields[1])
          and fields[1] != "1"):  # version 1 has its own spelling, and only that one
        version, fields = int(fields[1]), fields[2:]
        if version not in INDEX_VERSIONS:
            raise _bad(f"index version {version} is not one this release knows "
                       f"({', '.join(map(str, INDEX_VERSIONS))}): upgrade blockledger")
    else:
        raise _bad(f"line 6 {_short(line)} is not 'platforms' or 'index' and a version, "
                   "an index size and its root")
    if not _TREE_SIZE.fullmatch(fields[0]):
        raise _bad(f"line 6 {_short(line)}: the index size is not a decimal number without "
                   "leading zeros")
    root = _b64decode(fields[1])
    if root is None or len(root) != HASH_SIZE:
        raise _bad(f"platform index root {_short(fields[1])} is not a base64 "
                   f"{HASH_SIZE}-byte hash")
    return version, int(fields[0]), root


def _parse_signature(line: str, number: int) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise _bad(f"signature line {number} does not start with an em dash and a space")
    fields = line[len(SIGNATURE_PREFIX) :].split(" ")
    if len(fields) != 2:
        raise _bad(f"signature line {number} is not '\u2014 <key name> <base64 signature>'")
    name, encoded = fields
    try:
        _check_key_name(name)
    except BadInput as exc:
        raise _bad(f"signature line {number}: {exc.message}") from None
    raw = _b64decode(encoded)
    if raw is None:
        raise _bad(f"signature line {number}: the signature is not standard base64")
    if len(raw) < 5:
        raise _bad(f"signature line {number}: too short for a key ID and a signature")
    return Signature(name, raw[:4], raw[4:])


def verify_signature(note: NoteInput | tuple[Checkpoint, Sequence[Signature]],
                     public_key: Ed25519PublicKey, key_name: str | None = None) -> bool:
    """Whether ``note`` carries a valid Ed25519 signature by ``public_key`` as ``key_name``.

    ``note`` is the note text or what ``Checkpoint.parse`` returned; text that does not
    parse, or a ``key_name`` no signature could carry, raises ``BadInput``. ``key_name``
    defaults to the checkpoint's origin. As signed-note asks, lines from other keys
    (another name or key ID) are ignored, and a line from this key that fails to verify
    makes the whole note fail.
    """
    if isinstance(note, tuple):
        checkpoint, signatures = note
    else:
        checkpoint, signatures = Checkpoint.parse(note)
    name = checkpoint.origin if key_name is None else key_name
    _check_key_name(name)
    wanted = key_id(name, public_key)
    ours = [s for s in signatures if s.key_name == name and s.key_id == wanted]
    if not ours:
        return False
    body = checkpoint.body()
    for signature in ours:
        try:
            public_key.verify(signature.signature, body)
        except InvalidSignature:
            return False
    return True
