"""Unit tests of the domain: the rules of each aggregate, valid time, values, declarations.

Given facts (built by ``tests.facts``), when one more is recorded, then the aggregate
accepts it and folds it, or refuses it with a clear message and writes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.declaration import REGISTRY, event_type
from domain.errors import BadInput, Refused, RuleBroken
from domain.fact import Fact
from domain.subjects import AGGREGATES, BlockOrder, NormalizationRequest, Platform
from domain.values import Source, When, aggregate_id, check_slug
from tests.facts import (
    NOW,
    SOURCE,
    TARGETS,
    appeal,
    blocked,
    commitment,
    condition_met,
    condition_set,
    condition_waived,
    correction,
    denied,
    dispute,
    email,
    fact,
    given,
    granted,
    instant,
    meeting,
    no_response,
    observed,
    operator_added,
    operator_revoked,
    penalty_imposed,
    penalty_lifted,
    penalty_paid,
    registered,
    requested,
    response,
    retraction,
    ruling,
    sop_agreed,
    statement,
    targets_added,
    targets_removed,
    unblocked,
)

EMAIL_ID = "11111111-1111-4111-8111-111111111111"
LIFT_ID = "22222222-2222-4222-8222-222222222222"
GRANT_ID = "33333333-3333-4333-8333-333333333333"
BLOCK_ID = "44444444-4444-4444-8444-444444444444"
MEETING_ID = "55555555-5555-4555-8555-555555555555"


def refused(aggregate, fact: Fact) -> str:
    """Record ``fact``, expect a ``RuleBroken``, check nothing was written; the message."""
    pending = list(aggregate.pending_events)
    facts = list(aggregate.facts)
    with pytest.raises(RuleBroken) as caught:
        aggregate.record(fact, NOW)
    assert aggregate.pending_events == pending
    assert aggregate.facts == facts
    assert fact.id not in aggregate.fact_ids
    return str(caught.value)


def at(text: str, *, end_of_day: bool = False) -> datetime:
    """The instant of ``text`` as ``--as-of`` reads it."""
    return When.parse(text, end_of_day=end_of_day).instant


# --- every declared type is accepted by its aggregate once --------------------------------

ACCEPTED = {
    "platform-registered": lambda: (registered(),),
    "email-sent": lambda: (registered(), email()),
    "response-received": lambda: (registered(), email(), response()),
    "no-response": lambda: (registered(), email(id=EMAIL_ID), no_response(regarding=EMAIL_ID)),
    "statement-issued": lambda: (registered(), statement()),
    "blocked": lambda: (blocked(),),
    "unblocked": lambda: (blocked(), unblocked()),
    "access-observed": lambda: (blocked(), observed()),
    "targets-added": lambda: (registered(), targets_added()),
    "penalty-imposed": lambda: (registered(), penalty_imposed()),
    "penalty-paid": lambda: (registered(), penalty_imposed(), penalty_paid()),
    "penalty-lifted": lambda: (registered(), penalty_imposed(), penalty_lifted()),
    "targets-removed": lambda: (registered(), targets_removed()),
    "appeal-filed": lambda: (blocked(), appeal()),
    "ruling": lambda: (blocked(), ruling()),
    "normalization-requested": lambda: (requested(),),
    "condition-set": lambda: (requested(), condition_set()),
    "meeting-held": lambda: (requested(), meeting()),
    "commitment-made": lambda: (requested(), commitment()),
    "sop-agreed": lambda: (requested(), sop_agreed()),
    "condition-met": lambda: (requested(), condition_set(), condition_met()),
    "condition-waived": lambda: (requested(), condition_set(), condition_waived()),
    "normalization-granted": lambda: (requested(), granted()),
    "normalization-denied": lambda: (requested(), denied()),
    "correction": lambda: (blocked(id=BLOCK_ID), correction(
        "kominfo-1", target=BLOCK_ID, set={"authority": "Kemkominfo"})),
    "retraction": lambda: (blocked(), observed(id=LIFT_ID),
                           retraction("kominfo-1", target=LIFT_ID)),
    "dispute": lambda: (blocked(id=BLOCK_ID), dispute("kominfo-1", target=BLOCK_ID)),
    "operator-added": lambda: (operator_added(),),
    "operator-revoked": lambda: (operator_added(), operator_revoked()),
    "jurisdiction-default": lambda: (fact("jurisdiction-default", "ledger", at="2017-01-01",
                                          data={"jurisdiction": "ID"}),),
    "registry-checked": lambda: (fact("registry-checked", "ru-roskomnadzor-20240115100000-ab",
                                      at="2024-01-15", data={
                                          "registry": "ru-roskomnadzor",
                                          "authority": "Roskomnadzor", "jurisdiction": "RU"}),),
}


class TestDeclarations:
    @pytest.mark.parametrize("name", sorted(REGISTRY))
    def test_every_event_type_is_accepted_once(self, name):
        """Each type of the vocabulary is accepted by the aggregate of its subject."""
        facts = ACCEPTED[name]()
        aggregate = given(*facts)
        assert facts[-1].type == name
        assert aggregate.facts[-1] == facts[-1]
        assert len(aggregate.pending_events) == len(facts)
        kind = REGISTRY[name].subject
        if kind != "any":
            assert isinstance(aggregate, AGGREGATES[kind])

    def test_the_vocabulary_is_the_design_s(self):
        """The registry declares the event types of the design (its second edition
        included) and the two operator events of signed attribution (issue #6)."""
        assert set(REGISTRY) == set(ACCEPTED)
        assert {n for n, t in REGISTRY.items() if t.creates} == {
            "platform-registered", "blocked", "normalization-requested", "operator-added",
            "jurisdiction-default", "registry-checked"}

    def test_every_builder_gives_a_source(self):
        """Every builder gives its fact a source (the default citation)."""
        for build in ACCEPTED.values():
            for made in build():
                assert made.sources
        assert registered().sources == (Source(**SOURCE),)

    def test_a_missing_field_is_named(self):
        """A missing required list names ``data.targets``."""
        with pytest.raises(BadInput) as caught:
            REGISTRY["platform-registered"].parse({"name": "Telegram"})
        assert caught.value.field == "data.targets"
        assert "data.targets" in str(caught.value)
        assert "requires it" in str(caught.value)

    def test_a_list_of_the_wrong_type_is_named(self):
        """A string where a list is expected is refused, naming the field."""
        with pytest.raises(BadInput, match="expected a list") as caught:
            REGISTRY["blocked"].parse({"platform": "telegram", "authority": "Kominfo",
                                       "targets": "t.me", "reasons": ["terrorism"]})
        assert caught.value.field == "data.targets"

    def test_an_empty_required_list_is_refused(self):
        """A required list must list at least one item."""
        with pytest.raises(BadInput, match="at least one") as caught:
            REGISTRY["blocked"].parse({"platform": "telegram", "authority": "Kominfo",
                                       "targets": [], "reasons": ["terrorism"]})
        assert caught.value.field == "data.targets"

    def test_a_bad_list_item_is_named_with_its_index(self):
        """An item that is not text is named with its index in the list."""
        with pytest.raises(BadInput, match="expected text") as caught:
            REGISTRY["platform-registered"].parse({"name": "T", "targets": ["t.me", 5]})
        assert caught.value.field == "data.targets[1]"

    def test_an_unknown_field_is_refused(self):
        """A data field the type does not declare is refused, listing the fields it takes."""
        with pytest.raises(BadInput) as caught:
            REGISTRY["email-sent"].parse({"sender": "a", "recipient": "b", "summary": "c",
                                          "colour": "red"})
        assert caught.value.field == "data"
        assert "'colour'" in str(caught.value)
        assert "sender, recipient, summary, deadline" in str(caught.value)

    def test_a_bool_field_takes_only_a_bool(self):
        """``accessible`` given as a string is refused, naming the field."""
        with pytest.raises(BadInput, match="true or false") as caught:
            REGISTRY["access-observed"].parse({"target": "t.me", "accessible": "yes"})
        assert caught.value.field == "data.accessible"

    def test_a_choice_field_takes_only_its_choices(self):
        """A meeting kind outside ceo, official, technical is refused."""
        with pytest.raises(BadInput, match="ceo, official, technical") as caught:
            REGISTRY["meeting-held"].parse({"kind": "lunch", "attendees": ["a"]})
        assert caught.value.field == "data.kind"

    def test_an_event_reference_must_be_a_uuid(self):
        """``regarding`` that is not a UUID is refused, naming the field."""
        with pytest.raises(BadInput, match="not an event id") as caught:
            REGISTRY["no-response"].parse({"regarding": "the first email"})
        assert caught.value.field == "data.regarding"

    def test_a_slug_field_refuses_upper_case(self):
        """A platform reference in upper case is refused, naming the field."""
        with pytest.raises(BadInput, match="not a reference") as caught:
            REGISTRY["normalization-requested"].parse(
                {"platform": "Telegram", "orders": ["k1"], "requested_by": "x"})
        assert caught.value.field == "data.platform"

    def test_a_time_field_is_parsed(self):
        """A deadline is parsed into a ``When`` and written back as given."""
        kind = REGISTRY["email-sent"]
        data = kind.parse({"sender": "a", "recipient": "b", "summary": "c",
                           "deadline": "2017-07-01"})
        assert data.deadline == When.parse("2017-07-01")
        assert kind.to_json(data) == {"sender": "a", "recipient": "b", "summary": "c",
                                      "deadline": "2017-07-01"}

    def test_data_that_is_not_an_object_is_refused(self):
        """``data`` given as a list is refused, naming ``data``."""
        with pytest.raises(BadInput, match="expected an object") as caught:
            REGISTRY["email-sent"].parse(["a"])
        assert caught.value.field == "data"

    def test_an_unknown_event_type_is_refused(self):
        """An unknown type names the ``type`` field and suggests the nearest one, or lists
        the known ones when none is near."""
        with pytest.raises(BadInput, match="unknown event type 'blocking'") as caught:
            event_type("blocking")
        assert caught.value.field == "type"
        assert "did you mean blocked?" in str(caught.value)
        with pytest.raises(BadInput, match="known: platform-registered"):
            event_type("zzzz")

    def test_texts_are_stripped_and_list_duplicates_dropped(self):
        """Surrounding blanks are dropped and a repeated target counts once."""
        data = REGISTRY["platform-registered"].parse(
            {"name": "  Telegram ", "targets": ["t.me", " t.me", "web.telegram.org"]})
        assert data.name == "Telegram"
        assert data.targets == ("t.me", "web.telegram.org")

    def test_to_json_leaves_out_empty_optional_fields(self):
        """An unblocked without targets or until has an empty data object."""
        assert unblocked().to_json()["data"] == {}

    def test_an_event_without_a_source_is_refused(self):
        """A fact with no sources is bad input naming ``sources``."""
        obj = registered().to_json()
        obj["sources"] = []
        with pytest.raises(BadInput, match="at least one source") as caught:
            Fact.from_json(obj)
        assert caught.value.field == "sources"

    def test_an_unknown_envelope_field_is_refused(self):
        """An envelope field outside the interchange format is named."""
        obj = registered().to_json()
        obj["when"] = "2017-01-01"
        with pytest.raises(BadInput, match="unknown field") as caught:
            Fact.from_json(obj)
        assert caught.value.field == "when"

    def test_ledger_fields_are_accepted_and_ignored(self):
        """An exported line (with recorded_at, position, hash) reads back as the same fact."""
        fact = registered()
        obj = {**fact.to_json(), "recorded_at": "2026-01-01T00:00:00+00:00",
               "recorded_by": "someone", "position": 7, "hash": "00"}
        assert Fact.from_json(obj) == fact

    def test_a_fact_without_id_gets_a_content_derived_id(self):
        """The same JSON without an id twice gives the same id; other content another id."""
        obj = registered().to_json()
        del obj["id"]
        first, second = Fact.from_json(dict(obj)), Fact.from_json(dict(obj))
        assert first.id == second.id
        assert first.id != uuid.UUID(int=0)
        assert first.id.version == 5
        other = Fact.from_json({**obj, "note": "another account"})
        assert other.id != first.id

    def test_a_given_id_is_kept(self):
        """An explicit id is the fact's id."""
        assert email(id=EMAIL_ID).id == uuid.UUID(EMAIL_ID)

    def test_a_bad_id_is_refused(self):
        """An id that is not a UUID is bad input naming ``id``."""
        obj = registered().to_json()
        obj["id"] = "first"
        with pytest.raises(BadInput, match="not a UUID") as caught:
            Fact.from_json(obj)
        assert caught.value.field == "id"

    def test_a_fact_round_trips_through_json(self):
        """``to_json`` then ``from_json`` gives the same fact."""
        fact = blocked(legal_basis="UU ITE art. 40", note="eleven domains",
                       sources=["https://example.org/a", {"title": "Letter", "sha256": "a" * 64}])
        assert Fact.from_json(fact.to_json()) == fact


# --- platform -----------------------------------------------------------------------------


class TestPlatformRules:
    def test_registration_creates_the_platform(self):
        """A platform-registered opens a Platform with its name, company and targets."""
        platform = given(registered())
        assert isinstance(platform, Platform)
        assert platform.ref == "telegram"
        assert platform.id == aggregate_id("platform", "telegram")
        state = platform.state()
        assert (state.name, state.company, state.targets) == (
            "Telegram", "Telegram Messenger LLP", TARGETS)

    def test_correspondence_is_accepted(self):
        """Emails, responses, no-responses and statements follow a registration."""
        platform = given(registered(), email(id=EMAIL_ID), no_response(regarding=EMAIL_ID),
                         response(at="2017-07-16"), statement())
        assert [f.type for f in platform.facts] == [
            "platform-registered", "email-sent", "no-response", "response-received",
            "statement-issued"]
        assert list(platform.state().emails) == [uuid.UUID(EMAIL_ID)]

    def test_no_response_without_an_earlier_email_is_refused(self):
        """A no-response with no email-sent before it is refused."""
        platform = given(registered())
        message = refused(platform, no_response())
        assert "no-response needs an earlier email-sent to telegram" in message

    def test_no_response_before_the_only_email_is_refused(self):
        """An email sent after the no-response does not count as earlier."""
        platform = given(registered(), email(at="2017-04-01"))
        message = refused(platform, no_response(at="2017-03-15"))
        assert "needs an earlier email-sent" in message

    def test_no_response_regarding_an_unknown_id_is_refused(self):
        """A no-response regarding an id that is no earlier email is refused, naming it."""
        platform = given(registered(), email(id=EMAIL_ID))
        stranger = uuid.uuid4()
        message = refused(platform, no_response(regarding=stranger))
        assert f"regards {stranger}" in message
        assert "not an earlier email-sent" in message

    def test_no_response_regarding_a_non_email_is_refused(self):
        """A no-response regarding the registration (not an email) is refused."""
        registration = registered()
        platform = given(registration, email())
        message = refused(platform, no_response(regarding=registration.id))
        assert str(registration.id) in message

    def test_a_second_registration_is_refused(self):
        """A creating event on an existing platform is refused, naming the first one."""
        first = registered()
        platform = given(first)
        message = refused(platform, registered(at="2017-02-01", name="Telegram FZ"))
        assert "telegram was already created" in message
        assert str(first.id) in message

    def test_an_event_in_the_future_is_refused(self):
        """An email dated after now is refused."""
        platform = given(registered())
        message = refused(platform, email(at="2026-06-02"))
        assert "2026-06-02 is in the future" in message

    def test_a_creating_event_in_the_future_is_refused(self):
        """A registration dated after now opens nothing."""
        with pytest.raises(RuleBroken, match="in the future"):
            Platform.open(registered(at="2026-06-01T12:00:01+00:00"), NOW)

    def test_an_event_earlier_today_is_not_in_the_future(self):
        """An event today (a bare date, or a time in a zone ahead of UTC) is accepted."""
        platform = given(registered(), email(at="2026-06-01"),
                         email(at="2026-06-01T18:00:00+07:00", summary="second notice"))
        assert len(platform.facts) == 3

    def test_an_event_before_the_platform_was_created_is_refused(self):
        """An email dated before the registration is refused."""
        platform = given(registered(at="2017-01-01"))
        message = refused(platform, email(at="2016-12-31"))
        assert "email-sent of 2016-12-31 is before telegram was created" in message

    def test_a_refused_record_writes_nothing(self):
        """After a refusal the pending events and the state are as before."""
        platform = given(registered())
        before = list(platform.pending_events)
        with pytest.raises(RuleBroken):
            platform.record(no_response(), NOW)
        assert platform.pending_events == before
        assert len(before) == 1
        assert platform.state().emails == {}
        platform.record(email(), NOW)
        assert len(platform.pending_events) == 2


# --- block order --------------------------------------------------------------------------


class TestBlockOrderRules:
    def test_a_block_creates_an_order_in_effect(self):
        """A blocked opens a BlockOrder holding all its targets."""
        order = given(blocked())
        assert isinstance(order, BlockOrder)
        state = order.state()
        assert state.state == "in-effect"
        assert state.blocked == {"t.me", "web.telegram.org"}
        assert (state.platform, state.authority) == ("telegram", "Kominfo")

    def test_lifting_some_targets_partially_lifts_the_order(self):
        """An unblocked of one of two targets leaves the order partially lifted."""
        order = given(blocked(), unblocked(targets=["t.me"]))
        assert order.state().state == "partially-lifted"
        assert order.state().blocked == {"web.telegram.org"}

    def test_lifting_without_targets_lifts_all(self):
        """An unblocked without targets lifts every target still held."""
        order = given(blocked(), unblocked(targets=["t.me"], at="2017-08-01"), unblocked())
        assert order.state().state == "lifted"
        assert order.state().held == set()

    def test_an_access_observation_is_kept(self):
        """An access-observed of a target is the latest observation of that target."""
        order = given(blocked(), observed(accessible=False),
                      observed(at="2017-08-11", accessible=True))
        assert order.state().observed["t.me"].data.accessible is True

    def test_an_observation_of_a_stranger_target_is_refused(self):
        """An access-observed of a target the order does not name is refused."""
        order = given(blocked())
        assert "telegram.org is not a target" in refused(order, observed(target="telegram.org"))

    def test_unblocking_a_target_already_lifted_is_refused(self):
        """An unblocked of a target no longer blocked at that time is refused."""
        order = given(blocked(), unblocked(targets=["t.me"], at="2017-08-01"))
        message = refused(order, unblocked(targets=["t.me"], at="2017-08-02"))
        assert "target t.me is not blocked by order kominfo-1 at 2017-08-02" in message

    def test_unblocking_a_target_of_no_order_is_refused(self):
        """An unblocked of a target the order never named is refused."""
        order = given(blocked())
        message = refused(order, unblocked(targets=["telegram.org"]))
        assert "target telegram.org is not a target of order kominfo-1" in message

    def test_unblocking_when_nothing_is_held_is_refused(self):
        """An unblocked of all when everything was lifted already is refused."""
        order = given(blocked(), unblocked(at="2017-08-01"))
        message = refused(order, unblocked(at="2017-08-10"))
        assert "nothing of order kominfo-1 is blocked at 2017-08-10" in message

    def test_a_temporary_lift_must_end_after_it_starts(self):
        """An ``until`` at or before the lift itself is refused."""
        order = given(blocked())
        message = refused(order, unblocked(at="2017-07-20", until="2017-07-20"))
        assert "must end after it starts" in message

    def test_a_temporary_lift_suspends_targets_until_it_ends(self):
        """Targets lifted until a time are suspended, then blocked again at that time."""
        order = given(
            blocked(at="2017-07-14"),
            unblocked(targets=["t.me"], at="2017-07-15", until="2017-07-20"),
            unblocked(at="2017-07-22", until="2017-07-25"),
            unblocked(at="2017-08-10"),
        )
        assert order.state(until=at("2017-07-14", end_of_day=True)).state == "in-effect"
        during = order.state(until=at("2017-07-16"))
        assert during.state == "partially-lifted"
        assert during.blocked == {"web.telegram.org"}
        assert set(during.suspended) == {"t.me"}
        assert during.held == {"t.me", "web.telegram.org"}
        just_before = order.state(until=at("2017-07-20") - timedelta(microseconds=1))
        assert just_before.state == "partially-lifted"
        again = order.state(until=at("2017-07-20"))
        assert again.state == "in-effect"
        assert again.blocked == {"t.me", "web.telegram.org"}
        assert again.suspended == {}
        all_lifted = order.state(until=at("2017-07-23"))
        assert all_lifted.state == "temporarily-lifted"
        assert all_lifted.blocked == set()
        assert order.state(until=at("2017-07-25")).state == "in-effect"
        assert order.state(until=at("2017-08-10")).state == "lifted"
        assert order.state().state == "lifted"

    def test_a_target_lifted_for_a_while_may_be_lifted_for_good(self):
        """A suspended target is held, so a permanent unblocked of it is accepted."""
        order = given(blocked(), unblocked(at="2017-07-15", until="2017-07-20"),
                      unblocked(targets=["t.me"], at="2017-07-17"))
        after = order.state(until=at("2017-07-21"))
        assert after.state == "partially-lifted"
        assert after.blocked == {"web.telegram.org"}

    def test_lifting_after_a_temporary_lift_ended_is_accepted(self):
        """Once the temporary lift ended the targets are blocked, so they may be lifted."""
        order = given(blocked(), unblocked(at="2017-07-15", until="2017-07-20"))
        order.record(unblocked(at="2017-08-10"), NOW)
        assert order.state().state == "lifted"

    def test_an_unblock_before_the_order_is_refused(self):
        """An unblocked dated before the block order is refused."""
        order = given(blocked(at="2017-07-14"))
        message = refused(order, unblocked(at="2017-07-01"))
        assert "unblocked of 2017-07-01 is before kominfo-1 was created" in message

    def test_a_second_block_on_the_same_order_is_refused(self):
        """A creating event on an existing order is refused."""
        order = given(blocked())
        assert "kominfo-1 was already created" in refused(order, blocked(at="2017-07-15"))


# --- normalization request ----------------------------------------------------------------


class TestNormalizationRules:
    def test_a_request_opens_with_no_conditions(self):
        """A normalization-requested opens an open request with its platform and orders."""
        request = given(requested())
        assert isinstance(request, NormalizationRequest)
        state = request.state()
        assert (state.state, state.platform, state.orders) == ("open", "telegram", ("kominfo-1",))
        assert state.conditions == {}

    def test_a_set_condition_is_pending(self):
        """A condition-set makes the condition pending."""
        request = given(requested(), condition_set(condition="local-office"))
        assert request.state().conditions == {"local-office": "pending"}

    def test_a_commitment_makes_a_pending_condition_committed(self):
        """A commitment-made moves a pending condition to committed."""
        request = given(requested(), condition_set(), condition_set(condition="sop"),
                        meeting(), commitment(condition="trusted-flagger"))
        assert request.state().conditions == {"trusted-flagger": "committed", "sop": "pending"}
        assert request.state().facts[-2].data.kind == "ceo"

    def test_a_commitment_before_its_condition_counts_when_set(self):
        """A condition set after a commitment to it starts committed."""
        request = given(requested(), commitment(at="2017-08-01"),
                        condition_set(at="2017-08-02"))
        assert request.state().conditions == {"trusted-flagger": "committed"}

    def test_an_agreed_sop_meets_the_sop_condition(self):
        """A sop-agreed meets the condition sop where one is set."""
        request = given(requested(), condition_set(condition="sop"),
                        condition_set(condition="trusted-flagger"), sop_agreed())
        assert request.state().conditions == {"sop": "met", "trusted-flagger": "pending"}
        assert request.state().sop is not None

    def test_a_committed_sop_is_met_by_the_agreed_sop(self):
        """A committed sop condition becomes met when the SOP is agreed."""
        request = given(requested(), condition_set(condition="sop"),
                        commitment(condition="sop"), sop_agreed())
        assert request.state().conditions == {"sop": "met"}

    def test_an_sop_agreed_before_the_condition_meets_it(self):
        """A sop condition set after the SOP was agreed is met at once."""
        request = given(requested(), sop_agreed(at="2017-08-05"),
                        condition_set(condition="sop", at="2017-08-06"))
        assert request.state().conditions == {"sop": "met"}

    def test_conditions_met_and_waived_allow_the_grant(self):
        """With every condition met or waived the request is granted."""
        request = given(requested(), condition_set(condition="sop"),
                        condition_set(condition="local-office"), sop_agreed(),
                        condition_waived(condition="local-office"),
                        condition_set(condition="trusted-flagger"),
                        condition_met(condition="trusted-flagger"), granted())
        state = request.state()
        assert state.state == "granted"
        assert state.conditions == {"sop": "met", "local-office": "waived",
                                    "trusted-flagger": "met"}

    def test_a_denial_decides_the_request(self):
        """A normalization-denied leaves the request denied."""
        request = given(requested(), condition_set(), denied())
        assert request.state().state == "denied"

    @pytest.mark.parametrize("build", [condition_met, condition_waived],
                             ids=["met", "waived"])
    def test_a_condition_never_set_cannot_be_met_or_waived(self, build):
        """A condition-met or -waived of a condition never set is refused."""
        request = given(requested(), condition_set(condition="sop"))
        message = refused(request, build(condition="trusted-flagger"))
        assert "condition trusted-flagger was never set on request telegram-id" in message

    def test_a_commitment_does_not_set_a_condition(self):
        """A condition only committed to, never set, still cannot be met."""
        request = given(requested(), commitment(condition="local-office"))
        assert "never set" in refused(request, condition_met(condition="local-office"))

    @pytest.mark.parametrize("state", ["pending", "committed"])
    def test_no_grant_while_a_condition_is_outstanding(self, state):
        """A grant while a condition is pending or committed is refused, naming it."""
        facts = [requested(), condition_set(condition="sop"),
                 condition_set(condition="local-office"), sop_agreed()]
        if state == "committed":
            facts.append(commitment(condition="local-office"))
        request = given(*facts)
        assert request.state().conditions["local-office"] == state
        message = refused(request, granted())
        assert "conditions neither met nor waived: local-office" in message
        assert "sop" not in message.split(":")[-1]

    @pytest.mark.parametrize("decision", [granted, denied], ids=["granted", "denied"])
    @pytest.mark.parametrize("later", [
        lambda: meeting(at="2017-08-11"),
        lambda: condition_set(condition="sop", at="2017-08-11"),
        lambda: condition_met(at="2017-08-11"),
        lambda: commitment(at="2017-08-11"),
        lambda: sop_agreed(at="2017-08-11"),
        lambda: denied(at="2017-08-11", reason="changed our mind"),
        lambda: granted(at="2017-08-11", summary="after all"),
    ], ids=["meeting", "condition-set", "condition-met", "commitment", "sop", "denied",
            "granted"])
    def test_nothing_follows_a_decision(self, decision, later):
        """Any event on a request after its decision is refused, naming the decision."""
        setup = [requested(), condition_set()]
        if decision is granted:
            setup.append(condition_met())
        decided = decision(id=GRANT_ID)
        request = given(*setup, decided)
        message = refused(request, later())
        assert (f"request telegram-id was already decided by {decided.type} of 2017-08-10 "
                f"({GRANT_ID})") in message

    def test_a_second_request_on_the_same_reference_is_refused(self):
        """A creating event on an existing request is refused."""
        request = given(requested())
        assert "telegram-id was already created" in refused(request,
                                                             requested(at="2017-07-21"))


# --- valid time: back-dated events -------------------------------------------------------


class TestBackdating:
    def test_a_back_dated_lift_that_breaks_a_later_one_is_refused(self):
        """A back-dated lift of all leaves the later lift nothing: refused, naming it."""
        order = given(blocked(), unblocked(at="2017-08-10", id=LIFT_ID))
        message = refused(order, unblocked(at="2017-07-20"))
        assert "unblocked of 2017-07-20 conflicts with unblocked of 2017-08-10" in message
        assert LIFT_ID in message
        assert "nothing of order kominfo-1 is blocked at 2017-08-10" in message

    def test_a_back_dated_condition_that_breaks_the_grant_is_refused(self):
        """A condition back-dated before the grant would leave the grant premature."""
        request = given(requested(), condition_set(), condition_met(),
                        granted(at="2017-08-10", id=GRANT_ID))
        message = refused(request, condition_set(condition="sop", at="2017-08-01"))
        assert f"conflicts with normalization-granted of 2017-08-10 ({GRANT_ID})" in message
        assert "conditions neither met nor waived: sop" in message

    def test_a_back_dated_decision_before_a_later_event_is_refused(self):
        """A denial back-dated before a recorded meeting would decide it away: refused."""
        request = given(requested(), meeting(at="2017-08-01", id=MEETING_ID))
        message = refused(request, denied(at="2017-07-25"))
        assert f"conflicts with meeting-held of 2017-08-01 ({MEETING_ID})" in message
        assert "already decided by normalization-denied of 2017-07-25" in message

    def test_a_back_dated_email_is_refused_when_it_precedes_creation(self):
        """A back-dated event before the subject's creation is refused, naming itself."""
        platform = given(registered(at="2017-01-01"), email(at="2017-03-01"))
        message = refused(platform, email(at="2016-06-01", summary="older notice"))
        assert "email-sent of 2016-06-01 is before telegram was created" in message
        assert "conflicts" not in message

    def test_a_back_dated_lift_that_keeps_the_rules_is_accepted(self):
        """A lift of one target back-dated before the final lift is accepted in its place."""
        order = given(blocked(), unblocked(at="2017-08-10", id=LIFT_ID))
        order.record(unblocked(targets=["t.me"], at="2017-07-20"), NOW)
        assert len(order.facts) == 3
        assert order.state(until=at("2017-07-19")).state == "in-effect"
        middle = order.state(until=at("2017-07-25"))
        assert middle.state == "partially-lifted"
        assert middle.blocked == {"web.telegram.org"}
        assert order.state().state == "lifted"
        assert [f.occurred_at.text for f in order.state().facts] == [
            "2017-07-14", "2017-07-20", "2017-08-10"]

    def test_a_back_dated_email_makes_a_no_response_possible(self):
        """An email recorded late but dated early lets a no-response regarding it follow."""
        platform = given(registered(), statement(at="2017-07-16"))
        platform.record(email(at="2017-03-01", id=EMAIL_ID), NOW)
        platform.record(no_response(at="2017-03-15", regarding=EMAIL_ID), NOW)
        assert [f.type for f in platform.state().facts] == [
            "platform-registered", "email-sent", "no-response", "statement-issued"]

    def test_a_back_dated_condition_set_is_folded_in_valid_order(self):
        """A condition set late but dated before a commitment starts pending, then commits."""
        request = given(requested(), commitment(at="2017-08-01"))
        request.record(condition_set(at="2017-07-25"), NOW)
        assert request.state(until=at("2017-07-30")).conditions == {
            "trusted-flagger": "pending"}
        assert request.state().conditions == {"trusted-flagger": "committed"}

    def test_same_day_events_fold_in_causal_order(self):
        """A no-response recorded before its email on the same day still follows it."""
        platform = given(registered(), email(at="2017-03-01", id=EMAIL_ID, summary="first"))
        platform.record(no_response(at="2017-03-20", regarding=EMAIL_ID), NOW)
        platform.record(email(at="2017-03-20", summary="second"), NOW)
        assert [f.type for f in platform.state().facts][-2:] == ["email-sent", "no-response"]

    def test_a_correction_moves_an_event_in_valid_time(self):
        """A correction of a lift's date moves the lift; the original stays in the facts."""
        order = given(blocked(), unblocked(at="2017-08-10", id=LIFT_ID))
        order.record(correction("kominfo-1", target=LIFT_ID,
                                set={"occurred_at": "2017-08-12"}), NOW)
        assert order.state(until=at("2017-08-11")).state == "in-effect"
        assert order.state().state == "lifted"
        assert [f.type for f in order.facts] == ["blocked", "unblocked", "correction"]

    def test_a_correction_that_breaks_a_later_event_is_refused(self):
        """Moving the block after its lift is refused, naming the lift."""
        order = given(blocked(id=BLOCK_ID), unblocked(at="2017-08-10", id=LIFT_ID))
        message = refused(order, correction("kominfo-1", target=BLOCK_ID,
                                            set={"occurred_at": "2017-09-01"}))
        assert LIFT_ID in message

    def test_a_retraction_removes_the_event(self):
        """A retracted lift no longer counts: the order is in effect again."""
        order = given(blocked(), unblocked(at="2017-08-10", id=LIFT_ID))
        order.record(retraction("kominfo-1", target=LIFT_ID), NOW)
        assert order.state().state == "in-effect"

    @pytest.mark.parametrize("build", [
        lambda: correction("kominfo-1", target=LIFT_ID, set={"authority": "Kemkominfo"},
                           at="2016-01-01"),
        lambda: retraction("kominfo-1", target=LIFT_ID, at="2016-01-01"),
        lambda: dispute("kominfo-1", target=LIFT_ID, at="2016-01-01"),
    ], ids=["correction", "retraction", "dispute"])
    def test_an_amendment_before_the_subject_was_created_is_refused(self, build):
        """A correction, retraction or dispute dated before the order existed is refused."""
        order = given(blocked(at="2017-07-14"), unblocked(at="2017-08-10", id=LIFT_ID))
        message = refused(order, build())
        assert "before kominfo-1 was created" in message

    def test_a_dispute_changes_nothing(self):
        """A disputed lift still counts."""
        order = given(blocked(), unblocked(at="2017-08-10", id=LIFT_ID))
        order.record(dispute("kominfo-1", target=LIFT_ID), NOW)
        assert order.state().state == "lifted"
        assert len(order.facts) == 3


# --- values -------------------------------------------------------------------------------


class TestValues:
    def test_a_bare_date_orders_at_the_start_of_its_day(self):
        """A bare date keeps day precision and orders as 00:00 UTC."""
        when = When.parse("2017-07-14")
        assert when.text == "2017-07-14"
        assert when.day is True
        assert when.instant == datetime(2017, 7, 14, tzinfo=UTC)
        assert str(when) == "2017-07-14"

    def test_a_bare_date_as_of_means_the_end_of_its_day(self):
        """With end_of_day a bare date means the last microsecond of that day."""
        when = When.parse("2017-07-14", end_of_day=True)
        assert when.instant == datetime(2017, 7, 14, 23, 59, 59, 999999, tzinfo=UTC)
        assert when.day is True

    def test_a_date_time_with_offset_is_converted_to_utc(self):
        """11:00 at +07:00 orders as 04:00 UTC and keeps its text."""
        when = When.parse("2017-07-14T11:00:00+07:00")
        assert when.instant == datetime(2017, 7, 14, 4, tzinfo=UTC)
        assert when.instant.utcoffset() == timedelta(0)
        assert when.text == "2017-07-14T11:00:00+07:00"
        assert when.day is False

    def test_end_of_day_does_not_move_a_date_time(self):
        """end_of_day only concerns bare dates."""
        text = "2017-07-14T11:00:00+07:00"
        assert When.parse(text, end_of_day=True) == When.parse(text)

    def test_z_means_utc(self):
        """A trailing Z is UTC."""
        assert When.parse("2017-07-14T11:00:00Z").instant == datetime(2017, 7, 14, 11,
                                                                      tzinfo=UTC)

    def test_a_date_time_without_offset_is_refused(self):
        """A date-time with no offset is ambiguous: bad input naming the field."""
        with pytest.raises(BadInput, match="has no UTC offset") as caught:
            When.parse("2017-07-14T11:00:00", "until")
        assert caught.value.field == "until"

    @pytest.mark.parametrize("value", ["2017-02-30", "14/07/2017", "yesterday", "", 20170714,
                                       None])
    def test_a_non_date_is_refused(self, value):
        """Anything that is not ISO 8601 text is bad input."""
        with pytest.raises(BadInput) as caught:
            When.parse(value)
        assert caught.value.field == "occurred_at"

    def test_a_bare_date_sorts_before_later_times_that_day(self):
        """A bare date orders before any moment after midnight UTC of that day."""
        assert instant("2017-07-14") < instant("2017-07-14T00:00:01+00:00")
        assert instant("2017-07-14") > instant("2017-07-14T06:00:00+07:00")

    def test_a_url_source_is_a_url(self):
        """A source given as a URL is a citation by url."""
        assert Source.parse("https://kominfo.go.id/a") == Source(url="https://kominfo.go.id/a")

    def test_a_text_source_is_a_title(self):
        """A source given as other text is a citation by title."""
        assert Source.parse(" Kominfo letter no. 84 ") == Source(title="Kominfo letter no. 84")
        assert Source.parse("https://x.org/a b") == Source(title="https://x.org/a b")

    def test_a_dict_source_keeps_its_fields(self):
        """A source object keeps url, title, sha256 and quote."""
        digest = "ab" * 32
        source = Source.parse({"url": "https://x.org", "title": "T", "sha256": digest,
                               "quote": "q"})
        assert source == Source(url="https://x.org", title="T", sha256=digest, quote="q")
        assert source.to_json() == {"url": "https://x.org", "title": "T", "sha256": digest,
                                    "quote": "q"}
        assert source.label() == "T"

    @pytest.mark.parametrize("digest", ["AB" * 32, "ab" * 31, "zz" * 32])
    def test_a_bad_sha256_is_refused(self, digest):
        """A sha256 that is not 64 lower-case hex digits is refused, naming it."""
        with pytest.raises(BadInput, match="64 lower-case hex") as caught:
            Source.parse({"url": "https://x.org", "sha256": digest})
        assert caught.value.field == "sources.sha256"

    def test_a_source_needs_a_url_or_title(self):
        """A source with only a quote is refused."""
        with pytest.raises(BadInput, match="needs a url or a title"):
            Source.parse({"quote": "we will block"})

    def test_a_source_with_an_unknown_field_is_refused(self):
        """A source object with a field outside url, title, sha256, quote is refused."""
        with pytest.raises(BadInput, match="unknown source field 'page'"):
            Source.parse({"url": "https://x.org", "page": "3"})

    def test_a_source_of_the_wrong_type_is_refused(self):
        """A number is not a source."""
        with pytest.raises(BadInput, match="a source is a URL"):
            Source.parse(42)

    @pytest.mark.parametrize("ref", ["telegram", "kominfo-2017-07-14", "t.me", "a_b", "0",
                                     "a" * 100])
    def test_a_slug_is_accepted(self, ref):
        """Lower-case letters, digits, '.', '_' and '-' up to 100 characters are a reference."""
        assert check_slug(ref, "subject") == ref

    @pytest.mark.parametrize("ref", ["Telegram", "tele gram", "a" * 101, "-telegram",
                                     ".telegram", "", "telegram\n", "télégram", 7])
    def test_a_non_slug_is_refused(self, ref):
        """Upper case, spaces, a leading dash, more than 100 characters: not a reference."""
        with pytest.raises(BadInput, match="is not a reference") as caught:
            check_slug(ref, "subject")
        assert caught.value.field == "subject"

    def test_a_fact_with_a_bad_subject_is_refused(self):
        """A fact's subject must be a slug."""
        obj = registered().to_json()
        obj["subject"] = "Telegram"
        with pytest.raises(BadInput) as caught:
            Fact.from_json(obj)
        assert caught.value.field == "subject"

    def test_aggregate_ids_derive_from_kind_and_reference(self):
        """The id is stable for a kind and reference and differs across kinds."""
        assert aggregate_id("platform", "telegram") == aggregate_id("platform", "telegram")
        assert aggregate_id("platform", "telegram") != aggregate_id("order", "telegram")
        assert aggregate_id("platform", "telegram").version == 5

    def test_refusals_are_refused_not_bad_input(self):
        """A broken rule exits 1 and bad input exits 2."""
        assert issubclass(RuleBroken, Refused)
        assert RuleBroken("x").exit_code == 1
        assert BadInput("x").exit_code == 2
        assert str(BadInput("bad", field="data.x", line=3)) == "line 3, field 'data.x': bad"



# --- operators ----------------------------------------------------------------------------


class TestOperators:
    def test_an_operator_is_added_with_a_key_and_a_role(self):
        """Given nothing, when an operator is added, then it holds its key, as a recorder
        unless it says otherwise."""
        operator = given(operator_added())
        assert operator.state().role == "recorder"
        assert len(operator.state().key_id) == 32
        assert given(operator_added(role="auditor")).state().role == "auditor"

    def test_a_key_that_is_not_ed25519_is_refused(self):
        """A public key must be base64 of 32 bytes."""
        with pytest.raises(RuleBroken, match="public_key is 3 bytes"):
            given(operator_added(public_key="AAAA"))
        with pytest.raises(RuleBroken, match="public_key is not base64"):
            given(operator_added(public_key="not a key!"))

    def test_an_unknown_role_is_bad_input(self):
        with pytest.raises(BadInput, match="recorder, auditor") as caught:
            operator_added(role="admin")
        assert caught.value.field == "data.role"

    def test_a_revoked_operator_stays_revoked(self):
        """Given a revoked operator, revoking it again is refused, naming the revocation."""
        operator = given(operator_added(), operator_revoked())
        assert operator.state().revoked is not None
        message = refused(operator, operator_revoked(at="2017-07-01", reason="again"))
        assert "was revoked by operator-revoked" in message

    def test_a_name_is_added_once(self):
        with pytest.raises(Refused):
            given(operator_added(), operator_added(at="2017-02-01"))

    def test_a_revocation_before_the_operator_existed_is_refused(self):
        message = refused(given(operator_added(at="2017-03-01")),
                          operator_revoked(at="2017-02-01"))
        assert "before alice was created" in message

    def test_an_operator_event_cannot_be_corrected_or_retracted(self):
        """Signatures depend on who held which key when: a key changes by revoke and add."""
        added = operator_added(id=BLOCK_ID)
        operator = given(added)
        assert "cannot be corrected" in refused(operator, correction(
            "alice", target=BLOCK_ID, set={"role": "auditor"}))
        assert "cannot be retracted" in refused(operator, retraction(
            "alice", target=BLOCK_ID))
        operator.record(dispute("alice", target=BLOCK_ID), NOW)  # an account may differ
