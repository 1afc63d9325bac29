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


def test_it_reports_the_items_and_loads_them_once(output):
    assert "演示公开事项已载入：10 项" in output
    count = Disclosure.objects.count()
    assert "演示公开事项" not in load()
    assert Disclosure.objects.count() == count == 10


def test_every_stage_of_the_procedure_is_shown(output):
    states = {d.title[:12]: d.status for d in Disclosure.objects.filter(org__code="MZ-DH-HB-01-1")}
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
