"""Who sees which catalog version: the one rule, CatalogVersion.objects.visible_to(user)."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AnonymousUser

from dwgk.accounts.actions import role_grant, role_revoke
from dwgk.accounts.models import Role, RoleGrant
from dwgk.audience.keys import Audience
from dwgk.audience.models import can_see
from dwgk.catalog import actions
from dwgk.catalog.models import CatalogVersion
from tests.cast import make_user

TODAY = datetime.date.today()


def publish(world, audience):
    version = actions.catalog_generate_draft(world.branch1, actor=world.bob)
    actions.catalog_adopt(version, actor=world.alice, meeting="支委会", decided_on=TODAY)
    actions.catalog_file(version, actor=world.bob)
    actions.catalog_acknowledge(version, actor=world.paula)
    return actions.catalog_publish(version, actor=world.bob, audience=audience)


def sees(user, version):
    listed = CatalogVersion.objects.visible_to(user).filter(pk=version.pk).exists()
    assert listed == can_see(user, version), "list and detail must agree"
    return listed


def test_a_draft_is_seen_by_its_staff_and_the_parents_staff_only(world):
    version = actions.catalog_generate_draft(world.branch1, actor=world.bob)
    assert sees(world.bob, version) and sees(world.alice, version)
    assert sees(world.paula, version)  # the parent guides compilation (CAT-6)
    for outsider in (AnonymousUser(), world.charlie, world.dora, world.erin, world.olga):
        assert not sees(outsider, version)


def test_a_catalog_published_to_the_party_is_seen_by_members_of_the_branch_only(world):
    version = publish(world, Audience(party=(world.branch1.pk,)))
    assert sees(world.bob, version) and sees(world.alice, version)
    assert not sees(world.charlie, version)  # a member, but of branch2
    assert not sees(world.dora, version)  # a resident, not a member
    assert not sees(AnonymousUser(), version)


def test_a_catalog_published_to_society_is_seen_by_anonymous_visitors(world):
    version = publish(world, Audience(society=True))
    assert sees(AnonymousUser(), version) and sees(world.charlie, version)


def test_a_superseded_version_stays_visible_to_its_audience(world):
    v1 = publish(world, Audience(society=True))
    v2 = actions.catalog_adjust(world.branch1, actor=world.bob)
    actions.catalog_adopt(v2, actor=world.alice, meeting="支委会", decided_on=TODAY)
    actions.catalog_file(v2, actor=world.bob)
    actions.catalog_acknowledge(v2, actor=world.paula)
    actions.catalog_publish(v2, actor=world.bob)
    v1.refresh_from_db()
    assert v1.status == CatalogVersion.Status.SUPERSEDED
    assert sees(AnonymousUser(), v1)


def test_a_revoked_role_loses_sight_of_drafts(world):
    version = actions.catalog_generate_draft(world.branch1, actor=world.bob)
    grant = RoleGrant.objects.get(user=world.bob, role=Role.CLERK)
    role_revoke(grant, actor=None)
    assert sees(world.bob, version) is False


def test_an_inherited_staff_role_covers_the_subtree(world):
    supervisor = make_user("sam", name="山姆")
    role_grant(supervisor, world.district, Role.SUPERVISOR, actor=None, inherit=True)
    version = actions.catalog_generate_draft(world.branch1, actor=world.bob)
    assert sees(supervisor, version)
    other = make_user("tom", name="汤姆")
    role_grant(other, world.district, Role.SUPERVISOR, actor=None)  # not inherited
    assert not sees(other, version)
