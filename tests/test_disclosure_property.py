"""No sequence of steps publishes what skipped a required step (issue 4).

Hypothesis draws an item (catalog entry or out of catalog, with or without a co-unit,
immediate or delayed, under the bj or nm rule-set) and a random sequence of (step, person)
pairs — edits included, so approvals keep being invalidated — and applies them through the
real actions, ignoring refusals. After every step the record must support the state:

- a refused step changed nothing;
- the item's log is one unbroken hash chain ending in its current state and revision;
- an index number, once given, never changes; a disclosed item stays disclosed;
- an item that was ever published holds, for the published revision, a passed review,
  every co-unit's agreement and an approval of every route step for exactly that content,
  and its content is still that revision's (the audience only as an approved widening
  changed it);
- an item the state calls approved is cleared by the record (clearance_problems).
"""

from __future__ import annotations

import datetime
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from unittest import mock

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from dwgk.audience.keys import Audience
from dwgk.disclosures import actions, prescreen
from dwgk.disclosures.models import (
    GENESIS,
    Approval,
    Attachment,
    CoConfirmation,
    Disclosure,
    Review,
    ScopeChange,
)
from dwgk.lib.errors import ActionError
from tests.disclosure_cast import BODY, OPINIONS, DisclosureWorld, later, record_of

S = Disclosure.Status
NOTICE = "经核实，原公开内容中的数字有误，现予更正。"
DELAY_PROBLEM = "延期公开事项尚未经组织同意延期"
PEOPLE = ("bob", "rita", "alice", "paula", "cathy", "charlie", "dora", "anonymous", "system")


def person(dw: DisclosureWorld, name: str) -> Any:
    if name == "anonymous":
        return AnonymousUser()
    return None if name == "system" else getattr(dw, name)


def _redact(dw: DisclosureWorld, item: Disclosure, actor: Any) -> object:
    found = prescreen.scan(item.body)
    start, end = (found[0].start, found[0].end) if found else (0, 1)
    return actions.disclosure_redact(item, actor=actor, field="body", start=start, end=end)


def _withhold(dw: DisclosureWorld, item: Disclosure, actor: Any) -> object:
    attachment = item.attachments.filter(withheld=False, removed=False).first()
    if attachment is None:
        raise ActionError("没有可处理的附件")
    actions.attachment_withhold(attachment, actor=actor, reason="含个人信息")
    return None


def _decide_widening(dw: DisclosureWorld, item: Disclosure, actor: Any) -> object:
    change = item.scope_changes.filter(status=ScopeChange.Status.PENDING).first()
    if change is None:
        raise ActionError("没有待批准的公开范围调整")
    return actions.scope_widen_decide(change, actor=actor, approve=True, comment="同意")


def _worker(dw: DisclosureWorld, item: Disclosure, actor: Any) -> object:
    """The worker, a month later: publishes what is due, ends what has expired."""
    future = timezone.now() + datetime.timedelta(days=31)
    with mock.patch.object(timezone, "now", lambda: future):
        return actions.publish_due() + actions.expire_due()


def _meeting(**extra: Any) -> dict[str, Any]:
    return {
        "meeting": "支部委员会会议",
        "meeting_date": datetime.date.today(),
        "minutes": "会议研究，同意公开",
        **extra,
    }


STEPS: dict[str, Any] = {
    # content changes: before submission plain edits, after it a return to review
    "edit_title": lambda dw, item, a: actions.disclosure_edit(
        item, actor=a, title=item.title + "（修订）"
    ),
    "edit_secret": lambda dw, item, a: actions.disclosure_edit(
        item, actor=a, body=BODY + "<p>依据机密★1年文件办理。</p>"
    ),
    "edit_phone": lambda dw, item, a: actions.disclosure_edit(
        item, actor=a, body=BODY + "<p>联系电话13812345678。</p>"
    ),
    "edit_co_unit": lambda dw, item, a: actions.disclosure_edit(
        item, actor=a, co_units=[] if item.co_units else [dw.branch2.pk]
    ),
    "edit_delayed": lambda dw, item, a: actions.disclosure_edit(
        item, actor=a, timing_kind="immediate" if item.timing_kind == "delayed" else "delayed"
    ),
    "attach": lambda dw, item, a: actions.attachment_add(
        item, actor=a, name="名单.txt", data="联系人：鲍勃 13812345678".encode()
    ),
    "submit": lambda dw, item, a: actions.disclosure_submit(item, actor=a),
    "start_review": lambda dw, item, a: actions.disclosure_start_review(item, actor=a),
    "redact": _redact,
    "withhold": _withhold,
    "refer": lambda dw, item, a: actions.disclosure_refer(item, actor=a, question="是否涉密？"),
    "referral_yes": lambda dw, item, a: actions.disclosure_referral_answer(
        item, actor=a, may_disclose=True, answer="经确定可以公开"
    ),
    "referral_no": lambda dw, item, a: actions.disclosure_referral_answer(
        item, actor=a, may_disclose=False, answer="经确定不予公开"
    ),
    "pass_review": lambda dw, item, a: actions.disclosure_pass_review(item, actor=a, **OPINIONS),
    "return": lambda dw, item, a: actions.disclosure_return(item, actor=a, opinion="请修改内容"),
    "reject": lambda dw, item, a: actions.disclosure_reject(item, actor=a, reason="不予公开"),
    "agree": lambda dw, item, a: actions.disclosure_confirm(
        item, actor=a, org=dw.branch2, agree=True
    ),
    "disagree": lambda dw, item, a: actions.disclosure_confirm(
        item, actor=a, org=dw.branch2, agree=False, comment="数字有误"
    ),
    "approve": lambda dw, item, a: actions.disclosure_approve(item, actor=a, comment="同意"),
    "approve_collective": lambda dw, item, a: actions.disclosure_approve(
        item, actor=a, **_meeting(collective=True)
    ),
    "schedule": lambda dw, item, a: actions.disclosure_schedule(
        item, actor=a, publish_at=later(120)
    ),
    "delay": lambda dw, item, a: actions.disclosure_delay(
        item, actor=a, until=later(60 * 24 * 7), reason="待换届后公开"
    ),
    "publish": lambda dw, item, a: actions.disclosure_publish(item, actor=a),
    "worker": _worker,
    "expire": lambda dw, item, a: actions.disclosure_expire(item, actor=a),
    "close": lambda dw, item, a: actions.disclosure_close(item, actor=a),
    "withdraw": lambda dw, item, a: actions.disclosure_withdraw(item, actor=a, notice=NOTICE),
    "correct": lambda dw, item, a: actions.disclosure_correct(item, actor=a, notice=NOTICE),
    "widen": lambda dw, item, a: actions.scope_widen_propose(
        item, actor=a, audience=Audience(society=True), reason="拟向社会公开"
    ),
    "decide_widening": _decide_widening,
    "archive": lambda dw, item, a: actions.disclosure_archive(item, actor=a),
    "catalog_update": lambda dw, item, a: actions.disclosure_catalog_update(item, actor=a),
}
EDITS = ("edit_title", "edit_secret", "edit_phone", "edit_co_unit", "edit_delayed", "attach")
# Who would usually take each step: drawn often, so that walks get far.
LIKELY: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(EDITS, ("bob", "alice")),
    **dict.fromkeys(("submit", "schedule", "publish", "expire", "close"), ("bob",)),
    **dict.fromkeys(("archive", "catalog_update", "correct", "widen"), ("bob",)),
    **dict.fromkeys(("start_review", "redact", "withhold", "refer"), ("rita",)),
    **dict.fromkeys(("referral_yes", "referral_no", "pass_review"), ("rita",)),
    **dict.fromkeys(("return", "reject"), ("rita", "alice", "paula")),
    **dict.fromkeys(("agree", "disagree"), ("cathy",)),
    "approve": ("alice", "paula"),
    "approve_collective": ("bob", "alice"),
    "delay": ("alice",),
    "worker": ("system",),
    "withdraw": ("alice",),
    "decide_widening": ("alice", "paula"),
}
# The states each step is worth trying in (a guide for drawing, not the rule under test:
# every step is also drawn in every state, by anyone).
T = actions.TRANSITIONS
FROM: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(EDITS[:-1], T["edit"][0] + T["edit_submitted"][0]),
    "attach": Disclosure.EDITABLE,
    **dict.fromkeys(("redact", "withhold"), T["redact"][0]),
    **dict.fromkeys(("referral_yes", "referral_no"), T["referral_answer"][0]),
    **dict.fromkeys(("agree", "disagree"), T["confirm"][0]),
    **dict.fromkeys(("approve", "approve_collective"), T["approve"][0]),
    "worker": (S.SCHEDULED, S.PUBLISHED),
    "decide_widening": T["widen"][0],
    "catalog_update": Disclosure.DISCLOSED,
    **{name: T[name][0] for name in STEPS if name in T},
}
assert set(LIKELY) == set(STEPS) == set(FROM)
ALL_PAIRS = [(name, who) for name in sorted(STEPS) for who in PEOPLE]


# The step that moves an item on from each state, by whom it usually falls to.
FORWARD: dict[str, tuple[tuple[str, str], ...]] = {
    S.DRAFT: (("submit", "bob"),),
    S.RETURNED: (("submit", "bob"),),
    S.SUBMITTED: (("start_review", "rita"),),
    S.REVIEWING: (("pass_review", "rita"),),
    S.REFERRED: (("referral_yes", "rita"),),
    S.CONFIRMING: (("agree", "cathy"),),
    S.APPROVING: (("approve", "alice"), ("approve", "paula"), ("approve_collective", "bob")),
    S.APPROVED: (("publish", "bob"), ("schedule", "bob"), ("delay", "alice")),
    S.SCHEDULED: (("worker", "system"), ("publish", "bob")),
    S.PUBLISHED: (("widen", "bob"), ("decide_widening", "alice"), ("close", "bob")),
    S.EXPIRED: (("withdraw", "alice"), ("archive", "bob")),
    S.CLOSED: (("archive", "bob"), ("decide_widening", "paula")),
    S.WITHDRAWN: (("archive", "bob"),),
    S.REJECTED: (("archive", "bob"),),
    S.ARCHIVED: (("correct", "bob"),),
}


def next_step(status: str) -> st.SearchStrategy[tuple[str, str]]:
    """Mostly the step that moves the item on; otherwise a step that fits its state (edits,
    returns, referrals …) or any step by anyone."""
    fitting = [
        (name, who) for name, people in LIKELY.items() if status in FROM[name] for who in people
    ]
    anything = st.sampled_from(ALL_PAIRS)
    return st.integers(0, 9).flatmap(
        lambda n: (
            st.sampled_from(FORWARD[status])
            if n < 6
            else (st.sampled_from(fitting) if fitting and n < 8 else anything)
        )
    )


@dataclass(frozen=True)
class Setup:
    entry: str  # "monthly", "escalate", "open" or "none" (out of catalog)
    co_unit: bool
    delayed: bool
    ruleset: str


setups = st.builds(
    Setup,
    entry=st.sampled_from(["monthly", "escalate", "open", "none"]),
    co_unit=st.booleans(),
    delayed=st.booleans(),
    ruleset=st.sampled_from(["bj", "nm"]),
)


def create(dw: DisclosureWorld, setup: Setup) -> Disclosure:
    fields: dict[str, Any] = {"title": "2026年10月党费收缴使用情况", "body": BODY}
    if setup.co_unit:
        fields["co_units"] = [dw.branch2.pk]
    if setup.delayed:
        fields["timing_kind"] = "delayed"
    if setup.entry == "none":
        return actions.disclosure_create(
            dw.branch1, actor=dw.bob, out_of_catalog_reason="群众普遍关心的事项", **fields
        )
    entry = getattr(dw, setup.entry)
    return actions.disclosure_create(dw.branch1, actor=dw.bob, entry=entry, **fields)


# --- the invariants -----------------------------------------------------------------------


@dataclass
class Memory:
    index_no: str | None = None
    published: bool = False
    cleared_digest: str | None = None


def check(item: Disclosure, memory: Memory) -> None:
    item = Disclosure.objects.get(pk=item.pk)
    check_log(item)
    if memory.index_no is not None:
        assert item.index_no == memory.index_no, "an index number changed"
    memory.index_no = item.index_no
    if item.status in Disclosure.DISCLOSED:
        assert item.published_at is not None and item.index_no
    if memory.published:
        assert item.published_at is not None, "a disclosed item was undisclosed"
    if item.published_at is not None:
        if not memory.published:
            # the step that published: remember the digest of what went out
            memory.published = True
            memory.cleared_digest = actions.content_hash(item)
        check_published_record(item, memory)
    if item.status in (S.APPROVED, S.SCHEDULED):
        problems = actions.clearance_problems(item)
        assert set(problems) <= {DELAY_PROBLEM}, problems
        if problems:
            assert item.status == S.APPROVED  # a delayed item is scheduled only with consent


def check_log(item: Disclosure) -> None:
    log = list(item.log.order_by("seq"))
    assert [e.seq for e in log] == list(range(1, len(log) + 1)), "the log has a gap"
    prev = GENESIS
    for entry in log:
        assert entry.prev_hash == prev, f"log entry {entry.seq} does not follow its predecessor"
        assert entry.hash == entry.compute_hash(), f"log entry {entry.seq} was altered"
        prev = entry.hash
    assert (log[-1].status, log[-1].revision) == (item.status, item.revision)


def check_published_record(item: Disclosure, memory: Memory) -> None:
    rev = item.published_revision
    assert rev is not None
    assert item.revision == rev, "published content was changed"
    assert item.reviews.filter(revision=rev, outcome=Review.Outcome.PASSED).exists(), (
        "published without a passed review of the published revision"
    )
    snapshot = item.revisions.get(number=rev).content
    for org_id in snapshot["co_units"]:
        assert CoConfirmation.objects.filter(
            disclosure=item, org_id=org_id, revision=rev, answer=CoConfirmation.Answer.AGREED
        ).exists(), "published without every co-unit's agreement"
    for n, _step in enumerate(item.route):
        approval = Approval.objects.filter(
            disclosure=item, revision=rev, step=n, decision=Approval.Decision.APPROVED
        ).first()
        assert approval is not None, f"published without approval of route step {n}"
        assert approval.content_sha256 == memory.cleared_digest, "approved other content"
    if item.timing_kind == "delayed":
        assert item.delay_consent_at is not None, "delayed without consent"
    # What is out is the published revision, but for when (scheduling) and to whom (an
    # approved widening, SCOPE-2).
    now = item.content()
    widenings = item.scope_changes.filter(status=ScopeChange.Status.APPROVED).order_by("pk")
    if widenings:
        assert widenings[0].old_audience == snapshot["audience"]
        assert now["audience"] == widenings.last().new_audience  # type: ignore[union-attr]
    else:
        assert now["audience"] == snapshot["audience"]
    for name in ("publish_at", "audience"):
        del now[name], snapshot[name]
    assert now == snapshot, "published content differs from the published revision"


# --- the properties -------------------------------------------------------------------------

MAX_STEPS = 24
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Script = tuple[tuple[str, str], ...]


def walk(dw: DisclosureWorld, setup: Setup, script: Script, data: Any, extra: Any = None) -> None:
    """Apply the script — or, without one, steps drawn one by one as the item moves — to a
    new item, inside a transaction that is rolled back so that every example starts from
    the same world."""
    with ExitStack() as stack:
        stack.enter_context(transaction.atomic())
        stack.enter_context(override_settings(CATALOG_RULESET=setup.ruleset))
        item = create(dw, setup)
        memory = Memory()
        check(item, memory)
        length = len(script) if script else data.draw(st.integers(6, MAX_STEPS), label="length")
        for n in range(length):
            status = Disclosure.objects.get(pk=item.pk).status
            name, who = script[n] if script else data.draw(next_step(status), label="step")
            before = record_of(item)
            try:
                STEPS[name](dw, Disclosure.objects.get(pk=item.pk), person(dw, who))
            except ActionError:
                assert record_of(item) == before, f"{name} by {who} was refused half-done"
            check(item, memory)
            if extra is not None:
                extra(item)
        event("published" if memory.published else "never published")
        event(f"ended {Disclosure.objects.get(pk=item.pk).status}")
        transaction.set_rollback(True)


@SETTINGS
@given(setup=setups, script=st.just(()), data=st.data())
@example(
    setup=Setup("escalate", co_unit=True, delayed=True, ruleset="bj"),
    data=None,
    script=(
        ("submit", "bob"),
        ("start_review", "rita"),
        ("pass_review", "rita"),
        ("agree", "cathy"),
        ("approve_collective", "alice"),
        ("approve", "paula"),
        ("edit_title", "bob"),  # invalidates everything
        ("publish", "bob"),
        ("start_review", "rita"),
        ("pass_review", "rita"),
        ("agree", "cathy"),
        ("approve_collective", "bob"),
        ("approve", "paula"),
        ("publish", "bob"),
        ("delay", "alice"),
        ("worker", "system"),
        ("widen", "bob"),
        ("decide_widening", "paula"),
        ("withdraw", "alice"),
        ("archive", "bob"),
    ),
)
@example(
    setup=Setup("none", co_unit=False, delayed=False, ruleset="nm"),
    data=None,
    script=(
        ("attach", "bob"),
        ("submit", "bob"),
        ("start_review", "rita"),
        ("withhold", "rita"),
        ("pass_review", "rita"),
        ("approve", "alice"),
        ("approve", "paula"),
        ("publish", "bob"),
        ("catalog_update", "bob"),
    ),
)
def test_no_sequence_of_steps_publishes_what_the_record_does_not_support(dw, setup, script, data):
    walk(dw, setup, script, data)


def check_someone_can_act(item: Disclosure) -> None:
    """Liveness: an item waiting for co-units or for an approval can get it."""
    item = Disclosure.objects.get(pk=item.pk)
    if item.status == S.CONFIRMING:
        assert item.co_confirmations.filter(
            revision=item.revision, answer=CoConfirmation.Answer.PENDING
        ).exists(), "CONFIRMING with no co-unit left to answer"
    if item.status == S.APPROVING:
        assert not item.approvals.filter(
            revision=item.revision, step=item.step, decision=Approval.Decision.APPROVED
        ).exists(), "APPROVING a step that is already approved for this revision"


@SETTINGS
@given(setup=setups, script=st.just(()), data=st.data())
@example(
    setup=Setup("monthly", co_unit=True, delayed=False, ruleset="bj"),
    data=None,
    script=(
        ("submit", "bob"),
        ("start_review", "rita"),
        ("pass_review", "rita"),
        ("disagree", "cathy"),
        ("submit", "bob"),
        ("start_review", "rita"),
        ("pass_review", "rita"),
    ),
)
def test_an_item_waiting_for_others_can_always_get_their_answer(dw, setup, script, data):
    walk(dw, setup, script, data, extra=check_someone_can_act)


def test_the_attachment_step_really_attaches(dw):
    """(The property's alphabet is only as good as its steps: the text attachment is
    accepted, counted in the content and seen by the pre-screen.)"""
    item = STEPS["attach"](dw, create(dw, Setup("monthly", False, False, "bj")), dw.bob)
    assert isinstance(item, Attachment)
    found = actions.prescreen_item(item.disclosure)
    assert [f["label"] for f in found] == ["手机号码"]
