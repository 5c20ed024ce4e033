"""A registry snapshot's encoding (``sources.snapshots._encoding``), decided a chunk at a
time with two shortcuts (the whole file decoded incrementally; a line beyond ASCII with no
UTF-8 continuation byte is not UTF-8), held to the rule it implements, written here as
plainly as it reads: UTF-8 if the whole decodes so; else refused naming the first line
beyond ASCII that is UTF-8 (mixed); else Windows-1251 if the whole decodes so; else
refused naming the byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import BadInput
from sources import snapshots

#: Pieces a line is made of: ASCII, Cyrillic as Windows-1251 and as UTF-8, the one byte
#: Windows-1251 leaves undefined, a lone continuation byte, Ё and № in Windows-1251 (which
#: are continuation bytes in UTF-8), a multi-byte sequence cut in two.
PIECES = [b"abc", b"1.2.3.4;", "Генпрокуратура".encode("cp1251"),
          "Генпрокуратура".encode(), b"\x98", b"\x80", "Ёё№".encode("cp1251"),
          "д".encode()[:1], b";", b" "]


def _rule(raw: bytes) -> str:
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    for number, piece in enumerate(raw.split(b"\n"), start=1):
        if not piece.isascii():
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError:
                continue
            return f"mixed at line {number}"
    try:
        raw.decode("cp1251")
        return "windows-1251"
    except UnicodeDecodeError as bad:
        return f"neither: byte {bad.start + 1}"


def _said(raw: bytes) -> str:
    try:
        return snapshots._encoding(raw, Path("d.csv"))
    except BadInput as error:
        if "mixed" in error.message:
            return f"mixed at line {error.message.split('line ')[1].split(':')[0]}"
        return f"neither: byte {error.message.split('at byte ')[1].rstrip(')')}"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=6).map(b"".join), max_size=8),
       st.integers(1, 64))
def test_the_encoding_is_the_rule(lines, chunk):
    raw = b"\n".join(lines)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snapshots, "_CHUNK", chunk)  # sequences cut at chunks' ends
        assert _said(raw) == _rule(raw)


def test_windows_1251_without_continuation_bytes_is_not_utf8():
    raw = "Updated: x\n1.2.3.4;пример.ru;;Генпрокуратура;N;2020-01-01\n".encode("cp1251")
    assert snapshots._encoding(raw, Path("d.csv")) == "windows-1251"
    raw = ("a\n" + "Ё".join(["Генпрокуратура"] * 2) + "\n").encode("utf-8")
    assert snapshots._encoding(raw, Path("d.csv")) == "utf-8"
