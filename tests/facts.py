"""Builders of domain ``Fact``s for tests, one per event type, and ``given`` for aggregates.

Every builder goes through ``Fact.from_json`` (so the facts are validated exactly as imported
ones are), always with a source, and with defaults close to the 2017 Telegram case. The
first argument is the subject's reference; ``at`` is ``occurred_at``; ``id`` (a string or
UUID) is optional, without it the fact gets its content-derived id. Any data field can be
overridden by keyword.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from domain.fact import Fact
from domain.subjects import AGGREGATES, Subject
from domain.values import When

#: The fixed "now" of every test: the ledger refuses events after it.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

PLATFORM = "telegram"
ORDER = "kominfo-1"
REQUEST = "telegram-id"
TARGETS = ("t.me", "web.telegram.org", "org.telegram.messenger")
SOURCE = {"url": "https://example.org/kominfo/press-release", "title": "Kominfo press release"}


def instant(text: str) -> datetime:
    """The UTC instant a valid time orders at (a bare date: the start of that day)."""
    return When.parse(text).instant


def fact(type: str, subject: str, *, at: str, data: dict[str, Any],
         id: str | uuid.UUID | None = None, sources: list[Any] | None = None,
         note: str | None = None) -> Fact:
    """Any fact, from its interchange form; ``None`` data values are left out."""
    obj: dict[str, Any] = {
        "type": type,
        "subject": subject,
        "occurred_at": at,
        "sources": [SOURCE] if sources is None else sources,
        "data": {k: v for k, v in data.items() if v is not None},
    }
    if id is not None:
        obj["id"] = str(id)
    if note is not None:
        obj["note"] = note
    return Fact.from_json(obj)


def _envelope(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Split the envelope keywords (id, sources, note) from data overrides."""
    return {k: kwargs.pop(k) for k in ("id", "sources", "note") if k in kwargs}


# --- platform -----------------------------------------------------------------------------


def registered(subject: str = PLATFORM, *, targets: list[str] | tuple[str, ...] = TARGETS,
               at: str = "2017-01-01", name: str = "Telegram",
               company: str | None = "Telegram Messenger LLP", **kw: Any) -> Fact:
    """platform-registered."""
    env = _envelope(kw)
    return fact("platform-registered", subject, at=at, **env,
                data={"name": name, "company": company, "targets": list(targets), **kw})


def email(subject: str = PLATFORM, *, at: str = "2017-03-01", sender: str = "Kominfo",
          recipient: str = "abuse@telegram.org",
          summary: str = "please remove terrorist channels", **kw: Any) -> Fact:
    """email-sent."""
    env = _envelope(kw)
    return fact("email-sent", subject, at=at, **env,
                data={"sender": sender, "recipient": recipient, "summary": summary, **kw})


def response(subject: str = PLATFORM, *, at: str = "2017-03-05", sender: str = "Telegram",
             summary: str = "we are looking into it", **kw: Any) -> Fact:
    """response-received."""
    env = _envelope(kw)
    return fact("response-received", subject, at=at, **env,
                data={"sender": sender, "summary": summary, **kw})


def no_response(subject: str = PLATFORM, *, at: str = "2017-03-15",
                regarding: str | uuid.UUID | None = None,
                summary: str | None = "the email went unanswered", **kw: Any) -> Fact:
    """no-response (``regarding`` the id of an email-sent)."""
    env = _envelope(kw)
    return fact("no-response", subject, at=at, **env,
                data={"regarding": None if regarding is None else str(regarding),
                      "summary": summary, **kw})


def statement(subject: str = PLATFORM, *, at: str = "2017-07-16", by: str = "Pavel Durov",
              summary: str = "we were not aware of the requests", medium: str | None = "Twitter",
              **kw: Any) -> Fact:
    """statement-issued."""
    env = _envelope(kw)
    return fact("statement-issued", subject, at=at, **env,
                data={"by": by, "summary": summary, "medium": medium, **kw})


# --- block order --------------------------------------------------------------------------


def blocked(subject: str = ORDER, *, platform: str = PLATFORM,
            targets: list[str] | tuple[str, ...] = ("t.me", "web.telegram.org"),
            at: str = "2017-07-14", authority: str = "Kominfo",
            reasons: list[str] | tuple[str, ...] = ("terrorism",), **kw: Any) -> Fact:
    """blocked."""
    env = _envelope(kw)
    return fact("blocked", subject, at=at, **env,
                data={"platform": platform, "authority": authority, "targets": list(targets),
                      "reasons": list(reasons), **kw})


def unblocked(subject: str = ORDER, *, targets: list[str] | tuple[str, ...] = (),
              at: str = "2017-08-10", until: str | None = None, **kw: Any) -> Fact:
    """unblocked (no targets: every target still held; ``until``: a temporary lift)."""
    env = _envelope(kw)
    return fact("unblocked", subject, at=at, **env,
                data={"targets": list(targets) or None, "until": until, **kw})


def observed(subject: str = ORDER, *, target: str = "t.me", accessible: bool = False,
             at: str = "2017-07-15", network: str | None = "Telkomsel", **kw: Any) -> Fact:
    """access-observed."""
    env = _envelope(kw)
    return fact("access-observed", subject, at=at, **env,
                data={"target": target, "accessible": accessible, "network": network, **kw})


def targets_added(subject: str = PLATFORM, *, targets: list[str] | tuple[str, ...] = (
        "telegram.me",), at: str = "2018-01-01", **kw: Any) -> Fact:
    """targets-added."""
    env = _envelope(kw)
    return fact("targets-added", subject, at=at, **env, data={"targets": list(targets), **kw})


def targets_removed(subject: str = PLATFORM, *, targets: list[str] | tuple[str, ...] = (
        "t.me",), at: str = "2019-01-01", **kw: Any) -> Fact:
    """targets-removed."""
    env = _envelope(kw)
    return fact("targets-removed", subject, at=at, **env,
                data={"targets": list(targets), **kw})


PENALTY_ID = "77777777-7777-4777-8777-777777777777"


def penalty_imposed(subject: str = PLATFORM, *, at: str = "2017-07-20",
                    authority: str = "Kominfo", amount: str = "1000000", currency: str = "IDR",
                    per: str = "day", reason: str = "channels not removed",
                    id: str = PENALTY_ID, **kw: Any) -> Fact:
    """penalty-imposed (with the id ``PENALTY_ID`` unless given another)."""
    env = _envelope(kw)
    return fact("penalty-imposed", subject, at=at, id=id, **env,
                data={"authority": authority, "amount": amount, "currency": currency,
                      "per": per, "reason": reason, **kw})


def penalty_paid(subject: str = PLATFORM, *, at: str = "2017-07-30",
                 penalty: str = PENALTY_ID, amount: str = "10000000", **kw: Any) -> Fact:
    """penalty-paid."""
    env = _envelope(kw)
    return fact("penalty-paid", subject, at=at, **env,
                data={"penalty": penalty, "amount": amount, **kw})


def penalty_lifted(subject: str = PLATFORM, *, at: str = "2017-07-30",
                   penalty: str = PENALTY_ID, by: str = "Kominfo", **kw: Any) -> Fact:
    """penalty-lifted."""
    env = _envelope(kw)
    return fact("penalty-lifted", subject, at=at, **env,
                data={"penalty": penalty, "by": by, **kw})


def appeal(subject: str = ORDER, *, at: str = "2017-07-20", court: str = "PTUN Jakarta",
           by: str = "Telegram", **kw: Any) -> Fact:
    """appeal-filed."""
    env = _envelope(kw)
    return fact("appeal-filed", subject, at=at, **env, data={"court": court, "by": by, **kw})


def ruling(subject: str = ORDER, *, at: str = "2017-08-01", court: str = "PTUN Jakarta",
           outcome: str = "upheld", summary: str = "the order stands",
           effective_at: str | None = None, **kw: Any) -> Fact:
    """ruling."""
    env = _envelope(kw)
    return fact("ruling", subject, at=at, **env,
                data={"court": court, "outcome": outcome, "summary": summary,
                      "effective_at": effective_at, **kw})


# --- normalization request ----------------------------------------------------------------


def requested(subject: str = REQUEST, *, platform: str = PLATFORM,
              orders: list[str] | tuple[str, ...] = (ORDER,), at: str = "2017-07-20",
              requested_by: str = "Telegram", **kw: Any) -> Fact:
    """normalization-requested."""
    env = _envelope(kw)
    return fact("normalization-requested", subject, at=at, **env,
                data={"platform": platform, "orders": list(orders),
                      "requested_by": requested_by, **kw})


def condition_set(subject: str = REQUEST, *, condition: str = "trusted-flagger",
                  at: str = "2017-07-25", detail: str | None = None, **kw: Any) -> Fact:
    """condition-set."""
    env = _envelope(kw)
    return fact("condition-set", subject, at=at, **env,
                data={"condition": condition, "detail": detail, **kw})


def meeting(subject: str = REQUEST, *, kind: str = "ceo",
            attendees: list[str] | tuple[str, ...] = ("Rudiantara", "Pavel Durov"),
            at: str = "2017-08-01", location: str | None = "Jakarta", **kw: Any) -> Fact:
    """meeting-held."""
    env = _envelope(kw)
    return fact("meeting-held", subject, at=at, **env,
                data={"kind": kind, "attendees": list(attendees), "location": location, **kw})


def commitment(subject: str = REQUEST, *, condition: str = "trusted-flagger",
               by: str = "Telegram", at: str = "2017-08-01", **kw: Any) -> Fact:
    """commitment-made."""
    env = _envelope(kw)
    return fact("commitment-made", subject, at=at, **env,
                data={"by": by, "condition": condition, **kw})


def sop_agreed(subject: str = REQUEST, *, at: str = "2017-08-05",
               summary: str = "takedown of terrorist content within 24 hours", **kw: Any) -> Fact:
    """sop-agreed."""
    env = _envelope(kw)
    return fact("sop-agreed", subject, at=at, **env, data={"summary": summary, **kw})


def condition_met(subject: str = REQUEST, *, condition: str = "trusted-flagger",
                  at: str = "2017-08-08", **kw: Any) -> Fact:
    """condition-met."""
    env = _envelope(kw)
    return fact("condition-met", subject, at=at, **env, data={"condition": condition, **kw})


def condition_waived(subject: str = REQUEST, *, condition: str = "trusted-flagger",
                     at: str = "2017-08-08", reason: str = "no longer needed",
                     **kw: Any) -> Fact:
    """condition-waived."""
    env = _envelope(kw)
    return fact("condition-waived", subject, at=at, **env,
                data={"condition": condition, "reason": reason, **kw})


def granted(subject: str = REQUEST, *, at: str = "2017-08-10",
            summary: str | None = "the block is lifted", **kw: Any) -> Fact:
    """normalization-granted."""
    env = _envelope(kw)
    return fact("normalization-granted", subject, at=at, **env,
                data={"summary": summary, **kw})


def denied(subject: str = REQUEST, *, at: str = "2017-08-10",
           reason: str = "conditions not met", **kw: Any) -> Fact:
    """normalization-denied."""
    env = _envelope(kw)
    return fact("normalization-denied", subject, at=at, **env, data={"reason": reason, **kw})


# --- amendments ---------------------------------------------------------------------------


def correction(subject: str, *, target: str | uuid.UUID, set: dict[str, Any],
               at: str = "2017-09-01", reason: str = "the date was wrong", **kw: Any) -> Fact:
    """correction of ``target`` (an event id of ``subject``)."""
    env = _envelope(kw)
    return fact("correction", subject, at=at, **env,
                data={"target": str(target), "set": set, "reason": reason, **kw})


def retraction(subject: str, *, target: str | uuid.UUID, at: str = "2017-09-01",
               reason: str = "recorded by mistake", **kw: Any) -> Fact:
    """retraction of ``target``."""
    env = _envelope(kw)
    return fact("retraction", subject, at=at, **env,
                data={"target": str(target), "reason": reason, **kw})


def dispute(subject: str, *, target: str | uuid.UUID, at: str = "2017-09-01",
            claim: str = "the ISPs only acted a week later", **kw: Any) -> Fact:
    """dispute of ``target``."""
    env = _envelope(kw)
    return fact("dispute", subject, at=at, **env,
                data={"target": str(target), "claim": claim, **kw})


# --- aggregates ---------------------------------------------------------------------------


# --- operators ----------------------------------------------------------------------------

#: A fixed Ed25519 public key (base64 of 32 raw bytes) for domain tests that sign nothing.
PUBLIC_KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="


def operator_added(subject: str = "alice", *, at: str = "2017-01-01",
                   public_key: str = PUBLIC_KEY, role: str | None = None, **kw: Any) -> Fact:
    env = _envelope(kw)
    return fact("operator-added", subject, at=at,
                data={"public_key": public_key, "role": role, **kw}, **env)


def operator_revoked(subject: str = "alice", *, at: str = "2017-06-01",
                     reason: str | None = "left the ministry", **kw: Any) -> Fact:
    env = _envelope(kw)
    return fact("operator-revoked", subject, at=at, data={"reason": reason, **kw}, **env)


def given(*facts: Fact, now: datetime = NOW) -> Subject:
    """The aggregate opened by the first fact, with the rest recorded in order."""
    first, *rest = facts
    aggregate = AGGREGATES[first.kind.subject].open(first, now)
    for later in rest:
        aggregate.record(later, now)
    return aggregate
