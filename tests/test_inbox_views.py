"""My tasks and notifications (/inbox/): anonymous → login; each person sees their own tasks
(by the roles they hold where the task waits) and their own notifications, nobody else's;
and the 待办 counts in the navigation bar."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from dwgk.disclosures import actions
from dwgk.inbox.models import Notification, Task
from tests.disclosure_cast import draft, through_review

URLS = ["inbox:tasks", "inbox:notifications"]


@pytest.mark.parametrize("name", URLS)
def test_anonymous_visitors_are_sent_to_log_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_marking_read_needs_a_login(client, dw):
    note = Notification.objects.create(user=dw.bob, text="x")
    for target in (reverse("inbox:read_all"), reverse("inbox:read", args=[note.pk])):
        response = client.post(target)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    note.refresh_from_db()
    assert note.read_at is None


def test_the_reviewer_sees_the_review_task_grouped_with_its_organization(client, dw):
    item = actions.disclosure_submit(draft(dw), actor=dw.bob)
    client.force_login(dw.rita)
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert 'id="tasks-review"' in html
    assert item.title in html and "湖滨社区第一党支部" in html
    assert f'href="/disclosures/{item.pk}/"' in html
    assert "逾期" not in html
    # The notification of the new task is there too, unread.
    assert "待办：审核《" in html and "未读" in html


def test_someone_without_the_role_has_no_task(client, dw):
    actions.disclosure_submit(draft(dw), actor=dw.bob)
    client.force_login(dw.charlie)
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert "目前没有待办事项" in html and "审核《" not in html


def test_an_overdue_task_is_marked(client, dw):
    actions.disclosure_submit(draft(dw), actor=dw.bob)
    Task.objects.filter(kind="review").update(due_at=timezone.now() - datetime.timedelta(days=1))
    client.force_login(dw.rita)
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert "逾期</span>" in html and "其中 1 项逾期" in html


def test_the_principal_sees_approvals_and_the_parent_sees_escalations(client, dw):
    item = through_review(dw, draft(dw, entry=dw.escalate, title="发展对象预审结果"))
    client.force_login(dw.alice)
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert 'id="tasks-approve"' in html and "发展对象预审结果" in html
    actions.disclosure_approve(
        item,
        actor=dw.alice,
        collective=True,
        meeting="支部委员会会议",
        meeting_date=timezone.localdate(),
        minutes="同意报上级审批",
    )
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert "发展对象预审结果" not in html.split('id="recent-notifications"')[0]
    client.force_login(dw.paula)
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert "湖滨社区第一党支部：发展对象预审结果" in html and "湖滨社区党委" in html


def test_notifications_are_ones_own(client, dw):
    mine = Notification.objects.create(user=dw.bob, text="给鲍勃的通知", url="/disclosures/1/")
    other = Notification.objects.create(user=dw.alice, text="给艾丽的通知")
    client.force_login(dw.bob)
    html = client.get(reverse("inbox:notifications")).content.decode()
    assert "给鲍勃的通知" in html and "给艾丽的通知" not in html
    assert client.post(reverse("inbox:read", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.read_at is None
    response = client.post(reverse("inbox:read", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client, dw):
    item = draft(dw)
    note = Notification.objects.create(user=dw.bob, text="请查看", url=f"/disclosures/{item.pk}/")
    client.force_login(dw.bob)
    response = client.post(reverse("inbox:read", args=[note.pk]), {"open": "1"})
    assert response["Location"] == f"/disclosures/{item.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None


def test_an_outside_url_is_never_followed(client, dw):
    note = Notification.objects.create(user=dw.bob, text="x", url="https://evil.example/")
    client.force_login(dw.bob)
    response = client.post(
        reverse("inbox:read", args=[note.pk]), {"open": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("inbox:notifications")


def test_mark_all_read_marks_only_my_notifications(client, dw):
    for n in range(3):
        Notification.objects.create(user=dw.bob, text=f"通知{n}")
    Notification.objects.create(user=dw.alice, text="别人的")
    client.force_login(dw.bob)
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert "3 条未读" in html and "全部标为已读" in html
    response = client.post(reverse("inbox:read_all"), {"next": reverse("inbox:tasks")})
    assert response["Location"] == reverse("inbox:tasks")
    assert not Notification.objects.filter(user=dw.bob, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=dw.alice, read_at__isnull=True).count() == 1
    html = client.get(response["Location"]).content.decode()
    assert "已将 3 条通知标为已读" in html


def test_the_navigation_shows_open_tasks_and_unread_notifications(client, dw):
    actions.disclosure_submit(draft(dw), actor=dw.bob)
    client.force_login(dw.rita)
    html = client.get(reverse("members:home")).content.decode()
    nav = html[html.index('id="nav-inbox"') : html.index("</a>", html.index('id="nav-inbox"'))]
    assert "待办" in nav
    assert '<span class="nav-count" title="待办事项">1<' in nav
    assert 'title="未读通知"><span class="sr">，未读通知</span>1<' in nav
    client.logout()
    assert 'id="nav-inbox"' not in client.get(reverse("public:home")).content.decode()


def test_the_inbox_links_to_the_organizations_i_work_for(client, dw):
    client.force_login(dw.bob)
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert f'href="/disclosures/org/{dw.branch1.pk}/"' in html
    assert f'href="/disclosures/org/{dw.branch1.pk}/new/"' in html
    client.force_login(dw.charlie)
    html = client.get(reverse("inbox:tasks")).content.decode()
    assert "/disclosures/org/" not in html


def test_the_navigation_counts_take_two_queries(client, dw, django_assert_num_queries):
    """The person's grants, then both counts in one query (never one per task)."""
    from dwgk.inbox.context_processors import inbox_counts

    actions.disclosure_submit(draft(dw), actor=dw.bob)
    for n in range(3):
        actions.disclosure_submit(draft(dw, title=f"再一项{n}"), actor=dw.bob)
    with django_assert_num_queries(2):
        assert inbox_counts(dw.rita) == (4, 4)


def test_each_person_gets_exactly_the_tasks_of_their_roles(dw):
    """Task.objects.for_user: named tasks, direct grants, inherited grants, nothing else."""
    from dwgk.accounts.actions import role_grant
    from dwgk.accounts.models import Role

    # An inherited grant above, a direct one at the branch, an assigned task, a closed one.
    role_grant(dw.olga, dw.street, Role.PRINCIPAL, actor=None, inherit=True)
    item = through_review(dw, draft(dw, entry=dw.escalate, title="发展对象预审结果"))
    actions.disclosure_submit(draft(dw, title="另一事项"), actor=dw.bob)
    returned = actions.disclosure_submit(draft(dw, title="退回的事项"), actor=dw.bob)
    returned = actions.disclosure_start_review(returned, actor=dw.rita)
    actions.disclosure_return(returned, actor=dw.rita, opinion="请补充材料")
    actions.disclosure_approve(
        item,
        actor=dw.alice,
        collective=True,
        meeting="支部委员会会议",
        meeting_date=timezone.localdate(),
        minutes="同意报上级审批",
    )
    people = [dw.alice, dw.bob, dw.charlie, dw.dora, dw.olga, dw.paula, dw.rita, dw.cathy]
    tasks = {u.username: sorted(t.title for t in Task.objects.open().for_user(u)) for u in people}
    escalated = f"{dw.branch1.name}：发展对象预审结果"
    assert tasks == {
        "alice": ["另一事项"],  # principal of branch1: may review
        "bob": ["退回的事项"],  # the author of the returned item
        "charlie": [],
        "dora": [],
        # principal of the street, inherited down to the community and its branches
        "olga": sorted(["另一事项", escalated]),
        "paula": [escalated],  # principal of the community, branch1's parent
        "rita": ["另一事项"],  # reviewer of branch1
        "cathy": [],
    }
