"""Status for a person: one platform in full (everything ``status --json`` says, and each
order's course), or one row per platform (``projections.terminal``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from projections.terminal import Column, Screen, Table, clean, indented

STATE_STYLE = {
    "blocked": "bold red", "partially-blocked": "bold yellow", "accessible": "bold green",
    "in-effect": "red", "partially-lifted": "yellow", "temporarily-lifted": "yellow",
    "lifted": "green", "open": "yellow", "granted": "green", "denied": "red",
    "pending": "yellow", "committed": "cyan", "met": "green", "waived": "dim",
    "running": "red", "paid": "green", "suspended": "yellow", "overturned": "green",
}

#: How each kind of divergence (``status --json``'s ``divergence``) reads.
DIVERGENCE = {
    "reachable-while-blocked": "reachable while ordered blocked",
    "unreachable-after-lift": "unreachable after the lift",
    "unexplained": "unreachable, and no order named it then",
}

#: How ``status --sort`` may order the summary, and by what.
SORTS = {
    "platform": lambda s: s["platform"],
    "state": lambda s: (s["state"], s["platform"]),
    "since": lambda s: (s.get("since") or "", s["platform"]),
    "blocked": lambda s: (-len(s["blocked_targets"]), s["platform"]),
}


def styled(state: str) -> Any:
    """A state as text in its colour."""
    from rich.text import Text

    return Text(clean(state), style=STATE_STYLE.get(state, ""))


def platform_text(status: dict[str, Any], detail: dict[str, Any] | None,
                  screen: Screen) -> Any:
    """One platform's status as rich renderables: its state and since when, its blocked
    targets, each order (state, from -> to, lifts), each request and its conditions, the
    latest observations (divergent ones highlighted) and what is disputed."""
    from rich.console import Group
    from rich.text import Text

    tz, detail = screen.time, detail or {}
    head = Text.assemble((clean(f"{status['name']} ({status['platform']})"), "bold"), ": ",
                         styled(status["state"]))
    if detail.get("since"):
        head.append(f" since {tz(detail['since'])}")
    when = [f"in {status['jurisdiction']}"] if status.get("jurisdiction") else []
    when += [f"as of {status['as_of']}"] if status["as_of"] else []
    when += [f"as known at {status['as_known_at']}"] if status["as_known_at"] else []
    if when:
        head.append(clean(f"  ({', '.join(when)})"), style="dim")
    if status["disputed"]:
        head.append("  disputed", style="bold magenta")
    parts: list[Any] = [head]
    registered = detail.get("targets")
    blocked = status["blocked_targets"]
    count = f"{len(blocked)} of {len(registered)}" if registered else f"{len(blocked)}"
    if blocked:
        parts.append(indented(Text(clean(f"blocked ({count} targets): {', '.join(blocked)}")),
                              2))
    elif registered:
        parts.append(indented(Text(f"no target blocked ({len(registered)} registered)"), 2))
    for order in status["orders"]:
        parts.extend(_order(order, detail.get("orders", {}).get(order["ref"]), tz))
    for request in status["normalizations"]:
        line = Text.assemble("request ", (clean(request["ref"]), "bold"), ": ",
                             styled(request["state"]))
        if request.get("disputed"):
            line.append("  disputed", style="bold magenta")
        conditions = list(request["conditions"].items())
        if conditions:
            line.append("; conditions: ")
            for i, (condition, state) in enumerate(conditions):
                line.append_text(Text.assemble(", " if i else "", f"{clean(condition)} ",
                                               styled(state)))
        parts.append(indented(line, 2))
    ordered = {t for periods in detail.get("orders", {}).values()
               for step in periods["steps"] if step["what"] == "blocked"
               for t in step["targets"]}
    parts.extend(_observed(status, tz, ordered))
    parts.extend(_penalties(status))
    parts.extend(_jurisdictions(status))
    for dispute in detail.get("disputes", []):
        parts.append(indented(Text.assemble(
            ("disputed: ", "bold magenta"),
            clean(f"{dispute['type']} of {tz(dispute['occurred_at'])} ({dispute['subject']},"
                  f" {dispute['id'][:8]}): {dispute['summary']}")), 2))
        for claim in dispute["claims"]:
            parts.append(indented(Text(clean(f"claim: {claim}"), style="magenta"), 4))
    return Group(*parts)


def _order(order: dict[str, Any], periods: dict[str, Any] | None, tz: Any) -> list[Any]:
    from rich.text import Text

    where = order.get("jurisdiction")
    where = f" in {where}{' (regional)' if order.get('regional') else ''}" if where else ""
    line = Text.assemble("order ", (clean(order["ref"]), "bold"), clean(
        f" by {order['authority']}{where}: "), styled(order["state"]))
    if periods and periods.get("from"):
        start = tz(periods["from"])
        line.append(f", in force {start} -> {tz(periods['to'])}" if periods.get("to")
                    else f" since {start}")
    held = len(order["blocked_targets"])
    line.append(f" ({held} target{'s' if held != 1 else ''} blocked)")
    if order.get("disputed"):
        line.append("  disputed", style="bold magenta")
    out = [indented(line, 2)]
    for step in (periods or {}).get("steps", []):
        if step["what"] == "blocked":
            continue
        targets = ", ".join(step["targets"]) or "all it held"
        until = f" until {tz(step['until'])}" if step.get("until") else ""
        out.append(indented(Text(clean(f"{step['what']} {tz(step['at'])}{until}: {targets}"),
                                 style="yellow" if until else ""), 4))
    for ruling in order.get("pending_rulings", ()):
        # Given, not yet in effect (it takes effect on publication, say): shown, pending.
        out.append(indented(Text(clean(
            f"pending: {ruling['court']} ruled {ruling['outcome']} on "
            f"{tz(ruling['given'])}, in effect from {tz(ruling['effective_at'])}"),
            style="yellow"), 4))
    return out


def _observed(status: dict[str, Any], tz: Any, ordered: set[str]) -> list[Any]:
    """The latest observation of each target; a divergent one in red, saying how it
    contradicts the orders (``ordered``: the targets an order ever blocked)."""
    from rich.text import Text

    observed, divergent = status["observed"], set(status["divergent"])
    if not observed:
        return []
    out: list[Any] = [indented(Text(f"observed ({len(divergent)} divergent):"
                                    if divergent else "observed:"), 2)]
    for target, seen in observed.items():
        word = "reachable" if seen["accessible"] else "unreachable"
        where = f" on {seen['network']}" if seen.get("network") else ""
        line = Text()
        if target in divergent:
            line.append("DIVERGENT ", style="bold red")
            line.append(clean(target), style="bold red")
            kind = status.get("divergence", {}).get(target) or (
                "reachable-while-blocked" if seen["accessible"]
                else "unreachable-after-lift" if target in ordered else "unexplained")
            why = DIVERGENCE.get(kind, kind)
            line.append(clean(f": {word} at {tz(seen['at'])}{where} ({why})"))
        else:
            line.append(clean(f"{target}: {word} at {tz(seen['at'])}{where}"))
        out.append(indented(line, 4))
    return out


PER = {"once": "once", "day": "a day", "week": "a week", "month": "a month"}


def _penalties(status: dict[str, Any]) -> list[Any]:
    """Each penalty (``status --json``'s ``penalties``): who imposed it, how much and how
    often, its cap, its state and what it has come to."""
    from rich.text import Text

    out = []
    for penalty in status.get("penalties") or []:
        cap = f", cap {penalty['cap']}" if penalty.get("cap") else ""
        line = Text(clean(
            f"penalty by {penalty.get('authority')}: {penalty.get('amount')} "
            f"{penalty.get('currency')} {PER.get(penalty.get('per'), penalty.get('per'))}"
            f"{cap}, accrued {penalty.get('accrued')} ({str(penalty.get('id', ''))[:8]}): "))
        line.append_text(styled(str(penalty.get("state"))))
        out.append(indented(line, 2))
    return out


def _jurisdictions(status: dict[str, Any]) -> list[Any]:
    """The state in each jurisdiction (``jurisdictions``), where there is more than one."""
    from rich.text import Text

    found = status.get("jurisdictions") or {}
    if len(found) < 2:
        return []
    out = []
    for code, there in sorted(found.items()):
        line = Text.assemble(f"in {clean(code)}: ", styled(str(there.get("state"))))
        blocked = there.get("blocked_targets") or []
        if blocked:
            line.append(clean(f" ({len(blocked)} blocked: {', '.join(blocked)})"))
        out.append(indented(line, 2))
    return out


def summary_table(screen: Screen, statuses: Iterable[dict[str, Any]]) -> int:
    """One row per platform: state, blocked of registered targets, orders in effect (of
    all its orders, and their authorities), since when; return how many rows."""
    from rich.text import Text

    def text(value: Any, style: str = "") -> Any:
        return Text(clean(value), style=style)

    def targets(s: dict[str, Any]) -> str:
        registered = s.get("targets")
        return (f"{len(s['blocked_targets'])}/{len(registered)}" if registered is not None
                else str(len(s["blocked_targets"])))

    def orders(s: dict[str, Any]) -> Any:
        live = [o for o in s["orders"] if o["state"] != "lifted"]
        authorities = sorted({o["authority"] for o in live})
        return text(f"{len(live)} of {len(s['orders'])}"
                    + (f" ({', '.join(authorities)})" if authorities else ""))

    def platform(s: dict[str, Any]) -> Any:
        cell = Text(clean(s["platform"]), style="bold")
        if s["name"].casefold() != s["platform"].casefold():
            cell.append(clean(f" {s['name']}"), style="")
        return cell

    def flags(s: dict[str, Any]) -> Any:
        words = [word for word, show in (("divergent", s["divergent"]),
                                         ("disputed", s["disputed"])) if show]
        return Text(" ".join(words), style="magenta")

    table = Table(screen, Column("platform", 0, platform), [
        Column("state", 17, lambda s: styled(s["state"])),
        Column("blocked", 7, lambda s: text(targets(s)), justify="right"),
        Column("in effect", 12, orders),
        Column("since", 16, lambda s: text(screen.time(s.get("since")))),
        Column("flags", 18, flags),
    ], least=12, main_first=True)
    return table.write(statuses)
