"""The public organization directory: tree, search, one organization's page, and who sees
the roster (anonymous → no roster, wrong person → no roster, right person → roster)."""

from __future__ import annotations

from django.urls import reverse

from dwgk.orgs.actions import org_dissolve, org_merge
from tests.cast import make_member, make_org, make_platform_role, make_user


def detail_url(org):
    return reverse("orgs:detail", args=[org.pk])


def login(client, user):
    client.force_login(user)


def test_anonymous_visitors_see_the_directory_tree(client, cast):
    response = client.get(reverse("orgs:tree"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "明州市委" in html
    # The top level opens one step: the city's children are listed, deeper levels are not.
    assert "东湖区委" in html and "明州医科大学党委" in html
    assert "湖滨社区第一党支部" not in html


def test_the_tree_shows_how_many_sub_organizations_each_node_has(client, cast):
    html = client.get(reverse("orgs:tree")).content.decode()
    # 东湖区委 has the street and the discipline commission below it.
    assert "下级组织 2 个" in html


def test_a_node_opens_one_level_as_a_fragment(client, cast):
    response = client.get(reverse("orgs:children", args=[cast.community.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "湖滨社区第一党支部" in html and "湖滨社区第二党支部" in html
    assert "<html" not in html
    assert "艾丽" not in html


def test_searching_finds_an_org_by_name_and_shows_its_line(client, cast):
    html = client.get(reverse("orgs:tree"), {"q": "第一党支部"}).content.decode()
    assert "湖滨社区第一党支部" in html
    assert "湖滨街道党工委" in html  # its line of parents
    assert "湖滨社区第二党支部" not in html


def test_searching_for_nothing_that_exists_says_so(client, cast):
    html = client.get(reverse("orgs:tree"), {"q": "不存在的组织"}).content.decode()
    assert "没有找到" in html


def test_anonymous_visitors_see_an_org_page_without_its_roster(client, cast):
    response = client.get(detail_url(cast.branch1))
    assert response.status_code == 200
    html = response.content.decode()
    assert "湖滨社区第一党支部" in html
    assert "湖滨社区党委" in html  # breadcrumb
    assert "党支部" in html  # type
    assert "党员名册" not in html
    assert "鲍勃" not in html and "艾丽" not in html


def test_the_page_has_a_breadcrumb_from_the_root(client, cast):
    html = client.get(detail_url(cast.branch1)).content.decode()
    crumbs = html[html.index('id="crumbs"') : html.index("</nav>", html.index('id="crumbs"'))]
    positions = [
        crumbs.index(n) for n in ["明州市委", "东湖区委", "湖滨街道党工委", "湖滨社区党委"]
    ]
    assert positions == sorted(positions)


def test_a_member_of_another_branch_sees_no_roster(client, cast):
    login(client, cast.charlie)
    html = client.get(detail_url(cast.branch1)).content.decode()
    assert "党员名册" not in html
    assert "鲍勃" not in html


def test_a_plain_member_does_not_see_their_own_branch_roster(client, cast):
    login(client, cast.bob)
    html = client.get(detail_url(cast.branch1)).content.decode()
    assert "党员名册" not in html


def test_the_branch_principal_sees_the_roster(client, cast):
    login(client, cast.alice)
    html = client.get(detail_url(cast.branch1)).content.decode()
    assert "党员名册" in html
    assert "艾丽" in html and "鲍勃" in html
    assert "查理" not in html  # charlie is in the other branch


def test_the_principal_of_one_branch_does_not_see_the_neighbouring_roster(client, cast):
    login(client, cast.alice)
    html = client.get(detail_url(cast.branch2)).content.decode()
    assert "党员名册" not in html and "查理" not in html


def test_the_district_org_admin_sees_rosters_in_the_whole_subtree(client, cast):
    login(client, cast.olga)
    for branch, name in [(cast.branch1, "鲍勃"), (cast.branch2, "查理")]:
        html = client.get(detail_url(branch)).content.decode()
        assert "党员名册" in html and name in html


def test_the_district_org_admin_sees_no_roster_outside_the_district(client, cast):
    login(client, cast.olga)
    html = client.get(detail_url(cast.uni_branch)).content.decode()
    assert "党员名册" not in html and "艾琳" not in html


def test_the_system_administrator_sees_any_roster(client, cast):
    admin = make_user("root", name="系统管理员")
    make_platform_role(admin, "sysadmin")
    login(client, admin)
    assert "艾琳" in client.get(detail_url(cast.uni_branch)).content.decode()


def test_a_dissolved_org_is_marked_as_such(client, cast):
    temp = make_org("湖滨社区临时党支部", "branch", cast.community)
    org_dissolve(temp, actor=None, note="任务完成")
    html = client.get(detail_url(temp)).content.decode()
    assert "已撤销" in html
    assert "任务完成" in html  # the history


def test_a_dissolved_child_is_left_out_of_the_list_until_asked_for(client, cast):
    temp = make_org("湖滨社区临时党支部", "branch", cast.community)
    org_dissolve(temp, actor=None)
    html = client.get(detail_url(cast.community)).content.decode()
    assert "湖滨社区临时党支部" not in html
    assert "另有已撤销或合并的下级组织 1 个" in html
    html = client.get(detail_url(cast.community), {"ended": "1"}).content.decode()
    assert "湖滨社区临时党支部" in html and "已撤销" in html


def test_a_merged_org_says_where_it_went(client, cast):
    org_merge(cast.branch1, cast.branch2, actor=None)
    html = client.get(detail_url(cast.branch1)).content.decode()
    assert "已合并" in html
    assert "湖滨社区第二党支部" in html


def test_the_page_lists_children_with_their_counts(client, cast):
    html = client.get(detail_url(cast.street)).content.decode()
    assert "湖滨社区党委" in html
    assert "下级组织 2 个" in html


def test_a_missing_org_is_a_404(client, db):
    assert client.get(reverse("orgs:detail", args=[999999])).status_code == 404
    assert client.get(reverse("orgs:children", args=[999999])).status_code == 404


def test_children_are_paged(client, cast):
    from dwgk.orgs import views

    for i in range(views.CHILDREN_PER_PAGE + 3):
        make_org(f"湖滨社区网格党支部{i:03d}", "branch", cast.community)
    first = client.get(detail_url(cast.community)).content.decode()
    assert "第 1 / 2 页" in first
    second = client.get(detail_url(cast.community), {"page": 2}).content.decode()
    assert "湖滨社区网格党支部102" in second


def test_the_number_of_queries_does_not_grow_with_the_tree(
    client, cast, django_assert_max_num_queries
):
    for i in range(30):
        make_org(f"并列党委{i}", "community_committee", cast.street)
    deep = cast.community
    for i in range(6):
        deep = make_org(f"深层组织{i}", "grassroots_committee", deep)
    with django_assert_max_num_queries(6):
        client.get(detail_url(cast.street))
    with django_assert_max_num_queries(6):
        client.get(detail_url(deep))
    with django_assert_max_num_queries(4):
        client.get(reverse("orgs:tree"))


def test_the_pages_work_for_a_member_with_nothing_special(client, cast):
    dan = make_member("dan", cast.branch2, name="丹")
    login(client, dan)
    assert client.get(reverse("orgs:tree")).status_code == 200
    assert client.get(detail_url(cast.branch2)).status_code == 200


def test_the_public_home_leads_into_the_directory(client, cast):
    html = client.get(reverse("public:home")).content.decode()
    assert "明州市委" in html
    assert reverse("orgs:tree") in html
    assert 'name="q"' in html  # the search box
    assert "艾丽" not in html


def test_the_org_page_links_its_admin_to_the_roster_page(client, cast):
    client.force_login(cast.olga)
    page = client.get(f"/orgs/{cast.branch1.pk}/").content.decode()
    assert f"/manage/orgs/{cast.branch1.pk}/roster/" in page
    client.force_login(cast.bob)
    page = client.get(f"/orgs/{cast.branch1.pk}/").content.decode()
    assert "/roster/" not in page
