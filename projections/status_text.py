"""Status for a person: one platform in full (everything ``status --json`` says, and each
order's course), or one row per platform (``projections.terminal``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from projections.formats import IN_EFFECT, any_disputed
from projections.terminal import Column, Screen, Table, clean, fitted, indented

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

#: How wide a column of several words (flags, authorities) must be to be shown in the
#: summary rather than written under its row: a few words to a line.
WRAPPED = 24

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
        # The state's own start: the order's block for one in effect; else what changed
        # it last (a lift, a temporary lift, a court's ruling), and the block beside it
        # (before: "suspended since" the day the order was made).
        start = tz(periods["from"])
        later = [step for step in periods.get("steps", ()) if step["what"] != "blocked"]
        if periods.get("to"):
            line.append(f", in force {start} -> {tz(periods['to'])}")
        elif order["state"] == "in-effect" or not later:
            line.append(f" since {start}")
        else:
            line.append(f" since {tz(later[-1]['at'])}, in force from {start}")
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


def in_effect(status: dict[str, Any]) -> list[dict[str, Any]]:
    """The platform's orders in effect (``IN_EFFECT``: not lifted, nor set aside by a
    court)."""
    return [o for o in status["orders"] if o["state"] in IN_EFFECT]


def summary_table(screen: Screen, statuses: Iterable[dict[str, Any]]) -> int:
    """One row per platform: state, blocked of registered targets, orders in effect of
    all its orders, since when, flags, and the authorities of the orders in effect (a
    column empty in every row is left out); return how many rows.

    No word is ever split: each column is measured on the rows (all of them, held here)
    to be at least as wide as its longest word; the platform column (its reference and
    name) takes what is left, and the columns that do not fit are written under their
    row, across the whole width (``since 2017-07-14 · divergent · by Kominfo``), lowest
    priority first to go: the authorities, the flags, since, orders, blocked, state. Only
    a single word longer than the whole line would still be folded."""
    from rich.text import Text

    rows = list(statuses)

    def text(value: Any, style: str = "") -> Any:
        return Text(clean(value), style=style)

    def targets(s: dict[str, Any]) -> str:
        registered = s.get("targets")
        return (f"{len(s['blocked_targets'])}/{len(registered)}" if registered is not None
                else str(len(s["blocked_targets"])))

    def orders(s: dict[str, Any]) -> str:
        return f"{len(in_effect(s))} of {len(s['orders'])}"

    def authorities(s: dict[str, Any]) -> str:
        return clean(", ".join(sorted({o["authority"] for o in in_effect(s)})))

    def name(s: dict[str, Any]) -> str:
        shown = clean(s["platform"])
        if s["name"].casefold() != s["platform"].casefold():
            shown += " " + clean(s["name"])
        return shown

    def platform(s: dict[str, Any]) -> Any:
        ref = clean(s["platform"])
        return Text.assemble((ref, "bold"), name(s)[len(ref):])

    def flags(s: dict[str, Any]) -> str:
        return " ".join(word for word, show in (("divergent", s["divergent"]),
                                                ("disputed", any_disputed(s))) if show)

    def since(s: dict[str, Any]) -> str:
        return screen.time(s.get("since"))

    def column(header: str, value: Any, style: Any = None, *, wraps: bool = False,
               justify: str = "left") -> Column | None:
        """The column, measured on the rows; None if it would be empty in every row."""
        values = [value(s) for s in rows]
        if rows and not any(values):
            return None
        width, most = fitted(header, values, wraps=wraps)
        if wraps:  # shown only where a few words fit on a line, else written under the row
            width = max(width, min(most, WRAPPED))
        return Column(header, width, style or (lambda s: text(value(s))), justify=justify,
                      most=most)

    main_width, main_most = fitted("platform", [name(s) for s in rows])
    columns = [c for c in (
        column("state", lambda s: s["state"], lambda s: styled(s["state"])),
        column("blocked", targets, justify="right"),
        column("in effect", orders),
        column("since", since),
        column("flags", flags, lambda s: text(flags(s), "magenta"), wraps=True),
        column("authority", authorities, wraps=True),
    ) if c is not None]
    words = {"since": lambda s: f"since {since(s)}" if since(s) else "",
             "flags": flags, "authority": lambda s: f"by {authorities(s)}" if in_effect(s)
             else "", "in effect": lambda s: f"{orders(s)} in effect",
             "blocked": lambda s: f"{targets(s)} blocked", "state": lambda s: s["state"]}

    def under(s: dict[str, Any], folded: list[Column]) -> Any:
        parts = [words[c.header](s) for c in folded]
        return Text(" \u00b7 ".join(part for part in parts if part), style="dim")

    table = Table(screen, Column("platform", main_width, platform, most=main_most),
                  columns, least=max(main_width, min(main_most, 20)), fold=under,
                  main_first=True, below=True)
    return table.write(rows)
