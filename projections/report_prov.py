"""The provenance report as W3C PROV-JSON, built with the ``prov`` package.

PROV mapping (W3C PROV-DM; ``bl`` names terms, ``ex`` identifiers):

- operator (``recorded_by``): ``prov:Agent`` ``ex:operator-NAME`` (``prov:type bl:Operator``);
- recording: ``prov:Activity`` ``ex:recording-ID`` (``bl:Recording``, starts and ends at
  ``recorded_at``); it ``wasAssociatedWith`` the operator and ``used`` each source;
- event: ``prov:Entity`` ``ex:event-ID`` (``bl:Event``; ``bl:type``, ``bl:subject``,
  ``bl:occurred_at``, ``bl:recorded_at``, ``bl:hash``, ``bl:position``, ``bl:summary``,
  ``bl:leaf_index``, ``bl:data`` as JSON); it ``wasGeneratedBy`` its recording,
  ``wasAttributedTo`` the operator and ``wasDerivedFrom`` each source (``bl:quote`` on the
  derivation);
- source: ``prov:Entity`` ``ex:source-DIGEST`` (``bl:Source``; ``bl:url``, ``bl:title``,
  ``bl:sha256``), one per distinct citation;
- correction, retraction, dispute: an event with ``bl:amends`` (its target) that
  ``wasDerivedFrom`` the target, the derivation typed ``bl:Correction``, ``bl:Retraction``
  or ``bl:Dispute``. No ``wasInvalidatedBy``: a retracted record still exists, it only
  stops counting;
- a report for one jurisdiction: each event also ``bl:jurisdiction`` (where it counts)
  and ``bl:in_answer``; the answer is ``prov:Entity`` ``ex:answer-CC`` (``bl:Answer``;
  ``bl:jurisdiction``, ``bl:as_of``, ``bl:state``, ``bl:default_jurisdiction``, and
  ``bl:regional_orders``, JSON of each regional order's region, when it counts any), which
  ``wasDerivedFrom`` each event that is part of it;
- corrected event: also ``ex:event-ID-current`` (``bl:CorrectedView``; ``bl:occurred_at``,
  ``bl:data`` as it counts now), which ``wasRevisionOf`` the event as recorded and
  ``wasDerivedFrom`` each correction.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from prov.model import ProvDocument

BL = "https://blockledger.example/ns#"
EX = "https://blockledger.example/id/"
AMENDMENTS = {"correction": "Correction", "retraction": "Retraction", "dispute": "Dispute"}


def _local(prefix: str, name: Any) -> str:
    return f"{prefix}-{quote(str(name), safe='')}"


def _time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def render_prov(report: dict[str, Any]) -> str:
    """The report as W3C PROV-JSON: operators, recordings, events, sources (see above)."""
    doc = ProvDocument()
    bl, ex = doc.add_namespace("bl", BL), doc.add_namespace("ex", EX)
    seen: set[Any] = set()

    def once(ident: Any) -> bool:
        new = ident not in seen
        seen.add(ident)
        return new

    for ev in report["events"]:
        event, recording = ex[_local("event", ev.get("id"))], ex[_local("recording", ev.get("id"))]
        who = str(ev.get("recorded_by") or "unknown")
        agent = ex[_local("operator", who)]
        if once(agent):
            doc.agent(agent, {"prov:type": bl["Operator"], "prov:label": who})
        when = _time(ev.get("recorded_at"))
        doc.activity(recording, when, when, {"prov:type": bl["Recording"]})
        attrs: dict[str, Any] = {"prov:type": bl["Event"]}
        for key in ("type", "subject", "occurred_at", "recorded_at", "hash", "position",
                    "summary", "leaf_index"):
            if ev.get(key) is not None:
                attrs[f"bl:{key}"] = ev[key]
        attrs["bl:data"] = json.dumps(ev.get("data") or {}, ensure_ascii=False, sort_keys=True)
        mark = ev.get("jurisdiction")
        if isinstance(mark, dict):
            attrs["bl:jurisdiction"] = str(mark.get("where") or "none")
            attrs["bl:in_answer"] = mark.get("counts") is True
        target = (ev.get("data") or {}).get("target")
        amended = ex[_local("event", target)] if ev.get("type") in AMENDMENTS and target else None
        if amended is not None:
            attrs["bl:amends"] = amended
        doc.entity(event, attrs)
        doc.wasGeneratedBy(event, recording, when)
        doc.wasAttributedTo(event, agent)
        signed = ev.get("signature")
        if signed:
            signer = ex[_local("operator", str(signed.get("operator") or signed.get("key_id")))]
            if once(signer):
                doc.agent(signer, {"prov:type": bl["Operator"],
                                   "prov:label": str(signed.get("operator"))})
            doc.wasAttributedTo(event, signer, other_attributes={
                "prov:type": bl["Signature"], "bl:key_id": str(signed.get("key_id")),
                "bl:public_key": str(signed.get("public_key")),
                "bl:signature": str(signed.get("signature"))})
        doc.wasAssociatedWith(recording, agent)
        for src in ev.get("sources") or []:
            fields = {k: src[k] for k in ("url", "title", "sha256") if src.get(k)}
            digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
            source = ex[_local("source", digest[:20])]
            if once(source):
                doc.entity(source, {"prov:type": bl["Source"],
                                    **{f"bl:{k}": v for k, v in fields.items()}})
            doc.used(recording, source)
            quoted = {"bl:quote": src["quote"]} if src.get("quote") else None
            doc.wasDerivedFrom(event, source, recording, other_attributes=quoted)
        if amended is not None:
            doc.wasDerivedFrom(event, amended, recording, other_attributes={
                "prov:type": bl[AMENDMENTS[str(ev["type"])]]})
        if ev.get("current"):
            view, now = ex[_local("event", f"{ev.get('id')}-current")], ev["current"]
            doc.entity(view, {"prov:type": bl["CorrectedView"],
                              "bl:occurred_at": now.get("occurred_at", ev.get("occurred_at")),
                              "bl:data": json.dumps(now.get("data", ev.get("data")) or {},
                                                    ensure_ascii=False, sort_keys=True)})
            doc.wasRevisionOf(view, event)
            for fix in ev.get("corrected_by") or []:
                doc.wasDerivedFrom(view, ex[_local("event", fix)])
    _answer(doc, report, bl, ex)
    return doc.serialize(format="json")


def _answer(doc: ProvDocument, report: dict[str, Any], bl: Any, ex: Any) -> None:
    """A report for one jurisdiction: its answer, derived from the events part of it."""
    code, answer = report.get("jurisdiction"), report.get("answer")
    if not isinstance(code, str) or not isinstance(answer, dict):
        return
    status = answer.get("status") if isinstance(answer.get("status"), dict) else {}
    attrs = {"prov:type": bl["Answer"], "bl:jurisdiction": code,
             "bl:as_of": str(answer.get("as_of")),
             "bl:default_jurisdiction": str(answer.get("default_jurisdiction") or "none")}
    if status.get("state"):
        attrs["bl:state"] = str(status["state"])
    regional = {str(o.get("ref")): str(o.get("jurisdiction"))
                for o in status.get("orders") or [] if isinstance(o, dict) and o.get("regional")}
    if regional:  # counted in the country's answer, binding their region only
        attrs["bl:regional_orders"] = json.dumps(regional, sort_keys=True)
    entity = ex[_local("answer", code)]
    doc.entity(entity, attrs)
    for ev in report["events"]:
        mark = ev.get("jurisdiction")
        if isinstance(mark, dict) and mark.get("counts") is True:
            doc.wasDerivedFrom(entity, ex[_local("event", ev.get("id"))])
