"""The parent's overview of its children's catalogs (CAT-6): each state computed right, the
stale ones found, counts and filters per state, who may look, and a fixed number of queries
however many children there are."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from dwgk.accounts.actions import role_grant
from dwgk.accounts.models import Role
from dwgk.audience.keys import Audience
from dwgk.catalog import actions, overview
from dwgk.catalog.models import CatalogVersion
from dwgk.catalog.rulesets import current_ruleset
from dwgk.orgs.models import Organization
from tests.cast import make_org, make_user
from tests.test_catalog_views import screens_ruleset  # noqa: F401  (autouse)

TODAY = datetime.date.today()
# The most queries the overview page may take, whatever the number of children: session,
# user, organization, the permission check (grants + one EXISTS), the viewer's keys and
# staff grants for `visible_to`, the state counts, the page count, the page, the comment-box
# role check, and the three statements of a session save (once a minute: SessionRefreshMiddleware).
MAX_QUERIES = 16  # 14 for the page, 2 for the nav's task and notification counts (grants, counts)


@pytest.fixture
def street(cast):
    """A street committee whose principal (sam) reviews the communities below it; each
    community's catalog is compiled and adopted by its own principal (carl)."""
    sam = make_user("sam", name="萨姆")
    role_grant(sam, cast.street, Role.PRINCIPAL, actor=None)
    return cast.street, sam


def community(street, name, carl):
    org = make_org(name, "community_committee", street)
    role_grant(carl, org, Role.PRINCIPAL, actor=None)
    return org


def entry_fields(org):
    return {
        "content": "社区党委委员分工",
        "audience": Audience(units=(org.pk,)).to_json(),
        "channels": ["board"],
        "timing": {"kind": "long_term"},
    }


def take(org, carl, sam, until):
    """Take org's catalog to a state: draft, adopted, filed, returned, acknowledged,
    published."""
    version = actions.catalog_generate_draft(org, actor=carl)
    actions.entry_add(version, actor=carl, **entry_fields(org))
    if until == "draft":
        return version
    actions.catalog_adopt(version, actor=carl, meeting="党委会", decided_on=TODAY)
    if until == "adopted":
        return version
    actions.catalog_file(version, actor=carl)
    if until == "filed":
        return version
    if until == "returned":
        return actions.catalog_return(version, actor=sam, comment="请补充")
    actions.catalog_acknowledge(version, actor=sam)
    if until == "acknowledged":
        return version
    return actions.catalog_publish(version, actor=carl)


def states(org, user):
    rows: list[Any] = list(overview.children_with_state(org, user))
    return {c.name: c.state for c in rows}


def test_every_state_is_computed_from_the_versions(street, cast):
    org, sam = street
    carl = make_user("carl", name="卡尔")
    for until in ["draft", "adopted", "filed", "returned", "acknowledged", "published"]:
        take(community(org, until, carl), carl, sam, until)
    stale = community(org, "stale", carl)
    take(stale, carl, sam, "published")
    long_ago = timezone.now() - datetime.timedelta(days=400)
    CatalogVersion.objects.filter(catalog__org=stale).update(published_at=long_ago)
    adjusting = community(org, "adjusting", carl)
    take(adjusting, carl, sam, "published")
    actions.catalog_adjust(adjusting, actor=carl)

    assert states(org, sam) == {
        "draft": "draft",
        "adopted": "adopted",
        "filed": "filed",
        "returned": "returned",
        "acknowledged": "acknowledged",
        "published": "published",
        "stale": "stale",
        "adjusting": "draft",  # a new version in progress is what the parent watches
        "湖滨社区党委": "none",  # the cast's own community
    }


def test_a_child_without_a_catalog_is_not_compiled(street, cast):
    org, sam = street
    assert states(org, sam) == {"湖滨社区党委": "none"}


def test_dissolved_children_are_left_out(street, cast):
    org, sam = street
    cast.community.status = Organization.Status.DISSOLVED
    cast.community.save()
    assert states(org, sam) == {}


def test_a_catalog_becomes_stale_after_the_rule_sets_days(street):
    org, sam = street
    carl = make_user("carl", name="卡尔")
    child = community(org, "社区", carl)
    version = take(child, carl, sam, "published")
    days = current_ruleset().stale_days
    published_at = version.published_at
    just_fresh = published_at + datetime.timedelta(days=days - 1)
    just_stale = published_at + datetime.timedelta(days=days + 1)
    fresh: Any = overview.children_with_state(org, sam, now=just_fresh).get(pk=child.pk)
    stale: Any = overview.children_with_state(org, sam, now=just_stale).get(pk=child.pk)
    assert (fresh.state, stale.state) == ("published", "stale")


def test_counts_and_filters_per_state(street):
    org, sam = street
    carl = make_user("carl", name="卡尔")
    take(community(org, "甲", carl), carl, sam, "filed")
    take(community(org, "乙", carl), carl, sam, "filed")
    take(community(org, "丙", carl), carl, sam, "draft")
    children = overview.children_with_state(org, sam)
    counts = overview.state_counts(children)
    assert counts["filed"] == 2 and counts["draft"] == 1 and counts["none"] == 1
    assert list(counts) == list(overview.STATES)
    filed = overview.filter_state(children, "filed")
    assert sorted(c.name for c in filed) == ["乙", "甲"]
    assert overview.filter_state(children, "nonsense").count() == 4


def test_the_links_point_at_the_version_in_progress_and_the_published_one(street):
    org, sam = street
    carl = make_user("carl", name="卡尔")
    child = community(org, "社区", carl)
    published = take(child, carl, sam, "published")
    adjusting = actions.catalog_adjust(child, actor=carl)
    row: Any = overview.children_with_state(org, sam).get(pk=child.pk)
    assert (row.open_pk, row.open_number) == (adjusting.pk, 2)
    assert (row.published_pk, row.published_number) == (published.pk, 1)
    assert row.target_pk == adjusting.pk


def test_only_the_staff_of_the_organization_see_the_overview(street, cast):
    org, sam = street
    assert overview.can_view_overview(sam, org)
    assert not overview.can_view_overview(sam, cast.district)
    for person in (cast.alice, cast.bob, cast.charlie, cast.olga):
        assert not overview.can_view_overview(person, org)
    supervisor = make_user("vera")
    role_grant(supervisor, cast.district, Role.SUPERVISOR, actor=None, inherit=True)
    assert overview.can_view_overview(supervisor, org)  # inherited from the district
    assert not overview.can_guide_children(supervisor, org)  # but comments are for reviewers
    assert overview.can_guide_children(sam, org)


def test_the_page_shows_states_counts_and_a_comment_box(client, street):
    org, sam = street
    carl = make_user("carl", name="卡尔")
    take(community(org, "柳岸社区党委", carl), carl, sam, "filed")
    client.force_login(sam)
    html = client.get(reverse("catalog:subtree", args=[org.pk])).content.decode()
    assert "柳岸社区党委" in html and "湖滨社区党委" in html
    assert '待确认 <span class="n">1</span>' in html
    assert '未编制 <span class="n">1</span>' in html
    assert "指导意见" in html
    html = client.get(reverse("catalog:subtree", args=[org.pk]), {"state": "filed"}).content
    assert "柳岸社区党委" in html.decode() and "湖滨社区党委" not in html.decode()


def test_the_page_takes_a_fixed_number_of_queries_at_a_thousand_children(
    client, street, django_assert_max_num_queries
):
    org, sam = street
    carl = make_user("carl", name="卡尔")
    children = [community(org, f"社区{i:04d}", carl) for i in range(1, 1000)]
    for i, child in enumerate(children[:40]):
        take(child, carl, sam, ["draft", "filed", "published", "returned"][i % 4])
    client.force_login(sam)
    page = reverse("catalog:subtree", args=[org.pk])
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(page)
    html = response.content.decode()
    assert '全部 <span class="n">1000</span>' in html
    assert html.count('<tr id="child-') == 100
    assert "第 1 / 10 页" in html
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(page, {"state": "filed", "page": "1"})
    assert response.content.decode().count('<tr id="child-') == 10
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(page, {"page": "10"})
