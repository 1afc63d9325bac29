"""The catalog screens, view by view: anonymous → login or 404, wrong person → 404 or 403,
right person → the step is done; a version nobody published to you is a 404; and the whole
lifecycle — generate, edit, adopt, file, return, fix, re-file, acknowledge, publish — through
the screens alone.

The cast: alice is the principal of 第一党支部 and bob its clerk; paula is the principal of
the community committee above it (the parent the catalog is filed with); dave is a plain
member of 第一党支部; charlie is a member of 第二党支部; dora is a resident of the community
who is not a party member.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from dwgk.accounts.actions import role_grant
from dwgk.accounts.models import Role, User
from dwgk.audience.keys import Audience
from dwgk.catalog import actions
from dwgk.catalog.models import CatalogEntry, CatalogEvent, CatalogVersion
from dwgk.catalog.rulesets import all_rulesets
from dwgk.orgs.models import Organization
from tests.cast import Cast, make_member, make_user

S = CatalogVersion.Status

# The screens are tested against a small rule-set of their own, so that the shipped
# templates can grow without changing what these tests read.
TEST_RULESET = """
[ruleset]
code = "screens"
name = "测试用实施细则"
stale_days = 365

[[entry]]
templates = ["branch"]
category = "党支部工作"
content = "党支部委员会组成及分工"
basis = "BJ 7(5)"
scope = "party"
scope_note = "本支部党员"
approval = "支委会研究，书记签发"
channels = "党员大会、党务公开平台"
start = "会后一周内"
duration = "永久"
responsible = "党支部"

[[entry]]
templates = ["branch"]
category = "党员队伍建设"
content = "发展党员、党员转正等情况"
basis = "BJ 7(4)"
scope = "unit"
scope_note = "本单位党员群众"
approval = "支委会研究，报上级党组织审批"
channels = "公开栏、党务公开平台"
start = "事项确定后5个工作日内"
duration = "1年"
responsible = "党支部组织委员"

[[entry]]
templates = ["local_committee"]
content = "党委全体会议情况"
basis = "BJ 6(4)"
scope = "society"
approval = "常委会决定，书记签发"
channels = "党务公开平台、互联网站"
start = "会后3日内"
"""


@pytest.fixture(autouse=True)
def screens_ruleset(settings: Any, tmp_path: Any) -> Any:
    (tmp_path / "screens.toml").write_text(TEST_RULESET, encoding="utf-8")
    settings.CATALOG_RULESET_DIRS = [str(tmp_path)]
    settings.CATALOG_RULESET = "screens"
    all_rulesets.cache_clear()
    yield
    all_rulesets.cache_clear()


@dataclass
class World:
    cast: Cast
    paula: User
    dave: User

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cast, name)


@pytest.fixture
def w(cast: Cast) -> World:
    role_grant(cast.bob, cast.branch1, Role.CLERK, actor=None)
    paula = make_user("paula", name="宝拉")
    role_grant(paula, cast.community, Role.PRINCIPAL, actor=None)
    dave = make_member("dave", cast.branch1, name="戴夫")
    return World(cast, paula, dave)


def url(name: str, *args: Any) -> str:
    return reverse(f"catalog:{name}", args=args)


def as_(client: Any, user: User | None) -> Any:
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def entry_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "content": "党费收缴、使用和管理情况",
        "category": "党员队伍建设",
        "basis": "BJ 7(4)",
        "scope": "party",
        "audience_note": "",
        "step1": "body",
        "body1": "支委会",
        "step2": "principal",
        "channels": ["meeting", "board"],
        "timing_kind": "periodic",
        "period": "quarterly",
        "day": "10",
        "duration_unit": "years",
        "duration_n": "1",
        "within_unit": "days",
        "responsible": "党支部组织委员",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def draft(w: World) -> CatalogVersion:
    return actions.catalog_generate_draft(w.branch1, actor=w.bob)


def filed(w: World) -> CatalogVersion:
    version = draft(w)
    actions.catalog_adopt(version, actor=w.alice, meeting="支委会", decided_on=timezone.localdate())
    return actions.catalog_file(version, actor=w.bob)


def published(w: World, audience: Audience | None = None) -> CatalogVersion:
    version = filed(w)
    actions.catalog_acknowledge(version, actor=w.paula)
    return actions.catalog_publish(version, actor=w.bob, audience=audience)


def fresh(version: CatalogVersion) -> CatalogVersion:
    return CatalogVersion.objects.get(pk=version.pk)


def follow(response: Any) -> str:
    return str(response.content.decode())


# --- the organization's catalog page ------------------------------------------------------


def test_anonymous_visitors_see_that_nothing_is_published_yet(client, w):
    response = client.get(url("org", w.branch1.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "尚未向社会公开" in html
    assert "目录办理" not in html and "依据模板生成" not in html


def test_the_clerk_and_the_principal_are_offered_to_generate_the_draft(client, w):
    for person in (w.bob, w.alice):
        html = as_(client, person).get(url("org", w.branch1.pk)).content.decode()
        assert "依据模板生成目录草稿" in html
    html = as_(client, w.charlie).get(url("org", w.branch1.pk)).content.decode()
    assert "依据模板生成目录草稿" not in html and "目录办理" not in html


def test_the_org_directory_page_links_to_the_catalog(client, w):
    html = client.get(reverse("orgs:detail", args=[w.branch1.pk])).content.decode()
    assert url("org", w.branch1.pk) in html


def test_an_unknown_organization_is_a_404(client, w):
    assert client.get(url("org", 999_999)).status_code == 404


# --- generating -----------------------------------------------------------------------------


def test_generating_asks_anonymous_visitors_to_log_in(client, w):
    response = client.post(url("generate", w.branch1.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not CatalogVersion.objects.exists()


def test_a_member_of_another_branch_cannot_generate(client, w):
    response = as_(client, w.charlie).post(url("generate", w.branch1.pk))
    assert response.status_code == 403
    assert "无权编制" in response.content.decode()
    assert not CatalogVersion.objects.exists()


def test_the_clerk_generates_the_draft_from_the_template(client, w):
    response = as_(client, w.bob).post(url("generate", w.branch1.pk))
    version = CatalogVersion.objects.get()
    assert response.status_code == 302 and response["Location"] == url("version", version.pk)
    assert version.status == S.DRAFT and version.entries.exists()
    html = client.get(url("version", version.pk)).content.decode()
    assert "已依据模板生成目录草稿" in html
    assert "党支部委员会组成及分工" in html


def test_generating_twice_says_why_and_changes_nothing(client, w):
    draft(w)
    response = as_(client, w.bob).post(url("generate", w.branch1.pk), follow=True)
    assert "该组织已有目录" in follow(response)
    assert CatalogVersion.objects.count() == 1


# --- the version page: who sees a draft, who sees a published version ---------------------


def test_a_draft_is_a_404_for_anonymous_visitors_and_plain_members(client, w):
    version = draft(w)
    for person in (None, w.charlie, w.dave, w.dora):
        assert as_(client, person).get(url("version", version.pk)).status_code == 404


def test_a_draft_is_shown_to_its_staff_and_to_the_parent(client, w):
    version = draft(w)
    for person in (w.alice, w.bob, w.paula):
        response = as_(client, person).get(url("version", version.pk))
        assert response.status_code == 200, person


def test_the_version_page_shows_the_nine_columns_of_the_sheet(client, w):
    version = draft(w)
    html = as_(client, w.bob).get(url("version", version.pk)).content.decode()
    for column in [
        "公开内容",
        "公开范围",
        "审批程序",
        "公开方式",
        "公开起始时点",
        "公开时长",
        "责任主体",
        "协同单位或人员",
        "备注",
    ]:
        assert f">{column}</th>" in html
    # The template entry reads as the sheet does.
    assert "会后1周内" in html and "永久" in html and "支委会研究，书记签发" in html
    assert "依据 BJ 7(5)" in html


def test_a_published_version_shows_to_its_audience_and_to_no_one_else(client, w):
    version = published(w, Audience(party=(w.branch1.pk,)))
    assert as_(client, w.dave).get(url("version", version.pk)).status_code == 200
    for person in (None, w.charlie, w.dora, w.erin):
        assert as_(client, person).get(url("version", version.pk)).status_code == 404


def test_a_catalog_published_to_society_shows_to_anonymous_visitors(client, w):
    version = published(w, Audience(society=True))
    response = client.get(url("version", version.pk))
    assert response.status_code == 200
    html = client.get(url("org", w.branch1.pk)).content.decode()
    assert "党支部委员会组成及分工" in html and "向社会公开" in html
    # The audience sees the catalog, not the workflow behind it.
    assert 'id="workflow"' not in html and "报上级备案" not in html


# --- editing entries ------------------------------------------------------------------------


def test_the_entry_form_asks_anonymous_visitors_to_log_in(client, w):
    version = draft(w)
    response = client.get(url("entry_add", version.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_entry_form_is_a_404_for_whoever_cannot_see_the_draft(client, w):
    version = draft(w)
    entry = version.entries.get(position=1)
    for person in (w.charlie, w.dave):
        as_(client, person)
        assert client.get(url("entry_add", version.pk)).status_code == 404
        assert client.get(url("entry_edit", entry.pk)).status_code == 404
        assert client.post(url("entry_delete", entry.pk)).status_code == 404
    assert version.entries.count() == 2


def test_the_parent_sees_the_draft_but_may_not_edit_it(client, w):
    version = draft(w)
    as_(client, w.paula)
    assert client.get(url("entry_add", version.pk)).status_code == 403
    response = client.post(url("entry_add", version.pk), entry_data())
    assert response.status_code == 403
    assert version.entries.count() == 2


def test_the_clerk_adds_an_entry_by_picking_from_lists(client, w):
    version = draft(w)
    response = as_(client, w.bob).post(url("entry_add", version.pk), entry_data())
    assert response.status_code == 302
    entry = version.entries.get(content="党费收缴、使用和管理情况")
    assert entry.position == 3
    assert entry.audience_text() == "湖滨社区第一党支部党内公开"
    assert entry.approval_text() == "支委会集体研究决定，书记签发"
    assert entry.channels_text() == "召开会议、公开栏"
    assert entry.start_text() == "每季度首月10日前"
    assert entry.duration_text() == "1年"
    html = client.get(url("version", version.pk)).content.decode()
    assert "条目已保存" in html and "每季度首月10日前" in html


def test_the_entry_form_offers_the_lists(client, w):
    version = draft(w)
    html = as_(client, w.bob).get(url("entry_add", version.pk)).content.decode()
    for choice in ["本组织党内", "本单位", "向社会公开", "特定组织"]:
        assert choice in html
    for step in ["本组织书记签发", "审批人审批", "集体研究决定", "报上级党组织审批"]:
        assert step in html
    for body in ["支委会", "党委会", "常委会", "全委会", "党员大会"]:
        assert f'<option value="{body}">' in html
    assert 'type="checkbox" name="channels" value="board"' in html
    for kind in ["长期公开", "定期公开", "分期公开", "即时公开", "延期公开"]:
        assert kind in html


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"content": ""}, "请填写公开内容。"),
        ({"channels": []}, "请至少选择一种公开方式。"),
        ({"body1": ""}, "请填写集体研究决定的会议名称"),
        ({"period": ""}, "定期公开须指定周期"),
        ({"day": "", "nth": "1"}, "须同时给出第几个和星期几"),
        ({"nth": "1", "weekday": "4"}, "请在“第几个星期几”和“几日前”中选择一种"),
        ({"duration_n": ""}, "公开时长须为正整数"),
        ({"scope": "orgs"}, "请选择公开的特定组织"),
        ({"timing_kind": "immediate", "within": "0"}, "确保该值大于或等于1"),
    ],
)
def test_a_wrong_entry_is_refused_with_the_reason_next_to_the_field(client, w, over, message):
    version = draft(w)
    response = as_(client, w.bob).post(url("entry_add", version.pk), entry_data(**over))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'class="errorlist' in html and "请按提示修改" in html
    assert version.entries.count() == 2


def test_the_edit_form_is_filled_in_from_the_entry(client, w):
    version = draft(w)
    entry = version.entries.get(position=2)  # 发展党员… 事项确定后5个工作日内，1年
    form = as_(client, w.bob).get(url("entry_edit", entry.pk)).context["form"]
    assert form["timing_kind"].value() == "immediate"
    assert form["trigger"].value() == "事项确定"
    assert form["within"].value() == 5 and form["within_unit"].value() == "working_days"
    assert form["duration_unit"].value() == "years" and form["duration_n"].value() == 1
    assert form["scope"].value() == "unit"
    assert form["step1"].value() == "body" and form["body1"].value() == "支委会"
    assert form["step2"].value() == "parent"
    assert set(form["channels"].value()) == {"board", "platform"}


def test_editing_keeps_the_office_wording_of_unchanged_steps(client, w):
    version = draft(w)
    entry = version.entries.get(position=1)
    form = as_(client, w.bob).get(url("entry_edit", entry.pk)).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["content"] = "党支部委员会组成及分工调整情况"
    data["channels"] = ["meeting", "board", "platform"]
    response = client.post(url("entry_edit", entry.pk), data)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.content == "党支部委员会组成及分工调整情况"
    assert entry.approval_text() == "支委会研究，书记签发"
    assert entry.channels_text() == "召开会议、公开栏、党务公开平台"
    assert entry.start_text() == "会后1周内"


def test_duplicating_moving_and_deleting_entries(client, w):
    version = draft(w)
    first, second = version.entries.order_by("position")
    as_(client, w.bob)

    client.post(url("entry_duplicate", first.pk))
    contents = list(version.entries.order_by("position").values_list("content", flat=True))
    assert contents == [first.content, first.content, second.content]

    client.post(url("entry_move", second.pk), {"direction": "up"})
    order = list(version.entries.order_by("position").values_list("pk", flat=True))
    assert order.index(second.pk) == 1

    client.post(url("entry_move", first.pk), {"direction": "down"})
    order = list(version.entries.order_by("position").values_list("pk", flat=True))
    assert order.index(first.pk) == 1

    response = client.post(url("entry_delete", first.pk), follow=True)
    assert "已删除第2条" in follow(response)
    assert not version.entries.filter(pk=first.pk).exists()
    assert list(version.entries.order_by("position").values_list("position", flat=True)) == [1, 2]


def test_the_version_page_offers_editing_only_to_editors_of_an_editable_version(client, w):
    version = draft(w)
    html = as_(client, w.bob).get(url("version", version.pk)).content.decode()
    assert "新增条目" in html and "上移第2条" in html and "删除第1条" in html
    html = as_(client, w.paula).get(url("version", version.pk)).content.decode()
    assert "新增条目" not in html and "删除第1条" not in html


def test_a_filed_version_cannot_be_edited(client, w):
    version = filed(w)
    entry = version.entries.get(position=1)
    as_(client, w.bob)
    response = client.get(url("entry_edit", entry.pk), follow=True)
    assert "不能修改" in follow(response)
    response = client.post(url("entry_delete", entry.pk), follow=True)
    assert "不能修改" in follow(response)
    assert version.entries.count() == 2


# --- the lifecycle steps --------------------------------------------------------------------


def adopt_data(**over: Any) -> dict[str, str]:
    data = {"meeting": "支部委员会会议", "decided_on": timezone.localdate().isoformat()}
    data.update(over)
    return data


def test_only_the_principal_records_the_adoption(client, w):
    version = draft(w)
    response = as_(client, w.bob).post(url("adopt", version.pk), adopt_data())
    assert response.status_code == 403
    assert "主要负责人" in response.content.decode()
    assert fresh(version).status == S.DRAFT
    assert as_(client, w.charlie).post(url("adopt", version.pk), adopt_data()).status_code == 404
    as_(client, None)
    response = client.post(url("adopt", version.pk), adopt_data())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))

    as_(client, w.alice).post(url("adopt", version.pk), adopt_data())
    version = fresh(version)
    assert version.status == S.ADOPTED
    assert version.adopted_meeting == "支部委员会会议" and version.leader_name == "艾丽"


def test_an_adoption_in_the_future_is_refused_with_a_message(client, w):
    version = draft(w)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = as_(client, w.alice).post(
        url("adopt", version.pk), adopt_data(decided_on=tomorrow.isoformat()), follow=True
    )
    assert "审议日期不能晚于今天" in follow(response)
    assert fresh(version).status == S.DRAFT
    response = client.post(url("adopt", version.pk), adopt_data(meeting=""), follow=True)
    assert "请填写审议目录的会议" in follow(response)
    assert fresh(version).status == S.DRAFT


def test_filing_is_for_the_catalog_staff(client, w):
    version = draft(w)
    actions.catalog_adopt(version, actor=w.alice, meeting="支委会", decided_on=timezone.localdate())
    assert as_(client, w.charlie).post(url("file", version.pk)).status_code == 404
    assert as_(client, w.paula).post(url("file", version.pk)).status_code == 403
    response = as_(client, w.bob).post(url("file", version.pk), follow=True)
    assert "目录已报湖滨社区党委备案" in follow(response)
    assert fresh(version).status == S.FILED


def test_only_the_parent_acknowledges_or_returns(client, w):
    version = filed(w)
    for person in (w.alice, w.bob):
        as_(client, person)
        assert client.post(url("acknowledge", version.pk)).status_code == 403
        assert client.post(url("return", version.pk), {"comment": "x"}).status_code == 403
    assert fresh(version).status == S.FILED
    html = as_(client, w.paula).get(url("org", w.branch1.pk)).content.decode()
    assert "确认备案" in html and "退回修改" in html


def test_a_return_needs_a_comment_and_the_clerk_reads_it(client, w):
    version = filed(w)
    as_(client, w.paula)
    response = client.post(url("return", version.pk), {"comment": " "}, follow=True)
    assert "退回修改须写明意见" in follow(response)
    assert fresh(version).status == S.FILED
    client.post(url("return", version.pk), {"comment": "请补充党费收缴使用情况的公开条目"})
    assert fresh(version).status == S.RETURNED
    html = as_(client, w.bob).get(url("org", w.branch1.pk)).content.decode()
    assert "上级退回意见" in html and "请补充党费收缴使用情况的公开条目" in html


def test_publishing_asks_for_the_audience(client, w):
    version = filed(w)
    actions.catalog_acknowledge(version, actor=w.paula)
    as_(client, w.bob)
    html = client.get(url("org", w.branch1.pk)).content.decode()
    assert "党内公开（湖滨社区第一党支部的党员）" in html and "向社会公开" in html
    response = client.post(url("publish", version.pk), {"scope": "nobody"}, follow=True)
    assert "请选择目录的公开范围" in follow(response)
    assert fresh(version).status == S.ACKNOWLEDGED
    society = {"scope": "society"}
    assert as_(client, w.dave).post(url("publish", version.pk), society).status_code == 404
    assert as_(client, w.paula).post(url("publish", version.pk), society).status_code == 403
    as_(client, w.bob).post(url("publish", version.pk), {"scope": "unit"})
    version = fresh(version)
    assert version.status == S.PUBLISHED
    assert version.get_audience() == Audience(units=(w.branch1.pk,))


def test_a_root_organization_publishes_once_adopted(client, w):
    secretary = make_user("wang", name="王书记")
    role_grant(secretary, w.city, Role.PRINCIPAL, actor=None)
    version = actions.catalog_generate_draft(w.city, actor=secretary)
    actions.entry_add(version, actor=secretary, **_fields(w.city))
    as_(client, secretary).post(url("adopt", version.pk), adopt_data(meeting="市委常委会"))
    html = client.get(url("org", w.city.pk)).content.decode()
    assert "下一步：公开目录" in html and "报上级" not in html
    client.post(url("publish", version.pk), {"scope": "society"})
    assert fresh(version).status == S.PUBLISHED
    assert as_(client, None).get(url("version", version.pk)).status_code == 200


def _fields(org: Organization) -> dict[str, Any]:
    return {
        "content": "市委全体会议、常委会会议情况",
        "audience": Audience(society=True).to_json(),
        "channels": ["website"],
        "timing": {"kind": "long_term"},
    }


def test_comments_are_for_the_parent_and_stay_with_the_staff(client, w):
    version = draft(w)
    response = as_(client, w.dave).post(url("comment", version.pk), {"text": "好"})
    assert response.status_code == 404
    as_(client, w.paula).post(url("comment", version.pk), {"text": "建议增加党费公开条目"})
    assert CatalogEvent.objects.filter(kind=CatalogEvent.Kind.COMMENT).count() == 1
    html = as_(client, w.bob).get(url("org", w.branch1.pk)).content.decode()
    assert "建议增加党费公开条目" in html


def test_the_public_history_shows_publication_but_not_the_internal_steps(client, w):
    version = filed(w)
    actions.catalog_return(version, actor=w.paula, comment="内部意见：请补充")
    actions.catalog_adopt(version, actor=w.alice, meeting="支委会", decided_on=timezone.localdate())
    actions.catalog_file(version, actor=w.bob)
    actions.catalog_acknowledge(version, actor=w.paula)
    actions.catalog_publish(version, actor=w.bob, audience=Audience(society=True))
    html = client.get(url("org", w.branch1.pk)).content.decode()
    assert "公开目录" in html and "内部意见" not in html
    html = as_(client, w.bob).get(url("org", w.branch1.pk)).content.decode()
    assert "内部意见：请补充" in html


# --- CAT-7: entry states --------------------------------------------------------------------


def test_the_parent_principal_withholds_an_entry_with_a_public_explanation(client, w):
    version = published(w, Audience(society=True))
    entry = version.entries.get(position=2)
    assert client.get(url("entry_state", entry.pk)).status_code == 302  # anonymous → login
    for person in (w.alice, w.bob):
        assert as_(client, person).get(url("entry_state", entry.pk)).status_code == 403
    as_(client, w.paula)
    html = client.get(url("version", version.pk)).content.decode()
    assert "调整第2条的状态" in html
    response = client.post(url("entry_state", entry.pk), {"state": "withheld", "explanation": ""})
    assert "请填写向公开对象说明的理由" in response.content.decode()
    client.post(
        url("entry_state", entry.pk),
        {"state": "withheld", "explanation": "涉及个人信息，待脱敏后公开。"},
    )
    entry.refresh_from_db()
    assert entry.state == CatalogEntry.State.WITHHELD
    html = as_(client, None).get(url("version", version.pk)).content.decode()
    assert "暂缓公开" in html and "涉及个人信息，待脱敏后公开。" in html


def test_entry_states_apply_to_published_catalogs_only(client, w):
    version = draft(w)
    entry = version.entries.get(position=1)
    response = as_(client, w.paula).post(
        url("entry_state", entry.pk), {"state": "withheld", "explanation": "理由"}
    )
    assert "只能调整已公开目录中条目的状态" in response.content.decode()
    entry.refresh_from_db()
    assert entry.state == CatalogEntry.State.ACTIVE


# --- comparing versions ---------------------------------------------------------------------


def adjusted(w: World) -> tuple[CatalogVersion, CatalogVersion]:
    v1 = published(w, Audience(party=(w.branch1.pk,)))
    v2 = actions.catalog_adjust(w.branch1, actor=w.bob, note="增加党费公开条目")
    first = v2.entries.get(position=1)
    actions.entry_update(first, actor=w.bob, channels=["meeting", "board", "platform"])
    actions.entry_add(
        v2,
        actor=w.bob,
        content="党费收缴、使用和管理情况",
        audience=Audience(party=(w.branch1.pk,)).to_json(),
        channels=["board"],
        timing={"kind": "periodic", "period": "quarterly", "day": 10},
    )
    return v1, v2


def test_the_diff_shows_what_changed_between_two_versions(client, w):
    v1, v2 = adjusted(w)
    response = as_(client, w.bob).get(url("diff", w.branch1.pk), {"a": v1.pk, "b": v2.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "新增 1 条，删除 0 条，修改 1 条，调整顺序 0 条，未变化 1 条" in html
    assert "党费收缴、使用和管理情况" in html
    assert "召开会议、党务公开平台" in html and "召开会议、公开栏、党务公开平台" in html
    # The default pair is the newest version and the one it was adjusted from.
    html = client.get(url("diff", w.branch1.pk)).content.decode()
    assert "第1版 → 第2版" in html


def test_the_diff_only_compares_versions_the_person_may_see(client, w):
    v1, v2 = adjusted(w)
    as_(client, w.dave)  # sees the published v1, not the draft v2
    assert client.get(url("diff", w.branch1.pk), {"a": v1.pk, "b": v2.pk}).status_code == 404
    assert client.get(url("diff", w.branch1.pk)).status_code == 200
    for person in (None, w.charlie):
        assert as_(client, person).get(url("diff", w.branch1.pk)).status_code == 404
    assert as_(client, w.bob).get(url("diff", w.branch1.pk), {"a": "x"}).status_code == 404


def test_the_version_page_links_to_the_changes_from_its_base(client, w):
    v1, v2 = adjusted(w)
    html = as_(client, w.bob).get(url("version", v2.pk)).content.decode()
    assert f"?a={v1.pk}&amp;b={v2.pk}" in html and "查看调整内容" in html


# --- the parent's overview ------------------------------------------------------------------


def test_the_overview_is_for_the_parent_staff(client, w):
    response = client.get(url("subtree", w.community.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for person in (w.charlie, w.alice, w.dave):
        assert as_(client, person).get(url("subtree", w.community.pk)).status_code == 403
    filed(w)
    response = as_(client, w.paula).get(url("subtree", w.community.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "湖滨社区第一党支部" in html and "湖滨社区第二党支部" in html
    assert '待确认 <span class="n">1</span>' in html and '未编制 <span class="n">1</span>' in html


def test_the_parent_comments_from_the_overview(client, w):
    version = filed(w)
    as_(client, w.paula)
    next_url = url("subtree", w.community.pk)
    response = client.post(url("comment", version.pk), {"text": "请尽快完善", "next": next_url})
    assert response["Location"] == next_url
    assert CatalogEvent.objects.filter(kind="comment", text="请尽快完善").exists()


def test_a_foreign_next_address_is_ignored(client, w):
    version = filed(w)
    response = as_(client, w.paula).post(
        url("comment", version.pk), {"text": "意见", "next": "https://evil.example/"}
    )
    assert response["Location"] == url("org", w.branch1.pk)


# --- the whole lifecycle through the screens -------------------------------------------------


def test_the_whole_lifecycle_through_the_screens(client, w):
    branch = w.branch1

    # The clerk generates the draft and edits it: add, duplicate, reorder, delete.
    as_(client, w.bob).post(url("generate", branch.pk))
    version = CatalogVersion.objects.get(catalog__org=branch)
    client.post(url("entry_add", version.pk), entry_data(content="“三会一课”制度执行情况"))
    added = version.entries.get(content="“三会一课”制度执行情况")
    client.post(url("entry_duplicate", added.pk))
    copy = version.entries.exclude(pk=added.pk).get(content=added.content)
    client.post(url("entry_edit", copy.pk), entry_data(content="主题党日活动开展情况"))
    client.post(url("entry_move", copy.pk), {"direction": "up"})
    client.post(url("entry_move", copy.pk), {"direction": "up"})
    client.post(url("entry_delete", added.pk))
    contents = list(version.entries.order_by("position").values_list("content", flat=True))
    assert contents == [
        "党支部委员会组成及分工",
        "主题党日活动开展情况",
        "发展党员、党员转正等情况",
    ]

    # The secretary adopts; the clerk files with the community committee.
    as_(client, w.alice).post(url("adopt", version.pk), adopt_data())
    as_(client, w.bob).post(url("file", version.pk))
    assert fresh(version).status == S.FILED

    # The parent returns it with a comment.
    as_(client, w.paula).post(
        url("return", version.pk), {"comment": "请补充党费收缴使用情况的公开条目"}
    )
    assert fresh(version).status == S.RETURNED

    # The clerk fixes it: editing makes it a draft again; adopted and filed once more.
    as_(client, w.bob).post(url("entry_add", version.pk), entry_data())
    assert fresh(version).status == S.DRAFT
    as_(client, w.alice).post(url("adopt", version.pk), adopt_data())
    as_(client, w.bob).post(url("file", version.pk))
    assert fresh(version).status == S.FILED

    # The parent acknowledges; the clerk publishes to the branch's party members.
    as_(client, w.paula).post(url("acknowledge", version.pk), {"comment": "同意备案"})
    as_(client, w.bob).post(url("publish", version.pk), {"scope": "party"})
    assert fresh(version).status == S.PUBLISHED

    # A member of the branch sees it; a member of another branch and the public do not.
    html = as_(client, w.dave).get(url("org", branch.pk)).content.decode()
    assert "党费收缴、使用和管理情况" in html and "主题党日活动开展情况" in html
    assert as_(client, w.dave).get(url("version", version.pk)).status_code == 200
    assert as_(client, w.charlie).get(url("version", version.pk)).status_code == 404
    assert "党费收缴" not in as_(client, w.charlie).get(url("org", branch.pk)).content.decode()
    assert as_(client, None).get(url("version", version.pk)).status_code == 404

    # Later it goes to society (先党内后党外): a new version, the same steps again.
    as_(client, w.bob).post(url("adjust", branch.pk), {"note": "向社会公开"})
    second = CatalogVersion.objects.get(catalog__org=branch, status=S.DRAFT)
    assert second.number == 2 and second.entries.count() == 4
    as_(client, w.alice).post(url("adopt", second.pk), adopt_data())
    as_(client, w.bob).post(url("file", second.pk))
    as_(client, w.paula).post(url("acknowledge", second.pk))
    as_(client, w.bob).post(url("publish", second.pk), {"scope": "society"})
    assert fresh(second).status == S.PUBLISHED and fresh(version).status == S.SUPERSEDED

    html = as_(client, None).get(url("org", branch.pk)).content.decode()
    assert "党费收缴、使用和管理情况" in html and "第2版" in html
    assert client.get(url("version", second.pk)).status_code == 200
    # The superseded party-only version stays with its own audience.
    assert client.get(url("version", version.pk)).status_code == 404
    html = as_(client, w.dave).get(url("version", version.pk)).content.decode()
    assert "已被新版本替代" in html

    # The history tells the story for the staff.
    html = as_(client, w.bob).get(url("org", branch.pk)).content.decode()
    for word in ["建立草稿", "审议通过", "报上级备案", "退回修改", "确认备案", "公开目录"]:
        assert word in html
    assert "请补充党费收缴使用情况的公开条目" in html


def test_the_editor_is_offered_the_sheet_downloads_and_the_import(client, w):
    version = draft(w)
    html = as_(client, w.bob).get(url("version", version.pk)).content.decode()
    for name in ("sheet_xlsx", "sheet_docx", "sheet_pdf", "sheet_import"):
        assert url(name, version.pk) in html


def test_the_audience_is_offered_the_downloads_but_not_the_import(client, w):
    version = published(w, Audience(party=(w.branch1.pk,)))
    html = as_(client, w.dave).get(url("version", version.pk)).content.decode()
    assert url("sheet_pdf", version.pk) in html
    assert url("sheet_import", version.pk) not in html
