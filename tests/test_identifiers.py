"""Look-alike identifiers: a target or an operator's name that displays as another is refused.

The review found ``t.me\\u200b`` (a zero-width space) and ``telegram.m\\u0435`` (a Cyrillic e)
accepted as targets, shown as ``t.me`` and ``telegram.me``, and zero-width and bidi marks
accepted in operator names. Targets now have one stored spelling each (domain names as
lower-case IDNA 2008 A-labels, IP addresses as ``ipaddress`` writes them, app ids as
``app:android:PACKAGE`` and ``app:ios:idDIGITS``), and an identifier holds no invisible
character, no compatibility look-alike and no letters of scripts that do not mix.
"""

from __future__ import annotations

import json
import unicodedata

import attrs
import idna
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from domain.declaration import REGISTRY
from domain.errors import BadInput
from domain.fact import Fact
from domain.identifiers import check_target, clean_target, displayed
from domain.values import check_identifier, check_text
from ledger.application import open_ledger
from ledger.storage import parse_target
from tests.clitools import count, one_line_error, run, run_json
from tests.facts import blocked, correction, registered

SOURCE = "https://example.org/notice"


def register(runner, db, *targets: str, operator: str | None = None):
    """``record platform-registered telegram`` with ``targets``, values given as --opt=VALUE."""
    who = [f"--operator={operator}"] if operator is not None else []
    return run(runner, db, *who, "record", "platform-registered", "--at=2017-01-01",
               f"--source={SOURCE}", "--name=Telegram",
               *(f"--target={t}" for t in targets), "--", "telegram")


# --- the review's reproductions ----------------------------------------------------------


@pytest.mark.parametrize("target, says", [
    ("t.me\u200b", "U+200B ZERO WIDTH SPACE"),
    ("telegram.m\u0435", "mixes Latin and Cyrillic letters"),
    ("\ufefft.me", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("t\u200d.me", "U+200D ZERO WIDTH JOINER"),
    ("t.me\u200f", "U+200F RIGHT-TO-LEFT MARK"),
    ("\uff54.me", "FULLWIDTH LATIN SMALL LETTER T"),
    ("t\u3002me", "a full stop other than '.'"),
    ("xn--m-jtb.telegram.org", "mixes Latin and Cyrillic letters"),  # the A-label of m\u0435
])
def test_a_look_alike_target_is_refused_naming_it(runner, sqlite_path, target, says):
    """Each was accepted and displayed as the target it imitates; now exit 2, one line that
    quotes the input (escaped) and names the field and the character, nothing written."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    error = one_line_error(register(runner, sqlite_path, "web.telegram.org", target), 2)
    assert "--target" in error and says in error
    assert repr(target) in error  # as typed, invisible characters escaped
    assert count(sqlite_path) == 0


def test_a_look_alike_target_is_refused_on_import_too(runner, sqlite_path):
    line = {"type": "platform-registered", "subject": "telegram", "occurred_at": "2017-01-01",
            "sources": [{"url": SOURCE}],
            "data": {"name": "Telegram", "targets": ["t.me", "telegram.m\u0435"]}}
    result = run(runner, sqlite_path, "import", "-", input=json.dumps(line))
    error = one_line_error(result, 2)
    assert "line 1, field 'data.targets[1]'" in error and "Cyrillic" in error
    assert count(sqlite_path) == 0


@pytest.mark.parametrize("name, says", [
    ("alice\u200b", "U+200B ZERO WIDTH SPACE"),
    ("ali\u200fce", "U+200F RIGHT-TO-LEFT MARK"),
    ("\u200ealice", "U+200E LEFT-TO-RIGHT MARK"),
    ("alice\u2066", "bidirectional control character U+2066"),
    ("\u0430lice", "mixes Cyrillic and Latin letters"),  # a Cyrillic a
    ("alice\u00a0b", "U+00A0 NO-BREAK SPACE"),
    ("\u3164", "U+3164 HANGUL FILLER"),
])
def test_a_look_alike_operator_name_is_refused(runner, sqlite_path, name, says):
    """``--operator`` names who records (``recorded_by``): a name that displays as another
    one is refused before anything is written."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    error = one_line_error(register(runner, sqlite_path, "t.me", operator=name), 2)
    assert "--operator" in error and says in error
    assert count(sqlite_path) == 0


@pytest.mark.parametrize("name", ["alice", "Алиса", "Ελένη", "山田 たろう", "김철수", "José Ruiz",
                                  "O'Brien-Smith (Kominfo)"])
def test_an_operator_name_in_one_script_is_fine(runner, sqlite_path, name):
    assert run(runner, sqlite_path, "init").exit_code == 0
    assert register(runner, sqlite_path, "t.me", operator=name).exit_code == 0
    exported = json.loads(run(runner, sqlite_path, "export").stdout)
    assert exported["recorded_by"] == name


# --- one spelling per target --------------------------------------------------------------


@pytest.mark.parametrize("typed, stored", [
    ("t.me", "t.me"), ("T.ME.", "t.me"), ("  web.telegram.org ", "web.telegram.org"),
    ("Bücher.example", "xn--bcher-kva.example"), ("xn--BCHER-KVA.example", "xn--bcher-kva.example"),
    ("ß.de", "xn--zca.de"),  # IDNA 2008: ß is a letter of its own (IDNA 2003 made it ss)
    ("пример.рф", "xn--e1afmkfd.xn--p1ai"), ("пример.com", "xn--e1afmkfd.com"),
    ("ドメイン名例.jp", "xn--eckwd4c7cu47r2wf.jp"),
    ("org.telegram.messenger", "org.telegram.messenger"),  # a bare name is a domain name
    ("ph.telegra.Telegraph", "ph.telegra.telegraph"),
    ("192.0.2.1", "192.0.2.1"), ("192.0.2.1/32", "192.0.2.1"), ("192.0.2.0/24", "192.0.2.0/24"),
    ("2001:DB8:0:0::1", "2001:db8::1"), ("2001:db8:0::/32", "2001:db8::/32"),
    ("app:android:org.telegram.messenger", "app:android:org.telegram.messenger"),
    ("APP:Android:org.Telegram.Messenger", "app:android:org.Telegram.Messenger"),
    ("app:ios:id686449807", "app:ios:id686449807"), ("app:ios:686449807", "app:ios:id686449807"),
    ("App:iOS:ID686449807", "app:ios:id686449807"),
])
def test_a_target_is_stored_in_one_spelling(typed, stored):
    assert check_target(typed, "data.targets[0]") == stored
    assert check_target(stored, "data.targets[0]") == stored


def test_a_name_that_needs_a_joiner_is_given_as_its_a_label():
    """IDNA 2008 allows a zero-width non-joiner in Persian (mi\u200ckhaham, "I want"): typed, it is
    refused like any invisible character, with the way out; as its A-label it is fine."""
    typed = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.ir"
    with pytest.raises(BadInput) as caught:
        check_target(typed, "data.target")
    assert "given as its A-label" in caught.value.message
    a_label = idna.encode(typed).decode()
    assert check_target(a_label, "data.target") == a_label == "xn--mgbn2ecje63gr19l.ir"


@pytest.mark.parametrize("typed, says", [
    ("", "must not be empty"), ("a..b", "empty label"), (".t.me", "empty label"),
    ("my_host.example", "U+005F"), ("*.telegram.org", "U+002A"), ("-t.me", "hyphen"),
    ("x" * 64 + ".com", "Label too long"), (".".join(["abcdefghi"] * 26), "longer than 253"),
    (".".join(["a" * 63] * 4), "longer than 253"),
    ("192.000.002.001", "not an IP address"), ("1.2.3.256", "not an IP address"),
    ("192.0.2.1/24", "did you mean 192.0.2.0/24?"), ("fe80::1%eth0", "link-local"),
    ("https://t.me/durov", "is a URL"), ("app:android:telegram", "not an Android app id"),
    ("app:ios:ph.telegra.Telegraph", "not an iOS app id"), ("app:web:t.me", "names no app store"),
    ("\U0001f4a9.la", "IDNA 2008 refuses it"), ("t.me\"; --", "IDNA 2008 refuses it"),
])
def test_what_is_no_target_is_refused_saying_why(typed, says):
    with pytest.raises(BadInput) as caught:
        check_target(typed, "data.target")
    assert caught.value.field == "data.target" and says in caught.value.message
    assert "\n" not in str(caught.value)


def test_a_registered_target_is_named_in_its_stored_spelling(runner, sqlite_path):
    """Typed in any case, with a trailing dot or in Unicode, a target is the same one: an
    order naming it as typed another way blocks the registered one."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    assert register(runner, sqlite_path, "T.me.", "Bücher.example",
                    "app:ios:686449807").exit_code == 0
    result = run(runner, sqlite_path, "record", "blocked", "--at=2017-07-14",
                 f"--source={SOURCE}", "--platform=telegram", "--authority=Kominfo",
                 "--reason=terrorism", "--target=t.me", "--target=xn--bcher-kva.example.",
                 "--", "kominfo-1")
    assert result.exit_code == 0, result.output
    status = run_json(runner, sqlite_path, "status", "telegram")
    assert sorted(status["blocked_targets"]) == ["t.me", "xn--bcher-kva.example"]
    assert status["state"] == "partially-blocked"  # the iOS app is not blocked


def test_a_correction_stores_targets_in_their_spelling():
    """A correction's ``set`` is stored as given and loaded as stored: its targets are
    written in their stored spelling before it is, so replay gives what was checked."""
    fixed = correction("telegram", target=registered().id, set={"targets": ["T.ME", "Bücher.de"]},
                       reason="typo")
    assert fixed.data.set.as_dict()["targets"] == ["t.me", "xn--bcher-kva.de"]
    with pytest.raises(BadInput) as caught:
        correction("telegram", target=registered().id, set={"targets": ["t.me\u200b"]},
                   reason="typo")
    assert caught.value.field == "data.set.targets[0]"


def test_an_observed_target_is_one_target_too():
    observed = REGISTRY["access-observed"].parse({"target": "T.ME", "accessible": False})
    assert observed.target == "t.me"
    with pytest.raises(BadInput) as caught:
        REGISTRY["access-observed"].parse({"target": "t.m\u0435", "accessible": False})
    assert caught.value.field == "data.target"


# --- ledgers written before these rules -------------------------------------------------


def test_a_stored_target_is_read_as_it_was_written(runner, sqlite_path):
    """Only new input is checked: a target a ledger stored before these rules (here one
    they refuse, put in past the parser) is read, shown and exported as it was written."""
    legacy = ("t.me", "telegram.m\u0435", "ph.telegra.Telegraph")
    fact = registered(targets=["t.me"])
    fact = fact.evolve(data=attrs.evolve(fact.data, targets=legacy))
    with open_ledger(parse_target(sqlite_path), create=True) as ledger:
        ledger.record([fact], operator="legacy")
    status = run_json(runner, sqlite_path, "status", "telegram")
    assert status["state"] == "accessible"
    exported = json.loads(run(runner, sqlite_path, "export").stdout)
    assert exported["data"]["targets"] == list(legacy)
    assert run(runner, sqlite_path, "verify").exit_code == 0
    assert REGISTRY["platform-registered"].load(
        {"name": "T", "targets": list(legacy)}).targets == legacy


@pytest.mark.parametrize("stored, shown", [
    ("t.me", "t.me"), ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("Bücher.example", "Bücher.example"), ("Алиса", "Алиса"),  # not the stored form, no lie
    ("t.me\u200b", "t.me\\u200b"), ("telegram.m\u0435", "telegram.m\\u0435"),
    ("ali\u200fce", "ali\\u200fce"), ("t.me\x1b[2J", "t.me\\x1b[2J"),
])
def test_a_stored_look_alike_is_shown_for_what_it_is(stored, shown):
    """A ledger written before these rules may hold a look-alike: shown escaped, it no
    longer passes for the target it imitates (history's line for an observation too)."""
    assert displayed(stored) == shown
    observed = REGISTRY["access-observed"]
    assert observed.describe(observed.load({"target": stored, "accessible": False})) \
        == f"{shown} observed unreachable"


def test_the_bundled_example_imports_unchanged(runner, sqlite_path, example):
    """The 2017 case lists its apps bare (org.telegram.messenger, ph.telegra.Telegraph):
    valid domain names, kept as such (the second in lower case)."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert count(sqlite_path) == len(example.read_text().splitlines())
    first = json.loads(run(runner, sqlite_path, "export").stdout.splitlines()[0])
    assert first["data"]["targets"][-2:] == ["org.telegram.messenger", "ph.telegra.telegraph"]


# --- properties ---------------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--")
UNICODE_LABEL = st.sampled_from(["bücher", "пример", "例え", "ελλάδα", "münchen", "ドメイン",
                                 "한국", "δοκιμή", "испытание", "مثال"])
DOMAINS = st.builds(lambda labels, tld: ".".join([*labels, tld]),
                    st.lists(LABEL | UNICODE_LABEL, min_size=0, max_size=4),
                    st.sampled_from(["com", "org", "me", "рф", "id", "example", "xn--p1ai"]))
ADDRESSES = st.ip_addresses().map(str)
NETWORKS = st.builds(lambda a, n: str(__import__("ipaddress").ip_network(f"{a}/{n}",
                                                                          strict=False)),
                     st.ip_addresses(v=4), st.integers(0, 32))
APPS = (st.from_regex(r"[a-z][a-z0-9_]{0,8}(\.[A-Za-z][A-Za-z0-9_]{0,8}){1,3}", fullmatch=True)
        .map(lambda p: f"app:android:{p}")
        | st.integers(1, 10**12).map(lambda n: f"app:ios:{n}"))
TYPED = st.one_of(DOMAINS, DOMAINS.map(str.upper), DOMAINS.map(lambda d: d + "."), ADDRESSES,
                  NETWORKS, APPS, st.text(max_size=30))


@given(TYPED)
@example("Bücher.example")
@example("t.me\u200b")
def test_normalization_is_idempotent(typed):
    """A stored spelling is its own stored spelling, and the hot path agrees with the check."""
    stored = clean_target(typed)
    try:
        checked = check_target(typed, "data.target")
    except BadInput:
        assert stored is None
        return
    assert checked == stored
    assert check_target(stored, "data.target") == stored == clean_target(stored)


@given(st.lists(st.one_of(DOMAINS, ADDRESSES, NETWORKS, APPS), min_size=1, max_size=5))
def test_an_accepted_target_round_trips(typed):
    """Import, export and re-import, and reading back from the store, keep every target."""
    fact = registered(targets=typed)
    stored = fact.data.targets
    assert len(stored) == len(set(stored)) <= len(typed)
    again = Fact.from_json(json.loads(json.dumps(fact.to_json())))
    assert again == fact
    assert Fact.from_stored(fact.to_json()).data.targets == stored
    for target in stored:
        assert target.isascii() and target == target.strip()
        if not target.startswith("app:") and ":" not in target and "/" not in target:
            assert idna.encode(idna.decode(target)).decode() == target


CF = st.characters(categories=["Cf"])


@given(st.text(max_size=20), CF, st.text(max_size=20))
@example("t.me", "\u200b", "")
@example("alice", "\u200f", "")
def test_anything_with_a_format_character_is_refused(before, cf, after):
    """A zero-width space, joiner, bidi mark, BOM, tag, or any other Cf character: refused
    in a target, in an operator's name, in any identifier, wherever it stands."""
    typed = before + cf + after
    assume(cf in typed.strip())
    with pytest.raises(BadInput):
        check_target(typed, "data.target")
    assert clean_target(typed) is None
    with pytest.raises(BadInput):
        check_identifier(typed, "operator")
    with pytest.raises(BadInput):
        check_text(typed, "operator")


LATIN = st.characters(categories=["Ll", "Lu"], max_codepoint=0x24F).filter(
    lambda c: unicodedata.name(c, "").startswith("LATIN") and unicodedata.normalize("NFKC", c) == c)
CYRILLIC = st.characters(min_codepoint=0x410, max_codepoint=0x44F)


@given(st.lists(LATIN, min_size=1, max_size=8), st.lists(CYRILLIC, min_size=1, max_size=8),
       st.randoms(use_true_random=False))
def test_latin_and_cyrillic_in_one_name_are_refused(latin, cyrillic, rng):
    letters = latin + cyrillic
    rng.shuffle(letters)
    name = "".join(letters)
    with pytest.raises(BadInput) as caught:
        check_identifier(name, "operator")
    assert "mixes" in caught.value.message
    assert clean_target(name + ".example") is None


@given(st.lists(CYRILLIC, min_size=1, max_size=20))
def test_one_script_other_than_latin_is_fine(letters):
    name = "".join(letters)
    assert check_identifier(name, "operator") == unicodedata.normalize("NFC", name)
    assert check_target(name.lower() + ".рф", "data.target").startswith("xn--")


def test_free_text_keeps_any_script_and_joiners_but_no_bidi_controls():
    """A summary may quote Persian with a zero-width non-joiner, or mix scripts; bidi
    embedding, override and isolate characters stay refused everywhere (they make a line
    display as another one)."""
    persian = "می\u200cخواهم — Telegram и Роскомнадзор"
    assert check_text(persian, "data.summary") == persian
    assert check_text("\u200fTelegram", "data.name") == "\u200fTelegram"
    for bidi in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        with pytest.raises(BadInput):
            check_text(f"Tele{bidi}gram", "data.summary")


def test_blocked_orders_use_the_same_targets():
    """``blocked`` and ``unblocked`` take targets as ``platform-registered`` does."""
    order = blocked(targets=["T.ME", "Web.Telegram.Org."])
    assert order.data.targets == ("t.me", "web.telegram.org")
    with pytest.raises(BadInput) as caught:
        blocked(targets=["t.me", "t.me\u2060"])
    assert caught.value.field == "data.targets[1]"
