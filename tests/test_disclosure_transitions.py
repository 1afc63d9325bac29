"""The transition table of a disclosure's procedure, for every role (issue 4).

Every step is tried by everyone in the cast — the clerk, the reviewer, the principal, the
parent's principal, the co-unit's clerk, a member without roles, a non-member, an anonymous
visitor, and for the worker's steps the system — on items in the states the step starts from and in a few it does
not. Allowed steps move the item as the table says; refused ones raise ActionError and leave
every row exactly as it was. Each starting state is built once per module through the real
actions, and each test runs in its own savepoint, so some 650 cases stay fast.

The item: branch1's monthly 党费 entry (route 书记签发), confirmed with branch2 (PROC-8), its
body holding a mobile number the reviewer may redact.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone

from dwgk.audience.keys import Audience
from dwgk.disclosures import actions, prescreen
from dwgk.disclosures.actions import TRANSITIONS
from dwgk.disclosures.models import Disclosure, LogEntry
from dwgk.lib.errors import ActionError, NotAllowed
from tests.disclosure_cast import (
    BODY,
    OPINIONS,
    DisclosureWorld,
    draft,
    later,
    make_disclosure_world,
    make_world,
    record_of,
)

S = Disclosure.Status
PEOPLE = ("bob", "rita", "alice", "paula", "cathy", "charlie", "dora", "anonymous", "system")
WORKER_STEPS = ("publish", "expire")  # the steps the system takes; nobody else acts as None
MOBILE_BODY = BODY + "<p>联系人：鲍勃，13812345678。</p>"
NOTICE = "经核实，原公开内容中的数字有误，现予更正。"


def person(dw: DisclosureWorld, name: str) -> Any:
    if name == "anonymous":
        return AnonymousUser()
    if name == "system":
        return None  # the worker or an operator's command
    return getattr(dw, name)


# --- the steps, each with the states it starts from, where it leads and who may take it ---


@dataclass(frozen=True)
class Step:
    table: tuple[str, ...]  # the TRANSITIONS rows the step follows
    run: Callable[[DisclosureWorld, Disclosure, Any], object]
    # start state -> (end state, who may take the step from there)
    rows: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)

    def people(self) -> frozenset[str]:
        return frozenset().union(*(who for _end, who in self.rows.values()))


def rows(starts: tuple[str, ...], end: str | None, who: set[str]) -> dict[str, Any]:
    """`end` None: the step leaves the item in the state it started from."""
    return {start: (end or start, frozenset(who)) for start in starts}


def _redact(dw: DisclosureWorld, item: Disclosure, actor: Any) -> object:
    found = prescreen.scan(item.body)
    start, end = (found[0].start, found[0].end) if found else (0, 1)
    return actions.disclosure_redact(item, actor=actor, field="body", start=start, end=end)


STAFF = {"bob", "alice"}  # branch1's clerk and principal: propose, publish, archive
REVIEWERS = {"rita", "alice"}  # the reviewer, and the principal (never the author, bob)
TODAY = datetime.date.today

STEPS: dict[str, Step] = {
    "edit": Step(
        ("edit", "edit_submitted"),
        lambda dw, item, a: actions.disclosure_edit(item, actor=a, title=item.title + "（修订）"),
        {
            **rows((S.DRAFT, S.RETURNED), None, STAFF),
            **rows(
                (S.SUBMITTED, S.CONFIRMING, S.APPROVING, S.APPROVED, S.SCHEDULED),
                S.SUBMITTED,
                STAFF,
            ),
        },
    ),
    "submit": Step(
        ("submit",),
        lambda dw, item, a: actions.disclosure_submit(item, actor=a),
        rows((S.DRAFT, S.RETURNED), S.SUBMITTED, STAFF),
    ),
    "start_review": Step(
        ("start_review",),
        lambda dw, item, a: actions.disclosure_start_review(item, actor=a),
        rows((S.SUBMITTED,), S.REVIEWING, REVIEWERS),
    ),
    "redact": Step(("redact",), _redact, rows((S.REVIEWING,), None, REVIEWERS)),
    "refer": Step(
        ("refer",),
        lambda dw, item, a: actions.disclosure_refer(item, actor=a, question="联系人信息是否涉密"),
        rows((S.REVIEWING,), S.REFERRED, REVIEWERS),
    ),
    "referral_may_disclose": Step(
        ("referral_answer",),
        lambda dw, item, a: actions.disclosure_referral_answer(
            item, actor=a, may_disclose=True, answer="经保密部门确定，不属于国家秘密"
        ),
        rows((S.REFERRED,), S.REVIEWING, REVIEWERS),
    ),
    "referral_may_not": Step(
        ("referral_answer",),
        lambda dw, item, a: actions.disclosure_referral_answer(
            item, actor=a, may_disclose=False, answer="经保密部门确定，属于工作秘密"
        ),
        rows((S.REFERRED,), S.REJECTED, REVIEWERS),
    ),
    "pass_review": Step(
        ("pass_review",),
        lambda dw, item, a: actions.disclosure_pass_review(item, actor=a, **OPINIONS),
        rows((S.REVIEWING,), S.CONFIRMING, REVIEWERS),
    ),
    "return": Step(
        ("return",),
        lambda dw, item, a: actions.disclosure_return(item, actor=a, opinion="数据需再核对"),
        {
            **rows((S.REVIEWING,), S.RETURNED, REVIEWERS),
            # the step's signer, or who records the leadership's collective decision
            **rows((S.APPROVING,), S.RETURNED, {"alice", "bob"}),
        },
    ),
    "reject": Step(
        ("reject",),
        lambda dw, item, a: actions.disclosure_reject(item, actor=a, reason="不属于公开范围"),
        {
            **rows((S.REVIEWING,), S.REJECTED, REVIEWERS),
            **rows((S.APPROVING,), S.REJECTED, {"alice", "bob"}),
        },
    ),
    "confirm_agree": Step(
        ("confirm",),
        lambda dw, item, a: actions.disclosure_confirm(item, actor=a, org=dw.branch2, agree=True),
        rows((S.CONFIRMING,), S.APPROVING, {"cathy"}),
    ),
    "confirm_disagree": Step(
        ("confirm",),
        lambda dw, item, a: actions.disclosure_confirm(
            item, actor=a, org=dw.branch2, agree=False, comment="涉及我支部的数字有误"
        ),
        rows((S.CONFIRMING,), S.RETURNED, {"cathy"}),
    ),
    "approve": Step(
        ("approve",),
        lambda dw, item, a: actions.disclosure_approve(item, actor=a, comment="同意"),
        rows((S.APPROVING,), S.APPROVED, {"alice"}),
    ),
    "approve_collective": Step(
        ("approve",),
        lambda dw, item, a: actions.disclosure_approve(
            item,
            actor=a,
            collective=True,
            meeting="支部委员会会议",
            meeting_date=TODAY(),
            minutes="会议研究同意公开",
        ),
        rows((S.APPROVING,), S.APPROVED, {"alice", "bob"}),
    ),
    "schedule": Step(
        ("schedule",),
        lambda dw, item, a: actions.disclosure_schedule(item, actor=a, publish_at=later(120)),
        rows((S.APPROVED, S.SCHEDULED), S.SCHEDULED, STAFF),
    ),
    "delay": Step(
        ("delay",),
        lambda dw, item, a: actions.disclosure_delay(
            item, actor=a, until=later(60 * 24 * 30), reason="待换届工作结束后公开"
        ),
        rows((S.APPROVED, S.SCHEDULED), S.SCHEDULED, {"alice"}),
    ),
    "publish": Step(
        ("publish",),
        lambda dw, item, a: actions.disclosure_publish(item, actor=a),
        rows((S.APPROVED, S.SCHEDULED), S.PUBLISHED, STAFF),
    ),
    "expire": Step(
        ("expire",),
        lambda dw, item, a: actions.disclosure_expire(item, actor=a),
        rows((S.PUBLISHED,), S.EXPIRED, STAFF),
    ),
    "close": Step(
        ("close",),
        lambda dw, item, a: actions.disclosure_close(item, actor=a),
        rows((S.PUBLISHED,), S.CLOSED, STAFF),
    ),
    "withdraw": Step(
        ("withdraw",),
        lambda dw, item, a: actions.disclosure_withdraw(item, actor=a, notice=NOTICE),
        rows((S.PUBLISHED, S.EXPIRED, S.CLOSED), S.WITHDRAWN, {"alice"}),
    ),
    "correct": Step(
        ("correct",),
        lambda dw, item, a: actions.disclosure_correct(item, actor=a, notice=NOTICE),
        rows((S.PUBLISHED, S.EXPIRED, S.CLOSED, S.WITHDRAWN), None, STAFF),
    ),
    "widen": Step(
        ("widen",),
        lambda dw, item, a: actions.scope_widen_propose(
            item, actor=a, audience=Audience(society=True), reason="党内公开期满，拟向社会公开"
        ),
        rows((S.PUBLISHED, S.EXPIRED, S.CLOSED), None, STAFF),
    ),
    "archive": Step(
        ("archive",),
        lambda dw, item, a: actions.disclosure_archive(item, actor=a),
        rows((S.EXPIRED, S.CLOSED, S.WITHDRAWN, S.REJECTED), S.ARCHIVED, STAFF),
    ),
}

# The states a step does not start from that each step is also tried in: ARCHIVED always
# (nothing leaves it), then the first two others of this list; by those who may take the
# step elsewhere and by two who never may.
PROBES = (S.ARCHIVED, S.DRAFT, S.PUBLISHED, S.REVIEWING, S.APPROVED, S.SUBMITTED, S.WITHDRAWN)


def cases() -> list[Any]:
    return list(_cases())


def _cases() -> Iterator[Any]:
    for name, step in STEPS.items():
        for start in step.rows:
            for who in PEOPLE if name in WORKER_STEPS else PEOPLE[:-1]:
                yield pytest.param(name, start, who, id=f"{name}-{start}-{who}")
        # In the other states: those who may take the step, and two who never may.
        for start in [s for s in PROBES if s not in step.rows][:3]:
            for who in (*sorted(step.people()), "charlie", "anonymous"):
                yield pytest.param(name, start, who, id=f"{name}-{start}-{who}")


# --- the starting states, built once per module through the real actions -----------------


def build(dw: DisclosureWorld, state: str) -> Disclosure:
    """A new item walked to `state` the way people would walk it there."""
    item = draft(dw, body=MOBILE_BODY, co_units=[dw.branch2.pk])
    if state == S.DRAFT:
        return item
    item = actions.disclosure_submit(item, actor=dw.bob)
    if state == S.SUBMITTED:
        return item
    item = actions.disclosure_start_review(item, actor=dw.rita)
    if state == S.REVIEWING:
        return item
    if state == S.REFERRED:
        return actions.disclosure_refer(item, actor=dw.rita, question="联系人信息是否涉密")
    if state == S.RETURNED:
        return actions.disclosure_return(item, actor=dw.rita, opinion="数据需再核对")
    if state == S.REJECTED:
        return actions.disclosure_reject(item, actor=dw.rita, reason="不属于公开范围")
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    if state == S.CONFIRMING:
        return item
    item = actions.disclosure_confirm(item, actor=dw.cathy, org=dw.branch2, agree=True)
    if state == S.APPROVING:
        return item
    item = actions.disclosure_approve(item, actor=dw.alice, comment="同意")
    if state == S.APPROVED:
        return item
    if state == S.SCHEDULED:
        return actions.disclosure_schedule(item, actor=dw.bob, publish_at=later(60))
    item = actions.disclosure_publish(item, actor=dw.bob)
    if state == S.PUBLISHED:
        return item
    if state == S.WITHDRAWN:
        return actions.disclosure_withdraw(item, actor=dw.alice, notice=NOTICE)
    item = (
        actions.disclosure_expire(item, actor=dw.bob)
        if state == S.EXPIRED
        else actions.disclosure_close(item, actor=dw.bob)
    )
    if state in (S.EXPIRED, S.CLOSED):
        return item
    assert state == S.ARCHIVED
    return actions.disclosure_archive(item, actor=dw.bob)


@pytest.fixture(scope="module")
def starts(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """The world and one item in every state, shared by the module's tests. The outer
    transaction is rolled back at the end; each test's own savepoint (the `db` fixture)
    undoes what the test did, so every test starts from these very rows."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            dw = make_disclosure_world(make_world())
            items = {state: build(dw, state).pk for state in S.values}
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield dw, items
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


# --- the tests ----------------------------------------------------------------------------


def test_the_starting_states_are_what_they_say(starts, db):
    _dw, items = starts
    for state, pk in items.items():
        assert Disclosure.objects.get(pk=pk).status == state


def test_the_expectations_here_follow_the_transition_table():
    for name, step in STEPS.items():
        for start, (end, _who) in step.rows.items():
            assert any(
                start in TRANSITIONS[row][0] and end in (*TRANSITIONS[row][1], start)
                for row in step.table
            ), (name, start, end)
        # each step is tried from exactly the states its rows of the table start from
        assert set(step.rows) == {s for row in step.table for s in TRANSITIONS[row][0]}, name
    # and every row of the table is exercised
    assert {row for step in STEPS.values() for row in step.table} == set(TRANSITIONS)


@pytest.mark.parametrize(("name", "start", "who"), cases())
def test_each_step_moves_the_item_as_the_table_says_or_changes_nothing(
    starts, db, name, start, who
):
    dw, items = starts
    step = STEPS[name]
    item = Disclosure.objects.get(pk=items[start])
    actor = person(dw, who)
    before = record_of(item)
    logged = item.log.count()
    row = step.rows.get(start)

    if row is not None and who in row[1]:
        step.run(dw, item, actor)
        after = Disclosure.objects.get(pk=item.pk)
        assert after.status == row[0]
        log = list(LogEntry.objects.filter(disclosure=item).order_by("seq"))
        assert len(log) == logged + 1
        assert log[-1].status == row[0]
        assert int(record_of(item)["audit"]) > int(before["audit"])
        return

    with pytest.raises(ActionError) as refused:
        step.run(dw, item, actor)
    if row is not None and who != "system":
        # the right state, the wrong person
        assert isinstance(refused.value, NotAllowed), refused.value.message
    elif row is None and who in step.people():
        # the right person, the wrong state: the state is the reason given
        assert not isinstance(refused.value, NotAllowed)
        assert "不能执行此操作" in refused.value.message
    assert record_of(item) == before


def test_the_system_publishes_only_what_is_scheduled_and_due(starts, db):
    _dw, items = starts
    approved = Disclosure.objects.get(pk=items[S.APPROVED])
    scheduled = Disclosure.objects.get(pk=items[S.SCHEDULED])
    for item in (approved, scheduled):
        before = record_of(item)
        with pytest.raises(ActionError):
            actions.disclosure_publish(item, actor=None)
        assert record_of(item) == before
    assert actions.publish_due(now=timezone.now()) == []
    # An hour later the worker publishes the scheduled item, and only that one.
    future = timezone.now() + datetime.timedelta(hours=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: future)
        assert actions.publish_due() == [scheduled.pk]
    assert Disclosure.objects.get(pk=scheduled.pk).status == S.PUBLISHED
    assert Disclosure.objects.get(pk=approved.pk).status == S.APPROVED


# Right person, right state, wrong input — and some of these fail after the step has
# begun changing the item in memory: still nothing may be left behind.
MIDWAY: dict[str, tuple[str, str, Callable[[DisclosureWorld, Disclosure, Any], object]]] = {
    "refer_without_a_question": (
        S.REVIEWING,
        "rita",
        lambda dw, item, a: actions.disclosure_refer(item, actor=a, question=" "),
    ),
    "referral_answer_without_the_answer": (
        S.REFERRED,
        "rita",
        lambda dw, item, a: actions.disclosure_referral_answer(
            item, actor=a, may_disclose=False, answer=""
        ),
    ),
    "pass_review_without_an_opinion": (
        S.REVIEWING,
        "rita",
        lambda dw, item, a: actions.disclosure_pass_review(
            item, actor=a, **{**OPINIONS, "accuracy": ""}
        ),
    ),
    "pass_review_of_a_risk_without_a_plan": (
        S.REVIEWING,
        "rita",
        lambda dw, item, a: actions.disclosure_pass_review(
            item,
            actor=a,
            **{**OPINIONS, "risks": {**OPINIONS["risks"], "opinion": {"level": "high"}}},
        ),
    ),
    "pass_review_with_an_unknown_risk_level": (
        S.REVIEWING,
        "rita",
        lambda dw, item, a: actions.disclosure_pass_review(
            item, actor=a, **{**OPINIONS, "risks": {}}
        ),
    ),
    "redact_at_stale_offsets": (
        S.REVIEWING,
        "rita",
        lambda dw, item, a: actions.disclosure_redact(item, actor=a, field="body", start=0, end=4),
    ),
    "redact_a_field_that_is_not_screened": (
        S.REVIEWING,
        "rita",
        lambda dw, item, a: actions.disclosure_redact(
            item, actor=a, field="doc_number", start=0, end=1
        ),
    ),
    "return_without_an_opinion": (
        S.APPROVING,
        "alice",
        lambda dw, item, a: actions.disclosure_return(item, actor=a, opinion="改"),
    ),
    "reject_without_a_reason": (
        S.REVIEWING,
        "rita",
        lambda dw, item, a: actions.disclosure_reject(item, actor=a, reason=""),
    ),
    "disagree_without_a_reason": (
        S.CONFIRMING,
        "cathy",
        lambda dw, item, a: actions.disclosure_confirm(item, actor=a, org=dw.branch2, agree=False),
    ),
    "confirm_for_an_org_that_is_no_co_unit": (
        S.CONFIRMING,
        "alice",
        lambda dw, item, a: actions.disclosure_confirm(item, actor=a, org=dw.branch1, agree=True),
    ),
    "collective_decision_without_a_meeting_date": (
        S.APPROVING,
        "bob",
        lambda dw, item, a: actions.disclosure_approve(
            item, actor=a, collective=True, meeting="支部委员会会议", minutes="研究同意公开"
        ),
    ),
    "collective_decision_dated_tomorrow": (
        S.APPROVING,
        "bob",
        lambda dw, item, a: actions.disclosure_approve(
            item,
            actor=a,
            collective=True,
            meeting="支部委员会会议",
            meeting_date=TODAY() + datetime.timedelta(days=1),
            minutes="研究同意公开",
        ),
    ),
    "collective_decision_without_minutes": (
        S.APPROVING,
        "alice",
        lambda dw, item, a: actions.disclosure_approve(
            item, actor=a, collective=True, meeting="支部委员会会议", meeting_date=TODAY()
        ),
    ),
    "schedule_in_the_past": (
        S.APPROVED,
        "bob",
        lambda dw, item, a: actions.disclosure_schedule(item, actor=a, publish_at=later(-60)),
    ),
    "delay_without_a_reason": (
        S.APPROVED,
        "alice",
        lambda dw, item, a: actions.disclosure_delay(item, actor=a, until=later(600), reason=""),
    ),
    "delay_into_the_past": (
        S.SCHEDULED,
        "alice",
        lambda dw, item, a: actions.disclosure_delay(
            item, actor=a, until=later(-5), reason="待换届工作结束后公开"
        ),
    ),
    "edit_to_an_empty_title": (
        S.APPROVED,
        "bob",
        lambda dw, item, a: actions.disclosure_edit(item, actor=a, title="  "),
    ),
    "edit_an_unknown_field": (
        S.SCHEDULED,
        "bob",
        lambda dw, item, a: actions.disclosure_edit(item, actor=a, status="published"),
    ),
    "edit_the_co_units_to_include_the_item_own_org": (
        S.APPROVING,
        "alice",
        lambda dw, item, a: actions.disclosure_edit(item, actor=a, co_units=[dw.branch1.pk]),
    ),
    "edit_to_an_expiry_before_publication": (
        S.DRAFT,
        "bob",
        lambda dw, item, a: actions.disclosure_edit(
            item, actor=a, publish_at=later(60), expire_at=later(30)
        ),
    ),
    "withdraw_without_a_notice": (
        S.PUBLISHED,
        "alice",
        lambda dw, item, a: actions.disclosure_withdraw(item, actor=a, notice="撤回"),
    ),
    "correct_without_a_notice": (
        S.WITHDRAWN,
        "bob",
        lambda dw, item, a: actions.disclosure_correct(item, actor=a, notice=""),
    ),
    "widen_to_a_narrower_audience": (
        S.PUBLISHED,
        "bob",
        lambda dw, item, a: actions.scope_widen_propose(
            item, actor=a, audience=Audience(people=(dw.bob.pk,)), reason="只给鲍勃看"
        ),
    ),
    "catalog_update_of_an_item_from_the_catalog": (
        S.PUBLISHED,
        "bob",
        lambda dw, item, a: actions.disclosure_catalog_update(item, actor=a),
    ),
}


@pytest.mark.parametrize("case", MIDWAY)
def test_a_step_refused_for_its_input_leaves_nothing_half_done(starts, db, case):
    dw, items = starts
    start, who, run = MIDWAY[case]
    item = Disclosure.objects.get(pk=items[start])
    before = record_of(item)
    with pytest.raises(ActionError) as refused:
        run(dw, item, person(dw, who))
    assert not isinstance(refused.value, NotAllowed)
    assert record_of(item) == before
    assert Disclosure.objects.get(pk=item.pk).status == start
