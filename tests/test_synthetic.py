"""The synthetic province generator (`manage.py generate_province`, issue 6 item 1).

A tiny province (preset small × 0.01: a few dozen organizations, 200 people, 1,000 items) is
generated once for the class below and checked against the platform's own code: paths,
memberships, audience keys, index numbers, the hash chains (verify_disclosure_log), the
search rows (search.index), the search counts against LIKE, the feeds against
disclosed_to, the clearance of items in hand, the open tasks (wanted_tasks). Then: the same
seed gives the same rows, and a database that already has organizations is refused.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from dwgk.accounts.models import Affiliation, Membership, RoleGrant, User
from dwgk.audience.models import can_see
from dwgk.catalog.models import CatalogEntry, CatalogVersion
from dwgk.disclosures.actions import clearance_problems, content_hash, wanted_tasks
from dwgk.disclosures.models import (
    Approval,
    Disclosure,
    DisclosureAudience,
    IndexCounter,
    LogEntry,
    Review,
)
from dwgk.feedback.models import Opinion
from dwgk.inbox.models import Task
from dwgk.inbox.services import Want
from dwgk.orgs.models import Organization, path_segment
from dwgk.search import index
from dwgk.search.backend import get_backend
from dwgk.search.models import SearchDoc
from dwgk.search.text import tokens
from dwgk.synthetic.actions import generate_province
from dwgk.synthetic.generator import MODELS
from dwgk.synthetic.tree import PRESETS, build_tree

S = Disclosure.Status
SCALE = 0.01


def generate(**kwargs: Any) -> Any:
    kwargs.setdefault("preset", "small")
    kwargs.setdefault("scale", SCALE)
    return generate_province(actor=None, progress=lambda line: None, **kwargs)


@pytest.fixture(scope="class")
def province(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """One tiny province for every test of the class, rolled back after the last one."""
    with django_db_blocker.unblock(), transaction.atomic():
        result = generate()
        yield result
        transaction.set_rollback(True)


def disclosed(**filters: Any) -> list[Disclosure]:
    return [d for d in Disclosure.objects.filter(**filters) if d.is_disclosed]


def member_of_a_branch() -> User:
    membership = Membership.objects.filter(ended_on__isnull=True).order_by("pk").first()
    assert membership is not None
    return membership.user


def viewers() -> list[Any]:
    """Anonymous, two members of different branches, a non-member and a principal."""
    from django.contrib.auth.models import AnonymousUser

    first = member_of_a_branch()
    branch = Membership.objects.get(user=first, ended_on__isnull=True).branch
    other = (
        Membership.objects.filter(ended_on__isnull=True)
        .exclude(branch__path__startswith=branch.path)
        .order_by("-pk")
        .first()
    )
    resident = Affiliation.objects.exclude(user__in=Membership.objects.values("user")).first()
    principal = RoleGrant.objects.filter(role="principal").order_by("pk").first()
    assert other is not None and resident is not None and principal is not None
    return [AnonymousUser(), first, other.user, resident.user, principal.user]


@pytest.mark.django_db
@pytest.mark.usefixtures("province")
class TestAGeneratedProvince:
    def test_it_reports_rows_per_phase(self, province: Any) -> None:
        names = [p.name for p in province.phases]
        assert names[0] == "组织" and "ANALYZE" in names[-1]
        assert province.rows["disclosures.Disclosure"] == PRESETS["small"].items * SCALE
        assert province.rows["orgs.Organization"] == Organization.objects.count()

    def test_its_paths_follow_the_parents_over_five_to_six_levels(self) -> None:
        orgs = {o.pk: o for o in Organization.objects.all()}
        for org in orgs.values():
            parent = orgs.get(org.parent_id) if org.parent_id else None
            assert org.path == (parent.path if parent else "") + path_segment(org.pk)
        assert {o.depth for o in orgs.values()} == {1, 2, 3, 4, 5, 6}
        assert len([o for o in orgs.values() if o.parent_id is None]) == 1
        assert len({o.code for o in orgs.values()}) == len(orgs)

    def test_every_person_has_at_most_one_current_branch_and_only_branches_hold_members(
        self,
    ) -> None:
        current = Counter(
            Membership.objects.filter(ended_on__isnull=True).values_list("user", flat=True)
        )
        assert max(current.values()) == 1
        assert 0.75 < len(current) / User.objects.count() < 0.85
        assert not Membership.objects.exclude(branch__org_type__holds_members=True).exists()
        # The others are residents, villagers or staff of a unit.
        members = set(current)
        others = set(User.objects.exclude(pk__in=members).values_list("pk", flat=True))
        affiliated = set(Affiliation.objects.values_list("user", flat=True))
        assert others <= affiliated

    def test_every_organization_has_its_principal_clerk_and_reviewer(self) -> None:
        for org in Organization.objects.all():
            roles = set(RoleGrant.objects.filter(org=org).values_list("role", flat=True))
            assert {"principal", "clerk", "reviewer"} <= roles

    def test_audience_key_rows_are_the_audiences_keys_of_exactly_the_disclosed_items(
        self,
    ) -> None:
        keys = defaultdict(set)
        for obj, key, at in DisclosureAudience.objects.values_list("obj", "key", "sort_at"):
            keys[obj].add((key, at))
        for item in Disclosure.objects.all():
            sort_at = item.audience_sort_value()
            if sort_at is None:
                assert item.pk not in keys, item.status
            else:
                assert keys[item.pk] == {(k, sort_at) for k in item.get_audience().to_keys()}

    def test_published_catalogs_have_their_audience_keys(self) -> None:
        for version in CatalogVersion.objects.all():
            got = set(version.audience_keys.values_list("key", flat=True))
            want = set(version.get_audience().to_keys()) if version.audience_sort_value() else set()
            assert got == want
        # Items fulfil entries of their organization's published catalog.
        for item in Disclosure.objects.filter(entry__isnull=False).select_related(
            "entry__version__catalog"
        ):
            assert item.entry is not None
            assert item.entry.version.catalog.org_id == item.org_id
            assert item.entry.version.status == CatalogVersion.Status.PUBLISHED

    def test_the_mix_of_audiences_and_statuses_is_realistic(self) -> None:
        kinds: Counter[str] = Counter()
        for item in disclosed():
            a = item.get_audience()
            kinds[
                "society" if a.society else "party" if a.party else "unit" if a.units else "people"
            ] += 1
        total = sum(kinds.values())
        assert 0.22 < kinds["society"] / total < 0.38
        assert 0.45 < kinds["party"] / total < 0.65
        assert 0.05 < kinds["unit"] / total < 0.16
        assert 0.01 < kinds["people"] / total < 0.10
        statuses = Counter(Disclosure.objects.values_list("status", flat=True))
        assert statuses[S.PUBLISHED] > 0.6 * sum(statuses.values())
        assert statuses[S.EXPIRED] and statuses[S.ARCHIVED]
        assert {S.DRAFT, S.SUBMITTED, S.REVIEWING, S.APPROVING} & set(statuses)

    def test_index_numbers_are_unique_and_run_per_organization_and_year(self) -> None:
        serials = defaultdict(list)
        items = Disclosure.objects.filter(index_no__isnull=False).select_related("org")
        for item in items.order_by("published_at", "pk"):
            assert item.published_at is not None
            year = timezone.localtime(item.published_at).year
            match = re.fullmatch(
                rf"{re.escape(item.org.code)}/{year}-(\d{{5}})", item.index_no or ""
            )
            assert match, item.index_no
            serials[(item.org_id, year)].append(int(match.group(1)))
        for key, got in serials.items():
            assert got == list(range(1, len(got) + 1)), key
        counters = {(c.org_id, c.year): c.last for c in IndexCounter.objects.all()}
        assert counters == {key: len(got) for key, got in serials.items()}
        assert not Disclosure.objects.filter(
            index_no__isnull=True, published_at__isnull=False
        ).exists()

    def test_every_hash_chain_verifies(self) -> None:
        out = io.StringIO()
        call_command("verify_disclosure_log", stdout=out)
        assert f"已校验 {Disclosure.objects.count()} 个事项，记录均完整" in out.getvalue()
        assert LogEntry.objects.count() > 4 * Disclosure.objects.count()

    def test_search_rows_are_what_the_index_writes(self) -> None:
        items = Disclosure.objects.prefetch_related("attachments", "audience_keys")
        docs = {d.disclosure_id: d for d in SearchDoc.objects.all()}
        for item in items:
            doc = docs.get(item.pk)
            if not item.is_disclosed:
                assert doc is None
                continue
            assert doc is not None
            title, text = index.document(item)
            assert (doc.title, doc.text) == (title, text)
            assert doc.search_text == tokens(f"{title}\n{text}")
            assert doc.keys == " ".join(sorted(k.key for k in item.audience_keys.all()))
            assert doc.published_at == item.published_at and doc.org_id == item.org_id

    def test_the_search_finds_a_generated_title_and_counts_what_like_counts(self) -> None:
        from django.contrib.auth.models import AnonymousUser

        words = ("党费", "换届选举", "发展党员", "主题党日", "四风", "民主评议", "为民办实事")
        item, word = next(
            (d, w)
            for d in disclosed(status=S.PUBLISHED)
            if d.get_audience().society
            for w in words
            if w in d.title
        )
        found = get_backend().search(AnonymousUser(), word, limit=2_000)
        assert item.pk in {r.disclosure_id for r in found.results}
        backend = get_backend()
        seen: Counter[str] = Counter()
        for viewer in viewers():
            for q in ("党费", "换届选举", "公示", "党员"):
                like = (
                    Disclosure.objects.disclosed_to(viewer)
                    .filter(
                        Q(title__contains=q)
                        | Q(correction_notice__contains=q)
                        | (
                            ~Q(status=S.WITHDRAWN)
                            & Q(withdrawn_at__isnull=True)
                            & (
                                Q(body__contains=q)
                                | Q(background__contains=q)
                                | Q(significance__contains=q)
                                | Q(key_points__contains=q)
                            )
                        )
                    )
                    .count()
                )
                assert backend.count(viewer, q) == like, (viewer, q)
                seen[q] += like
        assert seen["党费"] and seen["公示"] and seen["党员"]

    def test_a_members_newest_items_are_the_top_of_what_was_disclosed_to_them(self) -> None:
        for viewer in viewers():
            feed, _ = Disclosure.objects.newest_visible(viewer, 30)
            top = Disclosure.objects.disclosed_to(viewer).order_by("-published_at", "-pk")[:30]
            assert [d.pk for d in feed] == [d.pk for d in top]
            assert feed

    def test_a_branchs_party_items_are_hidden_from_another_branch_and_the_public(self) -> None:
        from django.contrib.auth.models import AnonymousUser

        item = next(
            d
            for d in disclosed(status=S.PUBLISHED, org__org_type__holds_members=True)
            if d.get_audience().party == (d.org_id,)
        )
        own = Membership.objects.filter(branch=item.org, ended_on__isnull=True).first()
        other = Membership.objects.filter(ended_on__isnull=True).exclude(branch=item.org).first()
        assert own is not None and other is not None
        assert can_see(own.user, item)
        assert not can_see(other.user, item)
        assert not can_see(AnonymousUser(), item)

    def test_items_in_hand_and_sampled_ones_are_cleared_by_their_reviews_and_approvals(
        self,
    ) -> None:
        ready = Disclosure.objects.filter(status__in=[S.APPROVED, S.SCHEDULED])
        sampled = Disclosure.objects.filter(
            status=S.PUBLISHED, pk__in=Review.objects.values("disclosure")
        )
        assert sampled.exists()
        for item in [*ready, *sampled]:
            assert clearance_problems(item) == [], item.pk
        for approval in Approval.objects.select_related("disclosure"):
            assert approval.content_sha256 == content_hash(approval.disclosure)

    def test_open_tasks_are_what_the_procedure_asks_for(self) -> None:
        def key(want: Want) -> tuple[str, int, str, int | None]:
            return want.key()

        open_tasks = defaultdict(set)
        for t in Task.objects.filter(done_at__isnull=True):
            open_tasks[t.subject].add((t.kind, t.org_id, t.roles, t.assignee_id))
        checked = 0
        for item in Disclosure.objects.select_related("org__parent", "author", "entry"):
            wanted = {key(w) for w in wanted_tasks(item)}
            assert open_tasks.get(f"disclosure:{item.pk}", set()) == wanted, item.status
            checked += bool(wanted)
        assert checked

    def test_opinions_come_from_people_the_item_was_disclosed_to(self) -> None:
        opinions = Opinion.objects.select_related("disclosure", "submitter")
        assert opinions.exists()
        for op in opinions:
            published_at = op.disclosure.published_at
            assert published_at is not None and op.created_at > published_at
            if op.submitter is not None:
                assert can_see(op.submitter, op.disclosure)
            if op.status == Opinion.Status.CLOSED and op.named:
                assert op.told_at is not None

    def test_its_accounts_cannot_log_in_without_a_password(self) -> None:
        assert not any(u.has_usable_password() for u in User.objects.all()[:50])

    def test_every_reference_points_at_a_row(self) -> None:
        connection.check_constraints()

    def test_titles_and_bodies_are_chinese_from_the_rules_vocabulary(self) -> None:
        items = list(Disclosure.objects.all())
        joined = "".join(d.title for d in items)
        for term in ("党费", "党员", "公示"):
            assert term in joined
        assert all(re.search(r"[\u4e00-\u9fff]", d.title + d.body) for d in items)
        entries = CatalogEntry.objects.values_list("content", flat=True)
        assert "党费收缴、使用和管理情况" in set(entries) or any("党费" in e for e in entries)


def fingerprint() -> str:
    """A hash over ordered dumps of every table the generator writes, ids included."""
    digest = hashlib.sha256()
    for model in MODELS:
        names = [f.attname for f in model._meta.concrete_fields]
        for row in model._default_manager.order_by("pk").values_list(*names):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_rows_ids_included() -> None:
    prints = []
    for seed in (7, 7, 8):
        with transaction.atomic():
            generate(seed=seed)
            prints.append(fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


@pytest.mark.django_db
def test_it_refuses_a_database_that_has_organizations(cast: Any) -> None:
    users = User.objects.count()
    with pytest.raises(CommandError) as refused:
        call_command(
            "generate_province", "--preset", "small", "--scale", "0.01", stdout=io.StringIO()
        )
    assert refused.value.returncode == 2
    assert "已有党组织" in str(refused.value)
    assert User.objects.count() == users


@pytest.mark.django_db
def test_with_yes_it_adds_a_province_after_the_existing_rows(cast: Any) -> None:
    before = set(Organization.objects.values_list("pk", flat=True))
    out = io.StringIO()
    call_command(
        "generate_province",
        *("--preset", "small", "--scale", "0.01", "--yes", "--password", "synthetic-pass-1"),
        stdout=out,
    )
    assert "行/秒" in out.getvalue() and "完成" in out.getvalue()
    new = Organization.objects.exclude(pk__in=before)
    assert new.exists() and min(new.values_list("pk", flat=True)) > max(before)
    member = Membership.objects.filter(branch__in=new).first()
    assert member is not None and member.user.check_password("synthetic-pass-1")
    assert set(Organization.objects.filter(pk__in=before).values_list("pk", flat=True)) == before
    out = io.StringIO()
    call_command("verify_disclosure_log", stdout=out)
    assert "记录均完整" in out.getvalue()


def test_the_presets_have_the_sizes_they_promise() -> None:
    city = build_tree(random.Random(1), PRESETS["city"].orgs, 1)
    assert 9_000 < len(city.nodes) < 12_000
    assert max(n.depth for n in city.nodes) == 6
    sizes = sorted(b.size for b in city.branches)
    # Skewed: the biggest branches are many times the median one.
    assert sizes[-1] > 10 * sizes[len(sizes) // 2]
    small = build_tree(random.Random(1), PRESETS["small"].orgs, 1)
    assert 700 < len(small.nodes) < 1_300
