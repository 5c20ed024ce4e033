"""The event vocabulary: every event type, declared once.

Each class below is the single declaration of an event type's data. The CLI options,
import validation and the ``types`` reference are derived from it (see ``declaration``).
A class here becomes the frozen attrs class of its events' data when its type is first
used (``EventType.payload``), and then stands here in its place.
"""

from __future__ import annotations

from uuid import UUID

from domain.declaration import (
    choice,
    declare,
    event_ref,
    fields,
    flag,
    iso_currency,
    jurisdiction,
    moment,
    money,
    slug,
    slugs,
    target,
    targets,
    text,
    texts,
)
from domain.identifiers import displayed
from domain.values import When

#: Conditions the vocabulary names; any other slug is accepted too.
KNOWN_CONDITIONS = ("sop", "trusted-flagger", "government-channel", "local-representative",
                    "local-office", "content-removal")
MEETING_KINDS = ("ceo", "official", "technical")


def _n(items: tuple[str, ...], what: str) -> str:
    return f"{len(items)} {what}{'' if len(items) == 1 else 's'}"


def _opt(prefix: str, value: object) -> str:
    return f"{prefix}{value}" if value else ""


# --- platform -----------------------------------------------------------------------------


@declare("platform-registered", subject="platform", creates=True,
         describe=lambda d: f"{d.name} registered" + (f" ({d.company})" if d.company else "")
         + f" with {_n(d.targets, 'target')}")
class PlatformRegistered:
    """A platform enters the ledger, with the targets (domain names, app ids) it is reached at."""

    name: str = text("the platform's name")
    targets: tuple[str, ...] = targets("a domain name, IP address or network, or app id "
                                       "(app:android:PACKAGE, app:ios:ID) the platform is "
                                       "reached at", singular="target")
    company: str | None = text("the company behind it", required=False)


@declare("targets-added", subject="platform",
         describe=lambda d: f"{_n(d.targets, 'target')} added" + _opt(": ", d.summary))
class TargetsAdded:
    """The platform is reached at more targets from then on (a new domain, a new app)."""

    targets: tuple[str, ...] = targets("a domain name, IP address or network, or app id the "
                                       "platform is reached at from then on", singular="target")
    summary: str | None = text("what changed (a rename, a new app)", required=False)


@declare("targets-removed", subject="platform",
         describe=lambda d: f"{_n(d.targets, 'target')} removed" + _opt(": ", d.summary))
class TargetsRemoved:
    """The platform is no longer reached at these targets from then on."""

    targets: tuple[str, ...] = targets("a target the platform no longer uses",
                                       singular="target")
    summary: str | None = text("what changed", required=False)


@declare("email-sent", subject="platform",
         describe=lambda d: f"{d.sender} emails {d.recipient}: {d.summary}")
class EmailSent:
    """An authority emails the platform (a notice, a request, a warning)."""

    sender: str = text("who sent it")
    recipient: str = text("to whom or which address")
    summary: str = text("what it asked or said")
    deadline: When | None = moment("the reply or action it asked for by then")


@declare("response-received", subject="platform",
         describe=lambda d: f"response from {d.sender}: {d.summary}")
class ResponseReceived:
    """The authority receives an answer from the platform."""

    sender: str = text("who answered")
    summary: str = text("what the answer said")


@declare("no-response", subject="platform",
         describe=lambda d: "no response" + _opt(": ", d.summary))
class NoResponse:
    """The authority records that an email went unanswered."""

    regarding: UUID | None = event_ref("id of the unanswered email-sent event", required=False)
    summary: str | None = text("what went unanswered", required=False)


@declare("statement-issued", subject="platform",
         describe=lambda d: f"{d.by}{_opt(' on ', d.medium)}: {d.summary}")
class StatementIssued:
    """Someone states a position in public (a post, a press release, a conference)."""

    by: str = text("who made the statement")
    summary: str = text("what was said")
    medium: str | None = text("where: Twitter, a channel, a press conference", required=False)


#: How often a penalty is due: once, or every whole period from its imposition.
PERIODS = ("once", "day", "week", "month")


@declare("penalty-imposed", subject="platform",
         describe=lambda d: f"{d.authority} fines {d.amount} {d.currency}"
         + ("" if d.per == "once" else f" a {d.per}") + _opt(", up to ", d.cap)
         + _opt(" under order ", d.order) + f": {d.reason}")
class PenaltyImposed:
    """An authority or court fines the platform, once or every day, week or month until
    the fine is paid or lifted (up to ``cap``)."""

    authority: str = text("who imposed it")
    amount: str = money("the fine, or the fine per period, as a decimal string (\"1000000\")")
    currency: str = iso_currency("its ISO 4217 currency (BRL, EUR, USD)")
    per: str = choice("once, or every day, week or month", PERIODS)
    reason: str = text("why")
    order: str | None = slug("the order it enforces", required=False)
    cap: str | None = money("the most it can come to, as a decimal string", required=False)


@declare("penalty-paid", subject="platform",
         describe=lambda d: f"pays {d.amount} of penalty {d.penalty}" + _opt(": ", d.summary))
class PenaltyPaid:
    """The platform pays a penalty; a periodic one stops accruing."""

    penalty: UUID = event_ref("id of the penalty-imposed event paid")
    amount: str = money("what was paid, as a decimal string")
    summary: str | None = text("how, to whom", required=False)


@declare("penalty-lifted", subject="platform",
         describe=lambda d: f"penalty {d.penalty} lifted by {d.by}" + _opt(": ", d.summary))
class PenaltyLifted:
    """The penalty is lifted (annulled, waived, suspended by a court); it stops accruing."""

    penalty: UUID = event_ref("id of the penalty-imposed event lifted")
    by: str = text("who lifted it")
    summary: str | None = text("why", required=False)


# --- block order --------------------------------------------------------------------------


def _of_platforms(d: Blocked) -> str:
    if d.platform:
        return d.platform
    shown = ", ".join(d.platforms[:3])
    return f"{len(d.platforms)} platforms ({shown}{', ...' if len(d.platforms) > 3 else ''})"


@declare("blocked", subject="order", creates=True, either=("platform", "platforms"),
         describe=lambda d: f"{d.authority} orders {_n(d.targets, 'target')} of "
         f"{_of_platforms(d)} blocked ({', '.join(d.reasons)})" + _opt(" in ", d.jurisdiction))
class Blocked:
    """An authority orders targets of a platform (or of several) blocked. Each target must
    be one that one of its platforms is reached at when the order is made; each platform's
    status shows the order with the targets it holds."""

    platform: str | None = slug("the platform the order concerns (or platforms: several)",
                                required=False)
    platforms: tuple[str, ...] = slugs("the platforms an order over several concerns",
                                       singular="platform", required=False)
    authority: str = text("who ordered the block")
    targets: tuple[str, ...] = targets("a domain name, IP address or network, or app id "
                                       "blocked", singular="target")
    reasons: tuple[str, ...] = texts("why it was blocked", singular="reason")
    legal_basis: str | None = text("the law or article relied on", required=False)
    instrument: str | None = text("the order's document (letter, press release no.)",
                                  required=False)
    method: str | None = text("how (DNS, IP, SNI filtering by ISPs)", required=False)
    jurisdiction: str | None = jurisdiction("the state the order binds: ISO 3166-1 alpha-2 "
                                            "(BR), or an ISO 3166-2 subdivision (IN-JK) for "
                                            "a regional order (default: the ledger's)")


@declare("unblocked", subject="order",
         describe=lambda d: ("lifted " + (_n(d.targets, "target") if d.targets else "all targets")
                             + _opt(" until ", d.until) + _opt(" by ", d.authority)
                             + _opt(": ", d.summary)))
class Unblocked:
    """The block is lifted for some or all targets, permanently or until a time."""

    targets: tuple[str, ...] = targets("a target lifted (default: every target still held)",
                                       singular="target", required=False)
    until: When | None = moment("a temporary lift ends then and the targets are blocked again")
    authority: str | None = text("who lifted it", required=False)
    summary: str | None = text("what was announced", required=False)


#: How a measurement found a target blocked (OONI's blocking types, and throttling).
METHODS = ("dns", "tcp_ip", "http-failure", "http-diff", "tls", "throttling", "other")


@declare("access-observed", subject="order", also=("platform",),
         # (_opt written out: the most numerous events, described in one f-string)
         describe=lambda d: f"{displayed(d.target)} observed "
         f"{'reachable' if d.accessible else 'unreachable'}"
         f"{f' on {d.network}' if d.network else ''}"
         f"{f' in {d.jurisdiction}' if d.jurisdiction else ''}"
         f"{f' by {d.method}' if d.method else ''}")
class AccessObserved:
    """What was seen on a network: whether a target was reachable. Its subject is an order
    (a target of the order), or a platform (a target of the platform, with or without an
    order: unreachable with none in force is the finding of censorship measurement)."""

    target: str = target("the target checked")
    accessible: bool = flag("whether it was reachable")
    network: str | None = text("the ISP or ASN it was checked on", required=False)
    jurisdiction: str | None = jurisdiction("the country (ISO 3166-1 alpha-2) or subdivision "
                                            "(ISO 3166-2) it was checked in")
    method: str | None = choice("how it was found blocked: " + ", ".join(METHODS), METHODS,
                                required=False)


#: What a court may decide about an order.
OUTCOMES = ("upheld", "suspended", "overturned", "reinstated")


@declare("appeal-filed", subject="order",
         describe=lambda d: f"{d.by} appeals to {d.court}" + _opt(": ", d.summary))
class AppealFiled:
    """Someone asks a court to review the order."""

    court: str = text("the court appealed to")
    by: str = text("who appealed")
    summary: str | None = text("what was asked", required=False)


@declare("ruling", subject="order",
         describe=lambda d: f"{d.court}: order {d.outcome}"
         + _opt(", in effect from ", d.effective_at) + f": {d.summary}")
class Ruling:
    """A court decides about the order: it is upheld, suspended, overturned, or reinstated
    (what a ruling it reverses took away is blocked again). Its effect begins when it is
    given, or at ``effective_at`` (on publication, say)."""

    court: str = text("the court")
    outcome: str = choice("upheld, suspended, overturned or reinstated", OUTCOMES)
    summary: str = text("what the court decided, and why")
    effective_at: When | None = moment("when its effect begins, if later than it was given "
                                       "(e.g. on publication)")


# --- normalization request ----------------------------------------------------------------


@declare("normalization-requested", subject="request", creates=True,
         describe=lambda d: f"normalization of {d.platform} requested by {d.requested_by} "
         f"({', '.join(d.orders)})")
class NormalizationRequested:
    """A process to lift orders against a platform opens, with its conditions to come."""

    platform: str = slug("the platform to normalize")
    orders: tuple[str, ...] = slugs("an order the request concerns", singular="order")
    requested_by: str = text("who asked for it (platform or authority)")


@declare("condition-set", subject="request",
         describe=lambda d: f"condition {d.condition}" + _opt(": ", d.detail))
class ConditionSet:
    """The authority sets a condition for normalization."""

    condition: str = slug("sop, trusted-flagger, government-channel, local-representative, "
                          "local-office, content-removal, or another slug")
    detail: str | None = text("what exactly is required", required=False)


@declare("meeting-held", subject="request",
         describe=lambda d: f"{d.kind} meeting: {', '.join(d.attendees)}"
         + _opt(" at ", d.location) + _opt(": ", d.summary))
class MeetingHeld:
    """A meeting between the authority and the platform (a CEO meeting is kind ceo)."""

    kind: str = choice("ceo, official or technical", MEETING_KINDS)
    attendees: tuple[str, ...] = texts("someone who attended", singular="attendee")
    location: str | None = text("where", required=False)
    summary: str | None = text("what was agreed or discussed", required=False)


@declare("commitment-made", subject="request",
         describe=lambda d: f"{d.by} commits to {d.condition}" + _opt(": ", d.detail))
class CommitmentMade:
    """A party commits to meet a condition."""

    by: str = text("who committed")
    condition: str = slug("the condition committed to")
    detail: str | None = text("what was promised", required=False)


@declare("sop-agreed", subject="request",
         describe=lambda d: f"SOP agreed: {d.summary}")
class SopAgreed:
    """A standard operating procedure is agreed; it meets the condition sop where set."""

    summary: str = text("what the procedure says")
    document: str | None = text("the document (title or URL)", required=False)


@declare("condition-met", subject="request",
         describe=lambda d: f"condition {d.condition} met" + _opt(": ", d.detail))
class ConditionMet:
    """A condition set for normalization is met."""

    condition: str = slug("the condition met")
    detail: str | None = text("how", required=False)


@declare("condition-waived", subject="request",
         describe=lambda d: f"condition {d.condition} waived: {d.reason}")
class ConditionWaived:
    """The authority drops a condition it had set."""

    condition: str = slug("the condition waived")
    reason: str = text("why it was dropped")


@declare("normalization-granted", subject="request",
         describe=lambda d: "normalization granted" + _opt(": ", d.summary))
class NormalizationGranted:
    """The request is decided in the platform's favour."""

    summary: str | None = text("what was decided", required=False)


@declare("normalization-denied", subject="request",
         describe=lambda d: f"normalization denied: {d.reason}")
class NormalizationDenied:
    """The request is refused."""

    reason: str = text("why")


# --- operators: who may record, with which key -------------------------------------------


@declare("operator-added", subject="operator", creates=True,
         describe=lambda d: f"operator added as {d.role or 'recorder'}")
class OperatorAdded:
    """A person or system may record from now on, signing with this Ed25519 key."""

    public_key: str = text("the Ed25519 public key, base64 of its 32 raw bytes")
    role: str | None = choice("recorder (writes events) or auditor (reads and checks)",
                              ("recorder", "auditor"), required=False)


@declare("operator-revoked", subject="operator",
         describe=lambda d: "operator revoked" + _opt(": ", d.reason))
class OperatorRevoked:
    """The operator may no longer record; events its key signs from now on are flagged."""

    reason: str | None = text("why", required=False)


# --- the ledger's own settings -------------------------------------------------------------


@declare("jurisdiction-default", subject="ledger", creates=True,
         describe=lambda d: f"the ledger's default jurisdiction is {d.jurisdiction}")
class JurisdictionDefault:
    """The jurisdiction of every order and observation that names none, recorded before
    or after it (domain.jurisdictions). One per ledger, on the subject "ledger"; written by
    init --jurisdiction; a correction changes it."""

    jurisdiction: str = jurisdiction("ISO 3166-1 alpha-2 (BR, ID), or an ISO 3166-2 "
                                     "subdivision (IN-JK)", required=True)


# --- a national registry's snapshots, as imported (import-registry) ---------------------


@declare("registry-checked", subject="snapshot", creates=True,
         describe=lambda d: f"the {d.authority} registry ({d.registry}) checked"
         + _opt(" in ", d.jurisdiction) + _opt(": ", d.summary))
class RegistryChecked:
    """A snapshot of a national registry was read and diffed against the ledger, changed
    or not: the trace that the registry was seen at that time, in that file (its name and
    SHA-256 are the event's source). One subject per snapshot (its registry's name, time
    and digest); written by import-registry."""

    registry: str = slug("the registry's name, the prefix of its orders (ru-roskomnadzor)")
    authority: str = text("who keeps the registry")
    jurisdiction: str | None = jurisdiction("the state whose registry it is (ISO 3166-1 "
                                            "alpha-2)", required=True)
    summary: str | None = text("what the snapshot listed (its number of entries)",
                               required=False)


# --- amendments: about another event, on that event's subject ---------------------------


@declare("correction", subject="any",
         describe=lambda d: f"corrects {d.target}: "
         + ", ".join(f"{k}={v}" for k, v in d.set.items) + f" ({d.reason})")
class Correction:
    """Replaces fields of an earlier event (data fields, occurred_at), from now on."""

    target: UUID = event_ref("id of the event corrected")
    set: object = fields("the fields replaced and their new values (JSON object)")
    reason: str = text("why the earlier event was wrong")


@declare("retraction", subject="any",
         describe=lambda d: f"retracts {d.target}: {d.reason}")
class Retraction:
    """An earlier event counts as never having happened, from now on."""

    target: UUID = event_ref("id of the event retracted")
    reason: str = text("why")


@declare("dispute", subject="any",
         describe=lambda d: f"disputes {d.target}: {d.claim}")
class Dispute:
    """A conflicting account of an earlier event, with its own sources; it changes nothing."""

    target: UUID = event_ref("id of the event disputed")
    claim: str = text("the conflicting account")
