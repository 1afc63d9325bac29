"""The demo catalogs: one at every stage of the lifecycle, made by the right demo people
through the actions, shown to the right audiences, and loaded only once."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from dwgk.accounts.demo import load_demo as load_people
from dwgk.accounts.models import User
from dwgk.audit.models import AuditEntry
from dwgk.catalog import actions, demo, overview
from dwgk.catalog.demo import load_demo_catalogs
from dwgk.catalog.diff import diff_versions
from dwgk.catalog.models import Catalog, CatalogEvent, CatalogVersion
from dwgk.orgs.models import Organization

S = CatalogVersion.Status


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", force=True, stdout=out)
    return out.getvalue()


@pytest.fixture
def output(db) -> str:
    return load()


def versions(code: str) -> list[CatalogVersion]:
    return list(CatalogVersion.objects.filter(catalog__org__code=code).order_by("number"))


def person(username: str) -> User:
    return User.objects.get(username=username)


def test_the_command_says_it_loaded_the_catalogs(output):
    assert "演示党务公开目录已载入" in output


def test_every_stage_of_the_lifecycle_is_in_the_demo(output):
    stages = {code: [v.status for v in versions(code)] for code in [p.code for p in demo.PLANS]}
    assert stages == {
        "MZ": [S.PUBLISHED],
        "MZ-DH": [S.PUBLISHED],
        "MZ-XS": [S.DRAFT],
        "MZYK": [S.PUBLISHED],
        "MZYK-JC": [S.RETURNED],
        "MZJT": [S.ADOPTED],
        "MZ-DH-HB-01": [S.FILED],
        "MZ-DH-HB-01-1": [S.PUBLISHED, S.DRAFT],
    }
    for version in CatalogVersion.objects.all():
        assert version.entries.exists()


def test_the_city_and_the_district_publish_to_society(client, output):
    for code in ["MZ", "MZ-DH"]:
        (version,) = versions(code)
        assert version.get_audience().society
        assert client.get(reverse("catalog:version", args=[version.pk])).status_code == 200
    (district,) = versions("MZ-DH")
    kinds = list(district.events.values_list("kind", flat=True))
    assert kinds == ["created", "adopted", "filed", "acknowledged", "published"]
    ack = district.events.get(kind=CatalogEvent.Kind.ACKNOWLEDGED)
    assert ack.actor == person("lixiuying")
    assert ack.actor_org == Organization.objects.get(code="MZ")


def test_the_branch_catalog_is_for_its_members_and_is_being_adjusted(client, output):
    published, in_progress = versions("MZ-DH-HB-01-1")
    assert published.get_audience().party == (published.catalog.org_id,)
    page = reverse("catalog:version", args=[published.pk])
    client.force_login(person("tanglei"))  # a (probationary) member of the branch
    assert client.get(page).status_code == 200
    assert client.get(reverse("catalog:version", args=[in_progress.pk])).status_code == 404
    client.force_login(person("hanxue"))  # a member of the second branch
    assert client.get(page).status_code == 404
    client.logout()
    assert client.get(page).status_code == 404

    result = diff_versions(published, in_progress)
    assert [r.content for r in result.added] == [demo.ADDED_ENTRY["content"]]
    (changed,) = result.changed
    assert {c.column for c in changed.changes} >= {"备注"}
    assert in_progress.change_note == demo.ADJUST_NOTE


def test_a_community_catalog_waits_for_the_street(client, output):
    (version,) = versions("MZ-DH-HB-01")
    assert version.status == S.FILED
    street = Organization.objects.get(code="MZ-DH-HB")
    rows = overview.children_with_state(street, person("hejianhua"))
    row: Any = rows.get(code="MZ-DH-HB-01")
    assert row.state == "filed"
    client.force_login(person("hejianhua"))
    html = client.get(reverse("catalog:org", args=[version.catalog.org_id])).content.decode()
    assert "确认备案" in html and "退回修改" in html


def test_one_catalog_was_returned_with_a_comment(client, output):
    (version,) = versions("MZYK-JC")
    event = version.events.get(kind=CatalogEvent.Kind.RETURNED)
    assert "党费收缴" in event.text and event.actor == person("xuqing")
    client.force_login(person("suzhenhua"))
    html = client.get(reverse("catalog:org", args=[version.catalog.org_id])).content.decode()
    assert "上级退回意见" in html and demo.RETURN_COMMENT in html


def test_every_step_went_through_the_actions(output):
    assert AuditEntry.objects.filter(action="catalog.generate").count() == Catalog.objects.count()
    assert AuditEntry.objects.filter(action="catalog.publish").count() == 4
    assert not CatalogEvent.objects.filter(actor__isnull=True).exists()


def test_loading_again_changes_nothing(output):
    before = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    assert load_demo_catalogs() == 0
    again = load()
    assert "未做任何改动" in again and "演示党务公开目录已载入" not in again
    after = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    assert after == before


def test_what_people_did_in_the_demo_since_is_kept(output):
    (draft,) = versions("MZ-XS")
    actions.catalog_adopt(
        draft, actor=person("pengguoqing"), meeting="区委常委会", decided_on=datetime.date.today()
    )
    assert load_demo_catalogs() == 0
    assert [v.status for v in versions("MZ-XS")] == [S.ADOPTED]


def test_a_plan_whose_people_are_gone_is_skipped_not_forced(db):
    load_people()
    User.objects.filter(username="renjing").update(is_active=False)  # MZJT's clerk left
    assert load_demo_catalogs() == 8
    assert versions("MZJT") == []
