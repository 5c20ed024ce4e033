"""How a ``Fact`` is stored inside a library event: as its interchange JSON object."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Transcoding

from domain.fact import Fact


class FactAsDict(Transcoding):
    """Stores a fact as its interchange object (envelope, ``data``, ``recorded_by``)."""

    type = Fact
    name = "fact"

    def encode(self, obj: Fact) -> dict[str, Any]:
        return obj.to_json()

    def decode(self, data: dict[str, Any]) -> Fact:
        return Fact.from_json(data).evolve(recorded_by=data.get("recorded_by"))
