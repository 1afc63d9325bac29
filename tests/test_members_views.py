"""个人中心 (/me/): anonymous → login; each person sees where they stand and nothing more."""

from __future__ import annotations

from django.urls import reverse

from dwgk.accounts.actions import role_grant
from dwgk.accounts.models import Role
from tests.cast import make_platform_role, make_user

ME = reverse("members:home")


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    response = client.get(ME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=/me/" in response["Location"]


def test_a_member_sees_their_branch_and_its_line_of_parents(client, cast):
    client.force_login(cast.alice)
    response = client.get(ME)
    assert response.status_code == 200
    html = response.content.decode()
    assert "艾丽" in html
    line = html[html.index('id="my-line"') : html.index("</nav>", html.index('id="my-line"'))]
    names = ["明州市委", "东湖区委", "湖滨街道党工委", "湖滨社区党委", "湖滨社区第一党支部"]
    positions = [line.index(n) for n in names]
    assert positions == sorted(positions)
    for org in [cast.city, cast.district, cast.community, cast.branch1]:
        assert reverse("orgs:detail", args=[org.pk]) in line


def test_a_member_sees_their_roles(client, cast):
    client.force_login(cast.alice)
    html = client.get(ME).content.decode()
    assert "主要负责人（第一责任人）" in html


def test_my_organizations_link_into_the_tree_for_each_org_where_i_hold_a_role(client, cast):
    role_grant(cast.alice, cast.community, Role.CLERK, actor=None)
    client.force_login(cast.alice)
    html = client.get(ME).content.decode()
    section = html[html.index('id="my-orgs"') :]
    assert reverse("orgs:detail", args=[cast.branch1.pk]) in section
    assert reverse("orgs:detail", args=[cast.community.pk]) in section
    assert "党务公开工作人员" in section
    # The line above each organization links into the tree too.
    assert reverse("orgs:detail", args=[cast.street.pk]) in section


def test_an_inherited_role_says_it_covers_the_subtree(client, cast):
    client.force_login(cast.olga)
    html = client.get(ME).content.decode()
    assert "组织管理员" in html
    assert "本组织及全部下级组织" in html
    assert "含下级组织" in html[html.index('id="my-orgs"') :]


def test_a_person_without_a_branch_sees_their_unit(client, cast):
    client.force_login(cast.dora)
    html = client.get(ME).content.decode()
    assert "您目前不是平台内党支部的党员" in html
    assert "湖滨社区党委" in html and "居民" in html
    assert "暂无组织角色" in html
    assert 'id="my-orgs"' not in html


def test_a_member_does_not_see_other_peoples_places(client, cast):
    client.force_login(cast.charlie)
    html = client.get(ME).content.decode()
    assert "湖滨社区第二党支部" in html
    assert "湖滨社区第一党支部" not in html
    assert "艾丽" not in html and "鲍勃" not in html


def test_the_admin_link_is_only_for_those_who_may_use_the_admin(client, cast):
    admin_url = reverse("admin:index")
    client.force_login(cast.alice)
    assert admin_url not in client.get(ME).content.decode()
    client.force_login(cast.olga)
    assert admin_url in client.get(ME).content.decode()


def test_a_platform_role_is_shown(client, cast):
    auditor = make_user("audit", name="审计员甲")
    make_platform_role(auditor, "auditor")
    client.force_login(auditor)
    html = client.get(ME).content.decode()
    assert "安全审计员" in html
    assert reverse("admin:index") in html


def test_the_member_home_is_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries):
    for org in [cast.city, cast.district, cast.street, cast.community, cast.branch2]:
        role_grant(cast.alice, org, Role.SUPERVISOR, actor=None)
    client.force_login(cast.alice)
    # Where I stand, plus the preview of 公开给我的 (top-N per key, rows, organizations,
    # reads; the viewer keys once per request), the nav's counts (grants, counts) and the
    # first request's session save (savepoint, update, release).
    with django_assert_max_num_queries(15):
        assert client.get(ME).status_code == 200
