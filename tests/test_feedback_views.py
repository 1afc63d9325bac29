"""The feedback screens (意见反馈, PROC-5), view by view: the feedback section of the item
page and its opinion form (with the honeypot, the signed minimum fill time and the rate
limit), the organization's handling inbox, recording an offline opinion, one opinion's page
with its handling steps, and "我的意见". For each: anonymous → login (or 404 for what was
not disclosed to them), wrong person → 404 for what they cannot see and 403 for steps they
may not take, right person → done, and nothing for an item not (or no longer) published.

The cast (tests/disclosure_cast.py): bob is the clerk of 第一党支部, rita its reviewer,
alice its principal; paula the principal of the community above it; cathy the clerk of
第二党支部; charlie a plain member of 第二党支部; dora a resident, not a party member;
ming (made here) a plain member of 第一党支部.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from dwgk.accounts.models import User
from dwgk.disclosures import actions as disclosure_actions
from dwgk.disclosures.models import Disclosure
from dwgk.feedback import actions
from dwgk.feedback.forms import issue_token
from dwgk.feedback.models import Opinion
from dwgk.inbox.models import Notification
from tests.cast import make_member
from tests.disclosure_cast import DisclosureWorld, draft, published, through_review

S = Opinion.Status
TEXT = "建议把党费使用明细再公布得细一些。"
REPLY = "下月起按季度公布党费使用明细。"
UNREAD = 'class="badge unread-mark">未读'


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ming(dw: DisclosureWorld) -> User:
    """A plain member of branch1: sees the branch's party items, holds no role."""
    return make_member("ming", dw.branch1, name="小明")


@pytest.fixture
def society(dw: DisclosureWorld) -> Disclosure:
    """branch1's work plan, disclosed to society."""
    item = through_review(dw, draft(dw, entry=dw.open, title="2027年支部工作计划"))
    return disclosure_actions.disclosure_publish(item, actor=dw.bob)


@pytest.fixture
def party(dw: DisclosureWorld) -> Disclosure:
    """branch1's party-fee report, disclosed to the party members of branch1 only."""
    return published(dw, title="2026年10月党费收缴使用情况")


def url(name: str, *args: Any) -> str:
    return reverse(f"feedback:{name}", args=args)


def item_url(item: Disclosure) -> str:
    return reverse("disclosures:detail", args=[item.pk])


def as_user(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def html(response: Any) -> str:
    return str(response.content.decode())


def aged_token(item: Disclosure, seconds: int = 60) -> str:
    """A form token issued `seconds` ago: long enough for a person to have typed."""
    return issue_token(item.pk, now=time.time() - seconds)


def leave(client: Client, item: Disclosure, text: str = TEXT, **fields: Any) -> Any:
    """Post the opinion form of an item as a person would, some time after opening it."""
    data = {"text": text, "homepage": "", "token": aged_token(item), **fields}
    return client.post(url("submit", item.pk), data)


def record_letter(dw: DisclosureWorld, item: Disclosure, **fields: Any) -> Opinion:
    fields.setdefault("text", "来信建议增加党员活动安排。")
    fields.setdefault("submitter_name", "王大爷")
    fields.setdefault("contact", "湖滨路1号")
    return actions.opinion_record(item, actor=dw.bob, channel="letter", **fields)


def named_by(item: Disclosure, who: User, text: str = TEXT) -> Opinion:
    return actions.opinion_submit(
        item, user_or_anonymous=who, text=text, named=True, ip="203.0.113.7"
    )


def anonymous_on(item: Disclosure, text: str = TEXT) -> Opinion:
    return actions.opinion_submit(
        item, user_or_anonymous=AnonymousUser(), text=text, named=False, ip="203.0.113.8"
    )


def replied(dw: DisclosureWorld, op: Opinion, reply: str = REPLY) -> Opinion:
    return actions.opinion_reply(op, actor=dw.bob, reply=reply)


def row(op: Opinion) -> dict[str, Any]:
    return dict(Opinion.objects.filter(pk=op.pk).values().get())


def fresh(op: Opinion) -> Opinion:
    return Opinion.objects.get(pk=op.pk)


def typed_text(page: str) -> str:
    """What the opinion textarea holds on a re-rendered page."""
    found = re.search(r'<textarea[^>]*name="text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "the page has no opinion textarea"
    return found.group(1).strip()


def token_in(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, "the page has no form token"
    return found.group(1)


# --- the item page's feedback section -------------------------------------------------------


def test_the_item_page_offers_anonymous_visitors_the_form_on_a_society_item(society):
    page = html(as_user(None).get(item_url(society)))
    assert 'id="feedback"' in page and 'id="opinion-form"' in page
    assert url("submit", society.pk) in page
    assert 'name="named"' not in page  # a visitor cannot sign
    assert "您未登录，意见将匿名提交" in page
    # The honeypot is there, hidden by the style sheet, and a signed timestamp.
    assert re.search(r'<div class="hp" aria-hidden="true">.*name="homepage"', page, re.S)
    assert token_in(page)


def test_the_item_page_lets_a_member_sign_or_stay_anonymous(party, ming):
    page = html(as_user(ming).get(item_url(party)))
    assert 'name="named"' in page and "署名反映" in page and "匿名反映" in page
    assert url("mine") in page


def test_the_item_page_has_no_feedback_section_before_publication(dw):
    item = draft(dw, entry=dw.open, title="尚未公开的计划")
    page = html(as_user(dw.bob).get(item_url(item)))
    assert 'id="feedback"' not in page and url("submit", item.pk) not in page


def test_the_item_page_offers_the_handling_staff_their_inbox_but_not_readers(dw, party, ming):
    page = html(as_user(dw.bob).get(item_url(party)))
    assert url("org", dw.branch1.pk) in page and url("record", dw.branch1.pk) in page
    page = html(as_user(ming).get(item_url(party)))
    assert url("org", dw.branch1.pk) not in page and url("record", dw.branch1.pk) not in page


def test_published_opinions_appear_with_their_replies_but_never_with_who_sent_them(
    dw, society, ming
):
    letter = record_letter(dw, society)
    actions.opinion_confirm_told(
        replied(dw, letter, "已在计划中增加主题党日。"), actor=dw.bob, how="回信告知"
    )
    actions.opinion_publish(letter, actor=dw.bob, published=True)
    mine = replied(dw, named_by(society, ming, "工作计划写得很清楚，支持。"), "感谢支持。")
    actions.opinion_publish(mine, actor=dw.bob, published=True)
    for viewer in (None, dw.dora, dw.charlie, dw.bob, dw.rita, dw.alice, dw.cathy, dw.paula):
        page = html(as_user(viewer).get(item_url(society)))
        assert "来信建议增加党员活动安排。" in page and "已在计划中增加主题党日。" in page
        assert "工作计划写得很清楚，支持。" in page and "感谢支持。" in page
        for identity in ("王大爷", "湖滨路1号", "小明"):
            assert identity not in page, (viewer, identity)


def test_opinions_not_published_stay_off_the_item_page_even_for_the_staff(dw, society, ming):
    replied(dw, named_by(society, ming, "这条意见还没有公开。"))
    for viewer in (None, ming, dw.bob):
        page = html(as_user(viewer).get(item_url(society)))
        assert "这条意见还没有公开。" not in page and REPLY not in page
        assert "暂无公开的意见和办理结果" in page


def test_a_withdrawn_item_shows_no_opinions_and_takes_none(dw, society):
    op = replied(dw, anonymous_on(society, "撤回前公开的意见。"))
    actions.opinion_publish(op, actor=dw.bob, published=True)
    disclosure_actions.disclosure_withdraw(society, actor=dw.alice, notice="数据有误，已撤回更正。")
    page = html(as_user(None).get(item_url(society)))
    assert "数据有误，已撤回更正。" in page
    assert "撤回前公开的意见。" not in page and 'id="feedback"' not in page
    assert leave(as_user(None), society).status_code == 404
    assert Opinion.objects.count() == 1


# --- leaving an opinion ---------------------------------------------------------------------


def test_an_anonymous_visitor_leaves_an_opinion_on_a_society_item(society):
    client = as_user(None)
    response = leave(client, society)
    assert response.status_code == 302
    assert response["Location"] == item_url(society) + "#feedback"
    op = Opinion.objects.get()
    assert (op.named, op.submitter, op.channel, op.text) == (False, None, "platform", TEXT)
    assert "您的意见已提交" in html(client.get(response["Location"]))


def test_anonymous_visitors_cannot_comment_on_a_party_only_item(party):
    client = as_user(None)
    assert client.get(url("submit", party.pk)).status_code == 404
    assert leave(client, party).status_code == 404
    assert not Opinion.objects.exists()


def test_a_member_leaves_a_named_opinion_and_is_told_where_to_follow_it(party, ming):
    client = as_user(ming)
    response = leave(client, party, named="1")
    assert response.status_code == 302
    op = Opinion.objects.get()
    assert (op.named, op.submitter) == (True, ming)
    assert "我的意见" in html(client.get(response["Location"]))


def test_a_member_may_leave_an_anonymous_opinion_on_a_party_item(party, ming):
    assert leave(as_user(ming), party, named="0").status_code == 302
    op = Opinion.objects.get()
    assert (op.named, op.submitter) == (False, None)


def test_a_member_must_choose_named_or_anonymous(party, ming):
    response = leave(as_user(ming), party)
    assert response.status_code == 400
    assert "请选择署名反映或匿名反映" in html(response)
    assert not Opinion.objects.exists()


def test_charlie_cannot_comment_on_branch1s_party_item(party, dw):
    client = as_user(dw.charlie)
    assert client.get(url("submit", party.pk)).status_code == 404
    assert leave(client, party, named="1").status_code == 404
    assert not Opinion.objects.exists()


def test_nobody_comments_on_an_unpublished_item_not_even_its_staff(dw):
    item = draft(dw, entry=dw.open)
    for who in (None, dw.bob):
        assert as_user(who).get(url("submit", item.pk)).status_code == 404
        assert leave(as_user(who), item, named="1").status_code == 404
    assert not Opinion.objects.exists()


def test_the_opinion_form_page_works_on_its_own(society):
    page = html(as_user(None).get(url("submit", society.pk)))
    assert "2027年支部工作计划" in page and token_in(page)


def test_a_filled_honeypot_is_refused_and_the_text_kept(society):
    response = leave(as_user(None), society, homepage="http://spam.example")
    assert response.status_code == 400
    page = html(response)
    assert "提交失败，请稍后再试。" in page and typed_text(page) == TEXT
    assert not Opinion.objects.exists()


def test_a_too_fast_submission_is_refused_and_the_text_kept_and_sent_again_later(
    society, monkeypatch
):
    client = as_user(None)
    token = token_in(html(client.get(item_url(society))))
    data = {"text": TEXT, "homepage": "", "token": token}
    response = client.post(url("submit", society.pk), data)
    assert response.status_code == 400
    page = html(response)
    assert "提交过快" in page and typed_text(page) == TEXT
    assert token_in(page) == token  # kept: it will be old enough when sent again
    assert not Opinion.objects.exists()
    # The person waits a moment and sends the same form again.
    later = time.time() + 10
    monkeypatch.setattr("dwgk.feedback.forms.time", SimpleNamespace(time=lambda: later))
    assert client.post(url("submit", society.pk), data).status_code == 302
    assert Opinion.objects.count() == 1


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("forged-token", "表单已失效"),
        ("other-item", "表单已失效"),
        ("two-days-old", "表单已过期"),
        ("", "表单已失效"),
    ],
)
def test_a_bad_or_stale_token_is_refused_with_a_fresh_one_and_the_text_kept(
    society, token, message
):
    tokens = {
        "other-item": issue_token(society.pk + 1000, now=time.time() - 60),
        "two-days-old": issue_token(society.pk, now=time.time() - 2 * 24 * 3600),
    }
    response = leave(as_user(None), society, token=tokens.get(token, token))
    assert response.status_code == 400
    page = html(response)
    assert message in page and typed_text(page) == TEXT
    assert token_in(page) != tokens.get(token, token)
    assert not Opinion.objects.exists()


@override_settings(FEEDBACK_ANON_LIMIT=(1, 3600))
def test_the_rate_limit_refuses_with_a_message_and_keeps_the_text(society):
    client = as_user(None)
    assert leave(client, society, "第一条意见的内容").status_code == 302
    response = leave(client, society, "第二条意见的内容")
    assert response.status_code == 400
    page = html(response)
    assert "提交过于频繁" in page and typed_text(page) == "第二条意见的内容"
    assert Opinion.objects.count() == 1


@pytest.mark.parametrize("text", ["短", "长" * 2001])
def test_a_too_short_or_too_long_opinion_is_refused_and_kept(society, text):
    response = leave(as_user(None), society, text)
    assert response.status_code == 400
    page = html(response)
    assert "意见内容" in page and typed_text(page) == text
    assert not Opinion.objects.exists()


def test_the_same_opinion_twice_is_refused(society, ming):
    client = as_user(ming)
    assert leave(client, society, named="1").status_code == 302
    response = leave(client, society, named="1")
    assert response.status_code == 400 and "请勿重复提交" in html(response)
    assert Opinion.objects.count() == 1


def test_csrf_is_checked_on_the_opinion_form(society):
    client = Client(enforce_csrf_checks=True)
    data = {"text": TEXT, "homepage": "", "token": aged_token(society)}
    assert client.post(url("submit", society.pk), data).status_code == 403
    assert not Opinion.objects.exists()
    # With the token of the page it was opened from, it goes through.
    page = html(client.get(item_url(society)))
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf
    data["csrfmiddlewaretoken"] = csrf.group(1)
    assert client.post(url("submit", society.pk), data).status_code == 302
    assert Opinion.objects.count() == 1


# --- the handling inbox ---------------------------------------------------------------------


def test_the_inbox_sends_anonymous_visitors_to_log_in(dw):
    response = as_user(None).get(url("org", dw.branch1.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["charlie", "cathy", "paula", "dora", "ming"])
def test_the_inbox_is_refused_to_people_without_a_staff_role_there(dw, party, ming, who):
    record_letter(dw, party)
    response = as_user(getattr(dw, who, None) or ming).get(url("org", dw.branch1.pk))
    assert response.status_code == 403
    page = html(response)
    assert "王大爷" not in page and "来信建议增加党员活动安排。" not in page


@pytest.mark.parametrize("who", ["bob", "alice", "rita"])
def test_the_inbox_lists_opinions_with_item_channel_submitter_and_due_date(dw, party, ming, who):
    op = named_by(party, ming)
    record_letter(dw, party)
    page = html(as_user(getattr(dw, who)).get(url("org", dw.branch1.pk)))
    assert TEXT[:20] in page and "来信建议增加党员活动安排。" in page
    assert party.title in page and "网络留言" in page and "来信" in page
    assert "小明" in page and "王大爷" in page and "湖滨路1号" in page
    assert f"{timezone.localtime(op.due_at):%Y-%m-%d}" in page
    assert url("detail", op.pk) in page


def test_the_inbox_filters_by_state_and_by_who_still_has_to_be_told(dw, party, ming):
    replied(dw, record_letter(dw, party, text="来信反映公示时间太短。"))
    named_by(party, ming, "新提出的一条意见。")
    client = as_user(dw.bob)
    page = html(client.get(url("org", dw.branch1.pk) + "?status=new"))
    assert "新提出的一条意见。" in page and "来信反映公示时间太短。" not in page
    page = html(client.get(url("org", dw.branch1.pk) + "?status=tell"))
    assert "来信反映公示时间太短。" in page and "新提出的一条意见。" not in page
    page = html(client.get(url("org", dw.branch1.pk) + "?status=closed"))
    assert "没有这一状态的意见" in page


def test_the_inbox_holds_only_that_orgs_opinions(dw, party, ming):
    named_by(party, ming)
    page = html(as_user(dw.cathy).get(url("org", dw.branch2.pk)))
    assert "本组织还没有收到意见" in page and "小明" not in page


# --- recording an offline opinion -----------------------------------------------------------


def test_recording_sends_anonymous_visitors_to_log_in(dw):
    response = as_user(None).get(url("record", dw.branch1.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["rita", "charlie", "cathy", "ming"])
def test_recording_is_refused_to_people_who_do_not_handle_opinions_there(dw, party, ming, who):
    client = as_user(getattr(dw, who, None) or ming)
    assert client.get(url("record", dw.branch1.pk)).status_code == 403
    data = {"item": party.pk, "channel": "hotline", "text": "冒充登记的意见。"}
    assert client.post(url("record", dw.branch1.pk), data).status_code == 403
    assert not Opinion.objects.exists()


def test_the_clerk_records_a_hotline_opinion(dw, party):
    client = as_user(dw.bob)
    page = html(client.get(url("record", dw.branch1.pk) + f"?item={party.pk}"))
    assert party.title in page and "热线电话" in page and "网络留言" not in page
    data = {
        "item": party.pk,
        "channel": "hotline",
        "text": "来电反映党费公示时间太短。",
        "submitter_name": "王大爷",
        "contact": "13812345678",
    }
    response = client.post(url("record", dw.branch1.pk), data)
    op = Opinion.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", op.pk)
    assert (op.channel, op.recorded_by, op.named, op.contact) == (
        "hotline",
        dw.bob,
        True,
        "13812345678",
    )


def test_recording_offers_no_unpublished_item_and_refuses_one(dw, party):
    unpublished = draft(dw, title="尚未公开的党费情况")
    client = as_user(dw.bob)
    page = html(client.get(url("record", dw.branch1.pk)))
    assert party.title in page and "尚未公开的党费情况" not in page
    data = {"item": unpublished.pk, "channel": "letter", "text": "来信反映的意见内容。"}
    response = client.post(url("record", dw.branch1.pk), data)
    assert response.status_code == 400 and "请选择本组织已公开" in html(response)
    assert not Opinion.objects.exists()


def test_a_named_record_without_a_contact_is_refused_with_what_was_typed(dw, party):
    data = {
        "item": party.pk,
        "channel": "letter",
        "text": "来信反映的意见内容。",
        "submitter_name": "张三",
    }
    response = as_user(dw.bob).post(url("record", dw.branch1.pk), data)
    assert response.status_code == 400
    page = html(response)
    assert "联系方式" in page and "来信反映的意见内容。" in page and 'value="张三"' in page
    assert not Opinion.objects.exists()


# --- one opinion's page ---------------------------------------------------------------------


def test_an_opinion_page_sends_anonymous_visitors_to_log_in(dw, society):
    op = anonymous_on(society)
    response = as_user(None).get(url("detail", op.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["charlie", "dora", "cathy", "paula", "other"])
def test_an_opinion_page_is_a_404_for_everybody_but_its_handlers_and_submitter(
    dw, society, ming, who
):
    op = replied(dw, named_by(society, ming))
    actions.opinion_publish(op, actor=dw.bob, published=True)  # published: still not theirs
    viewer = make_member("other", dw.branch1) if who == "other" else getattr(dw, who)
    assert as_user(viewer).get(url("detail", op.pk)).status_code == 404


@pytest.mark.parametrize("who", ["bob", "alice", "rita"])
def test_the_staff_see_the_whole_opinion_with_its_submitter(dw, party, who):
    op = record_letter(dw, party)
    page = html(as_user(getattr(dw, who)).get(url("detail", op.pk)))
    assert "来信建议增加党员活动安排。" in page and "王大爷" in page and "湖滨路1号" in page
    assert "来信" in page and party.title in page


def test_only_those_who_handle_are_offered_the_steps(dw, party, ming):
    op = named_by(party, ming)
    page = html(as_user(dw.bob).get(url("detail", op.pk)))
    for step in ("assign", "reply", "reject"):
        assert url(step, op.pk) in page
    assert url("close", op.pk) not in page and url("publish", op.pk) not in page
    page = html(as_user(dw.rita).get(url("detail", op.pk)))
    assert "您目前没有需要办理的步骤" in page and url("reply", op.pk) not in page
    page = html(as_user(ming).get(url("detail", op.pk)))
    assert 'id="workflow"' not in page


def test_the_named_submitter_sees_their_opinion_its_state_and_the_reply(dw, party, ming):
    op = named_by(party, ming)
    page = html(as_user(ming).get(url("detail", op.pk)))
    assert TEXT in page and "待处理" in page and "尚未答复" in page
    replied(dw, op)
    page = html(as_user(ming).get(url("detail", op.pk)))
    assert REPLY in page and "已答复" in page


def test_the_named_submitter_is_told_why_an_opinion_was_not_taken_up(dw, party, ming):
    op = actions.opinion_reject(named_by(party, ming), actor=dw.bob, reason="与本事项无关")
    note = Notification.objects.get(user=ming)
    assert "不予受理" in note.text and note.url == url("detail", op.pk)
    page = html(as_user(ming).get(url("detail", op.pk)))
    assert "不予受理" in page and "与本事项无关" in page


# --- the handling steps ---------------------------------------------------------------------

# Each step with the post that would do it on a new opinion (or on an answered one).
STEP_POSTS: list[tuple[str, dict[str, Any], bool]] = [
    ("assign", {"assignee": "alice"}, False),
    ("reply", {"text": REPLY}, False),
    ("reject", {"text": "广告信息"}, False),
    ("tell", {"text": "电话告知"}, True),
    ("close", {}, True),
    ("publish", {"text": REPLY}, True),
    ("unpublish", {}, True),
]


def opinion_for_step(dw: DisclosureWorld, item: Disclosure, step: str) -> Opinion:
    if step == "tell":
        return replied(dw, record_letter(dw, item, text="来信反映公示时间太短。"))
    if step in ("close", "publish"):
        return replied(dw, anonymous_on(item))
    if step == "unpublish":
        return actions.opinion_publish(
            replied(dw, anonymous_on(item)), actor=dw.bob, published=True
        )
    return anonymous_on(item)


def step_data(dw: DisclosureWorld, data: dict[str, Any]) -> dict[str, Any]:
    return {k: (getattr(dw, v).pk if k == "assignee" else v) for k, v in data.items()}


@pytest.mark.parametrize(("step", "data", "_"), STEP_POSTS)
def test_every_step_sends_anonymous_visitors_to_log_in(dw, society, step, data, _):
    op = opinion_for_step(dw, society, step)
    before = row(op)
    response = as_user(None).post(url(step, op.pk), step_data(dw, data))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert row(op) == before


@pytest.mark.parametrize(("step", "data", "_"), STEP_POSTS)
def test_every_step_is_a_404_for_people_who_cannot_see_the_opinion(dw, society, step, data, _):
    op = opinion_for_step(dw, society, step)
    before = row(op)
    for who in (dw.charlie, dw.cathy, dw.paula):
        assert as_user(who).post(url(step, op.pk), step_data(dw, data)).status_code == 404
    assert row(op) == before


@pytest.mark.parametrize(("step", "data", "_"), STEP_POSTS)
def test_every_step_is_refused_to_staff_who_do_not_handle_opinions(dw, society, step, data, _):
    op = opinion_for_step(dw, society, step)
    before = row(op)
    response = as_user(dw.rita).post(url(step, op.pk), step_data(dw, data))
    assert response.status_code == 403
    assert row(op) == before


def test_the_submitter_cannot_handle_their_own_opinion(dw, society, ming):
    op = named_by(society, ming)
    before = row(op)
    for step, data in (("reply", {"text": "自问自答五个字"}), ("reject", {"text": "不要了"})):
        assert as_user(ming).post(url(step, op.pk), data).status_code == 403
    assert row(op) == before


@pytest.mark.parametrize(("step", "data", "answered"), STEP_POSTS)
def test_every_step_is_done_by_the_clerk(dw, society, step, data, answered):
    op = opinion_for_step(dw, society, step)
    response = as_user(dw.bob).post(url(step, op.pk), step_data(dw, data))
    assert response.status_code == 302 and response["Location"] == url("detail", op.pk)
    op = fresh(op)
    expected = {
        "assign": lambda: op.status == S.ASSIGNED and op.assignee == dw.alice,
        "reply": lambda: op.status == S.REPLIED and op.reply == REPLY,
        "reject": lambda: op.status == S.REJECTED and op.reject_reason == "广告信息",
        "tell": lambda: op.told_how == "电话告知" and not op.must_tell,
        "close": lambda: op.status == S.CLOSED,
        "publish": lambda: op.published and op.published_reply == REPLY,
        "unpublish": lambda: not op.published,
    }
    assert expected[step](), step


def test_an_opinion_is_handled_through_the_screens_and_its_submitter_told(dw, party, ming):
    op = named_by(party, ming)
    bob, alice = as_user(dw.bob), as_user(dw.alice)
    assert bob.post(url("assign", op.pk), {"assignee": dw.alice.pk}).status_code == 302
    assert alice.post(url("reply", op.pk), {"text": REPLY}).status_code == 302
    note = Notification.objects.get(user=ming)
    assert REPLY in note.text and note.url == url("detail", op.pk)
    assert bob.post(url("close", op.pk)).status_code == 302
    assert bob.post(url("publish", op.pk), {"text": REPLY}).status_code == 302
    assert fresh(op).status == S.CLOSED and fresh(op).published
    page = html(as_user(ming).get(item_url(party)))
    assert TEXT in page and REPLY in page
    assert bob.post(url("unpublish", op.pk)).status_code == 302
    assert TEXT not in html(as_user(ming).get(item_url(party)))


def test_a_named_offline_opinion_is_closed_only_after_the_submitter_was_told(dw, party):
    op = replied(dw, record_letter(dw, party))
    client = as_user(dw.bob)
    page = html(client.get(url("detail", op.pk)))
    assert url("tell", op.pk) in page and url("close", op.pk) not in page
    before = row(op)
    response = client.post(url("close", op.pk))
    assert response.status_code == 400 and "告知反映人" in html(response)
    assert row(op) == before
    assert client.post(url("tell", op.pk), {"text": "回信告知"}).status_code == 302
    assert client.post(url("close", op.pk)).status_code == 302
    assert fresh(op).status == S.CLOSED


def test_a_failed_step_leaves_the_opinion_as_it_was_and_keeps_what_was_typed(dw, society):
    op = anonymous_on(society, "请联系我，电话13812345678。")
    client = as_user(dw.bob)
    before = row(op)
    response = client.post(url("reply", op.pk), {"text": "短"})
    assert response.status_code == 400
    assert "办理结果至少需要" in html(response) and "短</textarea>" in html(response)
    assert row(op) == before
    # Out of order: nothing to close or publish before a reply.
    for step in ("close", "publish"):
        response = client.post(url(step, op.pk), {"text": REPLY})
        assert response.status_code == 400 and "不能执行此操作" in html(response)
        assert row(op) == before
    # Personal data is never published with the item.
    op = replied(dw, op, "已电话联系您。")
    before = row(op)
    response = client.post(url("publish", op.pk), {"text": "已电话联系您。"})
    assert response.status_code == 400 and "手机号码1处" in html(response)
    assert row(op) == before


def test_assigning_to_someone_outside_the_staff_is_refused(dw, society, ming):
    op = anonymous_on(society)
    before = row(op)
    for who in (ming, dw.cathy):
        response = as_user(dw.bob).post(url("assign", op.pk), {"assignee": who.pk})
        assert response.status_code == 400 and "党务公开工作人员" in html(response)
    assert row(op) == before


def test_nothing_is_published_with_an_item_that_was_withdrawn(dw, society):
    op = replied(dw, anonymous_on(society))
    disclosure_actions.disclosure_withdraw(society, actor=dw.alice, notice="数据有误，已撤回更正。")
    before = row(op)
    page = html(as_user(dw.bob).get(url("detail", op.pk)))
    assert url("publish", op.pk) not in page
    response = as_user(dw.bob).post(url("publish", op.pk), {"text": REPLY})
    assert response.status_code == 400 and "撤回" in html(response)
    assert row(op) == before


def test_csrf_is_checked_on_the_steps(dw, society):
    op = anonymous_on(society)
    client = Client(enforce_csrf_checks=True)
    client.force_login(dw.bob)
    assert client.post(url("reply", op.pk), {"text": REPLY}).status_code == 403
    assert fresh(op).status == S.NEW


# --- my opinions ----------------------------------------------------------------------------


def test_my_opinions_send_anonymous_visitors_to_log_in():
    response = as_user(None).get(url("mine"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_my_opinions_hold_only_my_named_opinions(dw, society, ming):
    named_by(society, ming, "我署名提出的意见。")
    actions.opinion_submit(
        society, user_or_anonymous=ming, text="我匿名提出的意见。", named=False, ip="203.0.113.9"
    )
    page = html(as_user(ming).get(url("mine")))
    assert "我署名提出的意见。" in page and "我匿名提出的意见。" not in page
    for other in (dw.charlie, dw.bob):
        page = html(as_user(other).get(url("mine")))
        assert "我署名提出的意见。" not in page and "您还没有署名提出过意见" in page


def test_my_opinions_mark_replies_not_yet_read_until_opened(dw, party, ming):
    op = named_by(party, ming)
    client = as_user(ming)
    page = html(client.get(url("mine")))
    assert "待处理" in page and UNREAD not in page
    replied(dw, op)
    page = html(client.get(url("mine")))
    assert REPLY in page and UNREAD in page and "1 条新的办理结果" in page
    assert Notification.objects.filter(user=ming, read_at__isnull=True).count() == 1
    assert client.get(url("detail", op.pk)).status_code == 200  # opening it reads it
    page = html(client.get(url("mine")))
    assert REPLY in page and UNREAD not in page
    assert not Notification.objects.filter(user=ming, read_at__isnull=True).exists()


def test_an_opinion_on_an_item_withdrawn_later_stays_in_my_opinions(dw, society, ming):
    op = replied(dw, named_by(society, ming))
    disclosure_actions.disclosure_withdraw(society, actor=dw.alice, notice="数据有误，已撤回更正。")
    page = html(as_user(ming).get(url("mine")))
    assert TEXT in page and REPLY in page
    assert as_user(ming).get(url("detail", op.pk)).status_code == 200


# --- in a real browser ----------------------------------------------------------------------


@pytest.fixture
def browser_world(transactional_db: None, dw: DisclosureWorld) -> dict[str, int]:
    # The ORM is used only here, never inside Playwright's event loop.
    item = through_review(dw, draft(dw, entry=dw.open, title="2027年支部工作计划"))
    item = disclosure_actions.disclosure_publish(item, actor=dw.bob)
    return {"item": item.pk, "branch1": dw.branch1.pk}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_visitors_opinion_is_sent_answered_and_published_in_a_real_browser(
    browser_world, live_server
):
    """Without any script: a visitor types an opinion and sends it at once (refused as too
    fast, the text kept), sends it again a moment later; the clerk answers it from the
    inbox and publishes it; the visitor then reads it on the item page, with no name."""
    from tests.browser import chromium_page

    base = live_server.url
    item_page = f"{base}/disclosures/{browser_world['item']}/"
    with chromium_page(width=1280) as (page, errors):
        page.goto(item_page + "#feedback")
        honeypot = page.locator("#feedback-homepage").bounding_box()
        assert honeypot is not None and honeypot["x"] < 0  # off screen for people
        page.get_by_label("意见内容").fill(TEXT)
        page.get_by_role("button", name="提交意见").click()
        assert "提交过快" in page.locator("#feedback-error").inner_text()
        assert page.get_by_label("意见内容").input_value() == TEXT
        time.sleep(3.2)  # FEEDBACK_MIN_FILL_SECONDS
        page.get_by_role("button", name="提交意见").click()
        page.wait_for_url(item_page + "#feedback")
        assert "您的意见已提交" in page.locator(".messages").inner_text()

        page.goto(f"{base}/accounts/login/")
        page.get_by_label("用户名").fill("bob")
        page.get_by_label("密码").fill("test-pass-123")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{base}/me/")
        page.goto(item_page)
        page.get_by_role("link", name="办理本组织收到的意见").click()
        page.locator("#opinions").get_by_role("link", name=TEXT[:20]).click()
        page.get_by_label("办理结果（答复意见）").fill(REPLY)
        page.get_by_role("button", name="答复", exact=True).click()
        assert "已答复" in page.locator(".messages").inner_text()
        page.get_by_role("button", name="随事项公开").click()
        assert "已随事项公开" in page.locator(".messages").inner_text()

        page.context.clear_cookies()
        page.goto(item_page)
        published_opinions = page.locator("#published-opinions").inner_text()
        assert TEXT in published_opinions and REPLY in published_opinions
    # No script errors and no Content-Security-Policy violations; the one failed load is
    # the expected refusal of the too-fast post (HTTP 400).
    assert [e for e in errors if "status of 400" not in e] == []
