"""A synthetic national-scale block list, in the interchange format.

Many platforms, each registered with a few domain names and an app; orders of 2-10 targets
against them, notices and silences, lifts (partial, temporary), observations, corrections.
Deterministic for a seed, streamed, in valid-time order per subject.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

NS = uuid.UUID("5e1f0c1e-0000-4000-8000-000000000000")
START = date(2015, 1, 1)


def _id(key: str) -> str:
    return str(uuid.uuid5(NS, key))


def _day(n: int) -> str:
    return (START + timedelta(days=n)).isoformat()


def _event(key: str, type_: str, subject: str, day: int, data: dict[str, Any]) -> dict:
    return {"id": _id(key), "type": type_, "subject": subject, "occurred_at": _day(day),
            "sources": [{"url": f"https://gazette.example/{key}",
                         "title": f"Official gazette notice {key}"}],
            "data": data}


def platform_events(p: int, rng: random.Random) -> list[dict]:
    """About 40 events: one platform, its notices, 4 orders and what happened to them."""
    ref = f"platform-{p}"
    domains = [f"s{i}.platform-{p}.example" for i in range(rng.randint(6, 12))]
    targets = [*domains, f"app.platform{p}.android"]
    day = rng.randint(0, 400)
    out = [_event(f"{ref}-reg", "platform-registered", ref, day,
                  {"name": f"Platform {p}", "company": f"Company {p} Ltd", "targets": targets})]
    day += rng.randint(1, 30)
    email = _event(f"{ref}-mail", "email-sent", ref, day,
                   {"sender": "Ministry", "recipient": f"abuse@platform-{p}.example",
                    "summary": "Notice of unlawful content", "deadline": _day(day + 7)})
    out.append(email)
    out.append(_event(f"{ref}-silence", "no-response", ref, day + 8,
                      {"regarding": email["id"], "summary": "No answer by the deadline"}))
    for o in range(4):
        order = f"order-{p}-{o}"
        chosen = rng.sample(domains, rng.randint(2, min(10, len(domains))))
        start = day + 9 + o * rng.randint(5, 40)
        block = _event(f"{order}-block", "blocked", order, start,
                       {"platform": ref, "authority": "Ministry", "targets": chosen,
                        "reasons": ["gambling"], "legal_basis": "Art. 40(2b) ITE Law"})
        out.append(block)
        when = start
        for k in range(rng.randint(3, 6)):
            when += rng.randint(1, 20)
            out.append(_event(f"{order}-obs-{k}", "access-observed", order, when,
                              {"target": rng.choice(chosen), "accessible": rng.random() < 0.2,
                               "network": f"AS{rng.randint(1000, 9999)}"}))
        if rng.random() < 0.3:
            out.append(_event(f"{order}-fix", "correction", order, start,
                              {"target": block["id"], "set": {"occurred_at": _day(start + 1)},
                               "reason": "the gazette gives the next day"}))
        when += rng.randint(1, 30)
        roll = rng.random()
        if roll < 0.3:
            out.append(_event(f"{order}-temp", "unblocked", order, when,
                              {"targets": chosen[:1], "until": _day(when + 10)}))
        elif roll < 0.6:
            out.append(_event(f"{order}-part", "unblocked", order, when,
                              {"targets": chosen[: len(chosen) // 2]}))
        elif roll < 0.8:
            out.append(_event(f"{order}-lift", "unblocked", order, when,
                              {"authority": "Ministry", "summary": "Lifted after compliance"}))
    return out


def events(n: int, seed: int = 2017) -> Iterator[dict]:
    """About ``n`` events (whole platforms), platform after platform."""
    rng = random.Random(seed)
    produced, p = 0, 0
    while produced < n:
        batch = platform_events(p, rng)
        batch = batch[: n - produced]
        # Creating events first, so any prefix of a platform's events is recordable.
        yield from batch
        produced += len(batch)
        p += 1


def _platform_fact(p: int, k: int, day: int) -> dict:
    """The ``k``-th fact of platform ``p`` after its registration: correspondence."""
    ref = f"platform-{p}"
    kind = ("email-sent", "statement-issued", "response-received", "no-response")[k % 4]
    data: dict[str, Any] = {
        "email-sent": {"sender": "Ministry", "recipient": f"abuse@{ref}.example",
                       "summary": f"Notice {k}"},
        "statement-issued": {"by": f"Platform {p}", "summary": f"Statement {k}"},
        "response-received": {"sender": f"Platform {p}", "summary": f"Answer {k}"},
        "no-response": {"summary": f"Notice {k - 3} unanswered"},
    }[kind]
    return _event(f"{ref}-{k}", kind, ref, day, data)


def _order_fact(p: int, k: int, day: int, targets: list[str]) -> dict:
    """The ``k``-th fact of order ``order-p`` after it was made: observations, and now and
    then a temporary lift of one target."""
    ref = f"order-{p}"
    if k % 10 == 9:
        return _event(f"{ref}-{k}", "unblocked", ref, day,
                      {"targets": [targets[k % len(targets)]], "until": _day(day + 5)})
    return _event(f"{ref}-{k}", "access-observed", ref, day,
                  {"target": targets[k % len(targets)], "accessible": k % 3 == 0,
                   "network": f"AS{1000 + k % 50}"})


def _targets(p: int) -> list[str]:
    return [f"s{i}.platform-{p}.example" for i in range(4)]


def _registered(p: int) -> dict:
    return _event(f"platform-{p}-reg", "platform-registered", f"platform-{p}", 0,
                  {"name": f"Platform {p}", "company": f"Company {p} Ltd",
                   "targets": _targets(p)})


def _blocked(p: int) -> dict:
    return _event(f"order-{p}-block", "blocked", f"order-{p}", 0,
                  {"platform": f"platform-{p}", "authority": "Ministry",
                   "targets": _targets(p), "reasons": ["gambling"]})


def long_histories(n: int, subjects: int = 100, *, shuffled: bool,
                   seed: int = 2017) -> Iterator[dict]:
    """About ``n`` events on ``subjects`` subjects (half platforms with long
    correspondence, half orders against them, long observed), the subjects interleaved.

    In date order (``shuffled=False``) each subject's facts come in valid-time order; with
    ``shuffled`` the same facts come in a random order (back-dated ones among them), but
    for what must come first: each platform's registration and first email, each order.
    """
    rng = random.Random(seed)
    pairs = max(1, subjects // 2)
    per = max(2, n // (2 * pairs))
    streams = []
    for p in range(pairs):
        yield _registered(p)
        yield _blocked(p)
        yield _platform_fact(p, 0, 1)  # the first email: any no-response may follow it
        platform = [_platform_fact(p, k, 1 + k) for k in range(1, per - 2)]
        order = [_order_fact(p, k, 1 + k, _targets(p)) for k in range(per - 1)]
        if shuffled:
            rng.shuffle(platform)
            rng.shuffle(order)
        streams += [iter(platform), iter(order)]
    while streams:  # round robin over the subjects, each in its own order
        alive = []
        for stream in streams:
            item = next(stream, None)
            if item is not None:
                yield item
                alive.append(stream)
        streams = alive


def spread(n: int, platforms: int) -> Iterator[dict]:
    """About ``n`` events over ``platforms`` platforms, each with one order: every
    platform and order first, then their facts round robin (each subject in valid-time
    order), so that all subjects are alive from the first batch to the last."""
    per = max(0, (n - 2 * platforms) // platforms)  # facts after the two creations
    for p in range(platforms):
        yield _registered(p)
        yield _blocked(p)
    for k in range(per):
        for p in range(platforms):
            if k % 2 == 0:
                yield _platform_fact(p, k // 2, 1 + k)
            else:
                yield _order_fact(p, k // 2, 1 + k, _targets(p))
