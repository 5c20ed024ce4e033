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
