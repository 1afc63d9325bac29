"""The demo disclosure items: one at every stage of the procedure, made by the right demo
people through the actions, visible to exactly their audiences, loaded only once."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.utils import timezone

from dwgk.accounts.models import User
from dwgk.disclosures import actions
from dwgk.disclosures.demo_history import HISTORY
from dwgk.disclosures.models import Disclosure
from dwgk.inbox.models import Task

S = Disclosure.Status


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", force=True, stdout=out)
    return out.getvalue()


@pytest.fixture
def output(db) -> str:
    return load()


def item(title_start: str) -> Disclosure:
    return Disclosure.objects.get(title__startswith=title_start)


def user(username: str) -> User:
    return User.objects.get(username=username)


HISTORY_TITLES = [fields["title"] for _, _, _, fields in HISTORY]


def test_it_reports_the_items_and_loads_them_once(output):
    assert f"演示公开事项已载入：{10 + len(HISTORY)} 项" in output
    count = Disclosure.objects.count()
    assert "演示公开事项" not in load()
    assert Disclosure.objects.count() == count == 10 + len(HISTORY)


def test_every_stage_of_the_procedure_is_shown(output):
    branch = Disclosure.objects.filter(org__code="MZ-DH-HB-01-1").exclude(title__in=HISTORY_TITLES)
    states = {d.title[:12]: d.status for d in branch}
    assert sorted(states.values()) == sorted(
        [S.PUBLISHED, S.DRAFT, S.APPROVING, S.SCHEDULED, S.PUBLISHED, S.WITHDRAWN, S.ARCHIVED]
    )


def test_the_draft_gives_the_pre_screen_ids_phones_and_an_email(output):
    draft = item("关于2026年第四季度拟发展对象")
    labels = sorted(f["label"] for f in actions.prescreen_item(draft))
    assert labels == sorted(["居民身份证号码"] * 2 + ["手机号码"] * 2 + ["固定电话", "电子邮箱"])


def test_the_escalated_item_waits_in_the_parents_queue(output):
    election = item("湖滨社区第一党支部换届选举")
    assert election.is_escalated
    queue = Task.objects.open().for_user(user("linfang"))
    assert [t.title for t in queue if t.kind == Task.Kind.APPROVE] == [
        f"湖滨社区第一党支部：{election.title}"
    ]


def test_party_items_reach_branch_members_only_and_society_items_everyone(output):
    fee = item("2026年第三季度党费")
    member, outsider = user("tanglei"), user("mali")  # mali is a member of another branch
    assert fee in Disclosure.objects.visible_to(member)
    assert fee not in Disclosure.objects.visible_to(outsider)
    assert fee not in Disclosure.objects.visible_to(AnonymousUser())
    public = set(Disclosure.objects.visible_to(AnonymousUser()).values_list("org__code", flat=True))
    assert public == {"MZ", "MZ-DH"}


def test_the_withdrawn_item_stays_visible_with_its_correction(output):
    september = item("2026年9月主题党日")
    assert september in Disclosure.objects.visible_to(user("tanglei"))
    assert "改为9月12日" in september.correction_notice


def test_the_worker_publishes_the_scheduled_item_when_its_time_comes(output):
    theme = item("2026年11月主题党日")
    assert actions.publish_due(timezone.now()) == []
    assert actions.publish_due(timezone.now() + datetime.timedelta(minutes=3)) == [theme.pk]
    theme.refresh_from_db()
    assert theme.status == S.PUBLISHED and theme.index_no


def test_the_out_of_catalog_item_asks_the_clerk_to_update_the_catalog(output):
    volunteer = item("关于开展“社区党员志愿服务月”")
    assert volunteer.out_of_catalog and volunteer.catalog_update_pending
    kinds = [t.kind for t in Task.objects.open().for_user(user("liangwenbo"))]
    assert Task.Kind.CATALOG_UPDATE in kinds


def test_the_history_spreads_over_the_months_through_the_whole_procedure(output):
    history = list(Disclosure.objects.filter(title__in=HISTORY_TITLES).order_by("published_at"))
    assert [d.title for d in history] == HISTORY_TITLES  # oldest first, as listed
    assert all(d.status == S.PUBLISHED and d.index_no for d in history)
    assert all(d.approvals.exists() or not d.route for d in history)
    months = {timezone.localtime(d.published_at).strftime("%Y-%m") for d in history}
    assert len(months) >= 8


def test_the_public_finds_the_demo_items_about_party_dues(output):
    from dwgk.search.backend import get_backend

    found = [r.title for r in get_backend().search(AnonymousUser(), "党费").results]
    assert "明州市2025年度党费收缴、使用和管理情况的通报" in found
    assert not any(t.startswith("2026年第") and "党费" in t for t in found)  # party-only
    tanglei = user("tanglei")  # a member of 第一党支部
    member = [r.title for r in get_backend().search(tanglei, "党费").results]
    assert "2026年第一季度党费收缴使用管理情况" in member
