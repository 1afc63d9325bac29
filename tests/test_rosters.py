"""Roster import and export: what offices type into Excel goes in whole or not at all."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from dwgk.accounts import rosters
from dwgk.accounts.models import Affiliation, Membership, User
from dwgk.accounts.rosters import KIND_ORGS, KIND_PEOPLE, import_roster, parse_date
from dwgk.audit.models import AuditEntry
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.orgs.models import Organization, OrgEvent

ORG_HEADER = ["组织编码*", "组织名称*", "简称", "组织类型*", "上级组织编码", "排序"]
PEOPLE_HEADER = [
    "登录名*",
    "姓名*",
    "手机号码",
    "电子邮箱",
    "政治面貌",
    "所在党支部编码",
    "所在单位编码",
    "单位身份",
    "转入日期",
]


def xlsx(*rows, title=None):
    """A workbook built in memory, optionally with a merged title row above the header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_file(*rows, encoding="utf-8-sig"):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def read_xlsx(data):
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def import_orgs(data, actor=None, within=None, **kw):
    return import_roster(data, kind=KIND_ORGS, actor=actor, within=within, **kw)


def import_people(data, actor=None, within=None, **kw):
    return import_roster(data, kind=KIND_PEOPLE, actor=actor, within=within, **kw)


def counts():
    """Everything an import could write, counted."""
    return (
        Organization.objects.count(),
        OrgEvent.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Affiliation.objects.count(),
        AuditEntry.objects.count(),
    )


def messages(result):
    return [str(e) for e in result.errors]


# --- good files -----------------------------------------------------------------------


def test_a_good_xlsx_creates_organizations_under_existing_ones_and_earlier_rows(cast):
    data = xlsx(
        ORG_HEADER,
        ["MZ-DH-HB-SQ3", "湖滨第三社区党委", "三社区", "社区党委", "MZ-DH-HB", 3],
        ["MZ-DH-HB-SQ3-1", "湖滨第三社区第一党支部", "", "branch", "MZ-DH-HB-SQ3", 1],
    )
    result = import_orgs(data, actor=cast.olga, within=cast.district, filename="orgs.xlsx")

    assert result.ok, messages(result)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    community = Organization.objects.get(code="MZ-DH-HB-SQ3")
    branch = Organization.objects.get(code="MZ-DH-HB-SQ3-1")
    assert (community.parent, community.short_name, community.sort_order) == (
        cast.street,
        "三社区",
        3,
    )
    assert branch.parent == community and branch.org_type.code == "branch"
    assert branch.is_in_subtree_of(cast.district)
    entry = AuditEntry.objects.get(action="roster.import")
    assert entry.actor == cast.olga and entry.org_id_at_time == cast.district.pk
    assert entry.data["created"] == 2 and entry.data["kind"] == "orgs"


def test_a_good_csv_brings_in_new_people_as_members_and_residents(cast):
    data = csv_file(
        PEOPLE_HEADER,
        [
            "zhangsan",
            "张三",
            "13800000001",
            "zs@example.com",
            "中共党员",
            "MZ-DH-HB-SQ-2",
            "",
            "",
            "2024-01-05",
        ],
        ["lisi", "李四", "", "", "中共预备党员", "MZ-DH-HB-SQ-1", "MZ-DH-HB-SQ", "居民", ""],
        ["wangwu", "王五", "", "", "群众", "", "MZ-DH-HB-SQ", "居民", "2023-03-01"],
    )
    result = import_people(data, actor=cast.olga, within=cast.district, filename="people.csv")

    assert result.ok, messages(result)
    assert result.created == 3
    zhang = User.objects.get(username="zhangsan")
    assert (zhang.name, zhang.phone, zhang.email) == ("张三", "13800000001", "zs@example.com")
    assert not zhang.has_usable_password()
    m = Membership.objects.get(user=zhang, ended_on__isnull=True)
    assert (m.branch, m.kind, m.started_on) == (cast.branch2, "full", datetime.date(2024, 1, 5))
    li = User.objects.get(username="lisi")
    assert Membership.objects.get(user=li).kind == "probationary"
    assert Affiliation.objects.get(user=li).kind == "resident"
    wang = User.objects.get(username="wangwu")
    assert not Membership.objects.filter(user=wang).exists()
    assert Affiliation.objects.get(user=wang).started_on == datetime.date(2023, 3, 1)


def test_an_existing_code_renames_and_moves_the_organization_with_its_history(cast):
    data = xlsx(ORG_HEADER, ["MZ-DH-HB-SQ", "湖滨中心社区党委", "", "社区党委", "MZ-DH", ""])
    result = import_orgs(data, actor=cast.olga, within=cast.district)

    assert result.ok, messages(result)
    assert result.updated == 1
    cast.community.refresh_from_db()
    assert cast.community.name == "湖滨中心社区党委"
    assert cast.community.parent == cast.district
    assert set(OrgEvent.objects.filter(org=cast.community).values_list("kind", flat=True)) == {
        OrgEvent.Kind.RENAMED,
        OrgEvent.Kind.MOVED,
    }
    cast.branch1.refresh_from_db()
    assert cast.branch1.is_in_subtree_of(cast.community)


def test_an_existing_person_is_updated_and_transferred_to_the_branch_in_the_file(cast):
    data = xlsx(
        PEOPLE_HEADER,
        ["bob", "鲍博", "13900000000", "", "中共党员", "MZ-DH-HB-SQ-2", "", "", "2024-06-01"],
    )
    result = import_people(data, actor=cast.olga, within=cast.district)

    assert result.ok, messages(result)
    assert result.updated == 1
    cast.bob.refresh_from_db()
    assert (cast.bob.name, cast.bob.phone) == ("鲍博", "13900000000")
    history = Membership.objects.filter(user=cast.bob).order_by("started_on")
    assert [(m.branch, m.ended_on) for m in history] == [
        (cast.branch1, datetime.date(2024, 6, 1)),
        (cast.branch2, None),
    ]


# --- all or nothing -------------------------------------------------------------------


def test_a_file_with_one_bad_row_changes_nothing_and_names_the_row(cast):
    good = [[f"MZ-DH-N{i}", f"新组织{i}", "", "党支部", "MZ-DH-HB-SQ", str(i)] for i in range(5)]
    bad = ["MZ-DH-BAD", "错误组织", "", "党支部", "NOPE", ""]  # row 7 in Excel
    rows = [ORG_HEADER, *good, bad]
    before = counts()

    result = import_orgs(xlsx(*rows), actor=cast.olga, within=cast.district)

    assert not result.ok
    assert messages(result) == ["第 7 行「上级组织编码」：找不到编码为 NOPE 的组织"]
    assert counts() == before
    assert (result.created, result.updated) == (0, 0)


def test_every_bad_row_is_listed_with_its_column_and_reason(cast):
    data = xlsx(
        PEOPLE_HEADER,
        ["ok1", "好人", "", "", "群众", "", "MZ-DH-HB-SQ", "居民", ""],
        ["", "无名", "", "", "群众", "", "MZ-DH-HB-SQ", "居民", ""],
        ["p3", "某人", "12ab", "not-an-email", "中共党员", "", "", "", "2024-13-01"],
        ["p4", "某人", "", "", "中共党员", "MZ-DH-HB-SQ", "", "", ""],
        ["p5", "某人", "", "", "党外人士", "", "MZ-DH-HB-SQ", "学者", "明天"],
    )
    before = counts()

    result = import_people(data, actor=cast.olga, within=cast.district)

    assert counts() == before
    got = messages(result)
    assert "第 3 行「登录名」：不能为空" in got
    assert "第 4 行「手机号码」：“12ab”不是有效的电话号码" in got
    assert "第 4 行「电子邮箱」：“not-an-email”不是有效的电子邮箱地址" in got
    assert "第 4 行「转入日期」：日期“2024-13-01”不存在" in got
    assert "第 4 行「所在党支部编码」：中共党员和中共预备党员须填写所在党支部编码" in got
    assert "第 5 行「所在党支部编码」：「湖滨社区党委」不是党支部，党员只能编入党支部" in got
    assert any(m.startswith("第 6 行「政治面貌」：“党外人士”无法识别") for m in got)
    assert any(m.startswith("第 6 行「单位身份」：请填写以下之一：职工、教职工") for m in got)
    assert any(m.startswith("第 6 行「转入日期」：无法识别日期“明天”") for m in got)
    assert not any(m.startswith("第 2 行") for m in got)


def test_an_action_refusing_a_row_during_the_writes_rolls_everything_back(cast, monkeypatch):
    def refuse(*args, **kwargs):
        raise ActionError("单位拒绝接收。")

    monkeypatch.setattr(rosters, "affiliate", refuse)
    data = xlsx(
        PEOPLE_HEADER,
        ["first", "甲", "", "", "中共党员", "MZ-DH-HB-SQ-1", "", "", ""],
        ["second", "乙", "", "", "群众", "", "MZ-DH-HB-SQ", "居民", ""],
    )
    before = counts()

    result = import_people(data, actor=cast.olga, within=cast.district)

    assert messages(result) == ["第 3 行：单位拒绝接收。"]
    assert counts() == before


def test_a_dry_run_checks_and_reports_but_writes_nothing(cast):
    data = xlsx(ORG_HEADER, ["MZ-DH-NEW", "新党委", "", "社区党委", "MZ-DH-HB", ""])
    before = counts()

    result = import_orgs(data, actor=cast.olga, within=cast.district, dry_run=True)

    assert result.ok and result.created == 1
    assert "未写入" in result.summary()
    assert counts() == before


def test_duplicate_codes_and_usernames_in_one_file_are_errors(cast):
    orgs = xlsx(
        ORG_HEADER,
        ["MZ-DH-X", "甲", "", "党支部", "MZ-DH-HB-SQ", ""],
        ["ＭＺ－ＤＨ－Ｘ", "乙", "", "党支部", "MZ-DH-HB-SQ", ""],
    )
    people = xlsx(
        PEOPLE_HEADER,
        ["Zhao", "赵", "", "", "群众", "", "MZ-DH-HB-SQ", "居民", ""],
        ["zhao", "赵", "", "", "群众", "", "MZ-DH-HB-SQ", "居民", ""],
    )
    assert messages(import_orgs(orgs)) == ["第 3 行「组织编码」：与第 2 行重复"]
    assert messages(import_people(people)) == ["第 3 行「登录名」：与第 2 行重复"]


# --- what hand-typed sheets contain ---------------------------------------------------


def test_a_merged_title_row_above_the_header_is_passed_over(cast):
    data = xlsx(
        ORG_HEADER,
        ["MZ-DH-T1", "标题测试党支部", "", "党支部", "MZ-DH-HB-SQ", ""],
        title="东湖区党组织名册（2024年）",
    )
    result = import_orgs(data, within=cast.district)
    assert result.ok, messages(result)
    assert Organization.objects.filter(code="MZ-DH-T1").exists()


def test_blank_rows_are_skipped_and_rows_keep_the_numbers_excel_shows(cast):
    data = xlsx(
        ORG_HEADER,
        [],
        ["MZ-DH-B1", "甲支部", "", "党支部", "MZ-DH-HB-SQ", ""],
        [None, "", "  ", None],
        [],
        ["MZ-DH-B2", "乙支部", "", "没有这种类型", "MZ-DH-HB-SQ", ""],
    )
    result = import_orgs(data, within=cast.district)
    assert messages(result) == ["第 6 行「组织类型」：没有名称或代码为“没有这种类型”的组织类型"]


def test_full_width_characters_and_spaces_are_normalized(cast):
    orgs = xlsx(
        ORG_HEADER,
        ["　ＭＺ－ＤＨ－ＦＷ１ ", " 全角党支部　", "", " 党支部 ", "ＭＺ－ＤＨ－ＨＢ－ＳＱ", "２"],
    )
    people = xlsx(
        PEOPLE_HEADER,
        [
            "ｚｈｏｕ",
            "周　一",
            "１３８ ００００ ０００２",
            "",
            "中共党员",
            "ＭＺ－ＤＨ－ＦＷ１",
            "",
            "",
            "２０２４年１月５日",
        ],
    )
    assert import_orgs(orgs, within=cast.district).ok
    result = import_people(people, within=cast.district)

    assert result.ok, messages(result)
    org = Organization.objects.get(code="MZ-DH-FW1")
    assert (org.name, org.sort_order, org.parent) == ("全角党支部", 2, cast.community)
    zhou = User.objects.get(username="zhou")
    assert (zhou.name, zhou.phone) == ("周一", "13800000002")
    assert Membership.objects.get(user=zhou).started_on == datetime.date(2024, 1, 5)


def test_sample_rows_starting_with_例_are_skipped(cast):
    data = xlsx(
        ORG_HEADER,
        ["例：MZ-DH-01", "示例党支部", "", "党支部", "MZ-DH", 1],
        ["例", "也是示例", "", "", "", ""],
        ["MZ-DH-REAL", "真实党支部", "", "党支部", "MZ-DH-HB-SQ", ""],
    )
    result = import_orgs(data, within=cast.district)
    assert result.ok and result.created == 1
    assert not Organization.objects.filter(name__contains="示例").exists()


def test_a_gb18030_csv_saved_by_chinese_excel_is_read(cast):
    data = csv_file(
        ORG_HEADER,
        ["MZ-DH-GB", "国标编码党支部", "", "党支部", "MZ-DH-HB-SQ", ""],
        encoding="gb18030",
    )
    result = import_orgs(data, within=cast.district, filename="名册.csv")
    assert result.ok, messages(result)
    assert Organization.objects.get(code="MZ-DH-GB").name == "国标编码党支部"


def test_a_utf8_csv_without_bom_and_with_tabs_is_read(cast):
    data = "\n".join(
        ["\t".join(ORG_HEADER), "MZ-DH-TAB\t制表符党支部\t\t党支部\tMZ-DH-HB-SQ\t"]
    ).encode()
    result = import_orgs(data, within=cast.district)
    assert result.ok, messages(result)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-01-05", datetime.date(2024, 1, 5)),
        ("2024/1/5", datetime.date(2024, 1, 5)),
        ("2024年1月5日", datetime.date(2024, 1, 5)),
        ("２０２４．１．５", datetime.date(2024, 1, 5)),
        ("20240105", datetime.date(2024, 1, 5)),
        ("2024-01-05 00:00:00", datetime.date(2024, 1, 5)),
        (datetime.datetime(2024, 1, 5, 0, 0), datetime.date(2024, 1, 5)),
        (45296, datetime.date(2024, 1, 5)),  # an Excel date cell without a date format
        ("", None),
    ],
)
def test_dates_are_read_in_every_form_offices_write_them(cell, expected):
    assert parse_date(cell) == expected


def test_real_excel_date_cells_are_read(cast):
    data = xlsx(
        PEOPLE_HEADER,
        ["xdate", "日期人", "", "", "中共党员", "MZ-DH-HB-SQ-1", "", "", datetime.date(2021, 7, 1)],
    )
    assert import_people(data, within=cast.district).ok
    assert Membership.objects.get(user__username="xdate").started_on == datetime.date(2021, 7, 1)


# --- files of the wrong kind ----------------------------------------------------------


def test_a_file_renamed_to_xlsx_is_rejected_by_its_content(cast):
    fake = "这不是表格".encode() + b"\x89PNG\x00\x00"
    result = import_orgs(fake, filename="名册.xlsx")
    assert messages(result) == ["文件扩展名是 Excel，但内容不是 Excel 工作簿，无法导入。"]


def test_a_zip_that_is_not_a_workbook_is_rejected(cast):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    result = import_orgs(buf.getvalue(), filename="名册.xlsx")
    assert messages(result)[0].startswith("无法读取该 Excel 文件")


def test_a_workbook_with_a_damaged_sheet_is_rejected(cast):
    good = zipfile.ZipFile(io.BytesIO(xlsx(ORG_HEADER)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info in good.infolist():
            damaged = info.filename == "xl/worksheets/sheet1.xml"
            zf.writestr(info, b"<worksheet><sheetData><row" if damaged else good.read(info))
    result = import_orgs(buf.getvalue(), filename="名册.xlsx")
    assert not result.ok
    assert "无法" in messages(result)[0]


def test_an_old_xls_file_is_asked_to_be_saved_as_xlsx(cast):
    result = import_orgs(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, filename="名册.xls")
    assert "旧版 Excel（.xls）" in messages(result)[0]


def test_a_binary_file_named_csv_is_rejected(cast):
    result = import_orgs(b"\x00\x01\x02binary", filename="名册.csv")
    assert "不是文本格式的 CSV" in messages(result)[0]


def test_an_oversize_file_is_rejected_with_the_limit(cast, settings):
    settings.ROSTER_MAX_BYTES = 1024
    data = csv_file(
        ORG_HEADER, *[[f"C{i}", "名称" * 10, "", "党支部", "MZ", ""] for i in range(50)]
    )
    result = import_orgs(data)
    assert messages(result) == ["文件超过大小上限（1 KB），请分成几个文件导入。"]


def test_too_many_rows_are_rejected(cast, settings):
    settings.ROSTER_MAX_ROWS = 2
    data = xlsx(
        ORG_HEADER, *[[f"MZ-R{i}", "支部", "", "党支部", "MZ-DH-HB-SQ", ""] for i in range(3)]
    )
    result = import_orgs(data)
    assert messages(result) == ["文件数据超过 2 行的上限，请分成几个文件导入。"]


def test_a_people_roster_offered_as_an_organization_roster_is_named_for_what_it_is(cast):
    result = import_orgs(xlsx(PEOPLE_HEADER))
    assert messages(result) == ["这是人员名册，不是组织名册，请在“人员名册”处导入。"]


def test_a_sheet_without_the_header_says_which_columns_are_needed(cast):
    result = import_orgs(xlsx(["组织编码", "组织名称"], ["A", "B"]))
    assert messages(result) == ["表头缺少必填列：「组织类型」。"]


# --- export ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_imported_again_changes_nothing(cast, fmt):
    cast.bob.phone, cast.bob.email = "13800000003", "bob@example.com"
    cast.bob.save()
    before = counts()

    for kind in (KIND_ORGS, KIND_PEOPLE):
        data = rosters.render(kind, fmt, rosters.export_rows(kind, cast.city))
        result = import_roster(data, kind=kind, actor=None, within=cast.city, filename=f"x.{fmt}")
        assert result.ok, messages(result)
        assert (result.created, result.updated) == (0, 0)
        assert result.unchanged > 0

    # Only the two roster.import entries were written.
    assert counts()[:-1] == before[:-1]
    assert counts()[-1] == before[-1] + 2


def test_a_person_placed_both_inside_and_outside_the_subtree_round_trips(cast):
    from dwgk.accounts.actions import affiliate

    # erin's branch is in the university; she is also a resident of the community.
    affiliate(cast.erin, cast.community, actor=None, kind="resident")
    before = counts()
    data = rosters.render(KIND_PEOPLE, "xlsx", rosters.export_rows(KIND_PEOPLE, cast.district))
    erin = next(r for r in read_xlsx(data) if r[0] == "erin")
    assert erin[5:8] == ["MZYK-JC-1", "MZ-DH-HB-SQ", "居民"]

    result = import_people(data, actor=cast.olga, within=cast.district)

    assert result.ok, messages(result)
    assert result.unchanged == 5
    assert counts()[:-1] == before[:-1]


def test_an_export_lists_the_subtree_with_current_places_only(cast):
    from dwgk.accounts.actions import member_transfer

    member_transfer(cast.bob, cast.branch2, actor=None, on=datetime.date(2024, 2, 1))
    rows = read_xlsx(
        rosters.render(KIND_PEOPLE, "xlsx", rosters.export_rows(KIND_PEOPLE, cast.district))
    )

    assert rows[0] == PEOPLE_HEADER
    by_user = {r[0]: r for r in rows[1:]}
    assert set(by_user) == {"alice", "bob", "charlie", "dora"}  # not erin (university)
    assert by_user["bob"][4:6] == ["中共党员", "MZ-DH-HB-SQ-2"]
    assert by_user["bob"][8] == datetime.datetime(2024, 2, 1)
    assert by_user["dora"][4:8] == ["群众", None, "MZ-DH-HB-SQ", "居民"]

    org_rows = read_xlsx(
        rosters.render(KIND_ORGS, "xlsx", rosters.export_rows(KIND_ORGS, cast.street))
    )
    assert [r[0] for r in org_rows[1:]] == [
        "MZ-DH-HB",
        "MZ-DH-HB-SQ",
        "MZ-DH-HB-SQ-1",
        "MZ-DH-HB-SQ-2",
    ]
    assert org_rows[1][3:5] == ["街道党工委", "MZ-DH"]


def test_a_csv_export_has_a_bom_and_does_not_let_excel_run_a_name_as_a_formula(cast):
    cast.dora.name = "=HYPERLINK(1)"
    cast.dora.save()
    data = rosters.render(KIND_PEOPLE, "csv", rosters.export_rows(KIND_PEOPLE, cast.community))
    assert data.startswith(b"\xef\xbb\xbf")
    assert "'=HYPERLINK(1)" in data.decode("utf-8-sig")
    workbook = rosters.render(KIND_PEOPLE, "xlsx", rosters.export_rows(KIND_PEOPLE, cast.community))
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(workbook)).worksheets[0] for c in row]
    assert not any(c.data_type == "f" for c in cells)
    # And both still round-trip to the same name.
    assert import_people(data, within=cast.community).unchanged == 4


def test_templates_have_the_header_and_a_sample_row_that_imports_skip(cast):
    for kind, header in ((KIND_ORGS, ORG_HEADER), (KIND_PEOPLE, PEOPLE_HEADER)):
        data = rosters.render(kind, "xlsx", rosters.template_rows(kind, cast.district))
        rows = read_xlsx(data)
        assert rows[0] == header
        assert rows[1][0].startswith("例")
        assert messages(import_roster(data, kind=kind, actor=None, within=None)) == [
            "表头下面没有数据行。"
        ]


# --- scope ----------------------------------------------------------------------------


def test_an_org_admin_cannot_import_into_an_organization_outside_her_subtree(cast):
    data = xlsx(ORG_HEADER, ["MZYK-X", "新党支部", "", "党支部", "MZYK-JC", ""])
    with pytest.raises(NotAllowed):
        import_orgs(data, actor=cast.olga, within=cast.university)
    assert not Organization.objects.filter(code="MZYK-X").exists()


def test_a_subtree_import_may_not_reach_outside_the_subtree(cast):
    before = counts()
    orgs = xlsx(
        ORG_HEADER,
        ["MZ-DH-Y", "新党支部", "", "党支部", "MZYK-JC", ""],
        ["MZYK-JC-1", "改名", "", "党支部", "MZYK-JC", ""],
        ["MZ-DH", "东湖区委", "", "区（县、旗）委", "MZYK", ""],
    )
    people = xlsx(
        PEOPLE_HEADER,
        ["newbie", "新人", "", "", "中共党员", "MZYK-JC-1", "", "", ""],
        ["erin", "艾琳", "", "hijack@example.com", "中共党员", "MZ-DH-HB-SQ-1", "", "", ""],
    )
    got = messages(import_orgs(orgs, actor=cast.olga, within=cast.district))
    got += messages(import_people(people, actor=cast.olga, within=cast.district))

    outside = "不在「东湖区委」及其下级组织范围内"
    assert got == [
        f"第 2 行「上级组织编码」：编码为 MZYK-JC 的组织{outside}",
        f"第 3 行「组织编码」：编码为 MZYK-JC-1 的组织{outside}",
        "第 4 行「上级组织编码」：不能通过本名册调整「东湖区委」自身的上级组织",
        f"第 2 行「所在党支部编码」：编码为 MZYK-JC-1 的组织{outside}",
        "第 3 行「登录名」：登录名“erin”已被使用，且该账号不在「东湖区委」及其下级组织，"
        "不能通过本名册修改",
    ]
    assert counts() == before


def test_an_import_never_ends_a_membership(cast):
    data = xlsx(PEOPLE_HEADER, ["alice", "艾丽", "", "", "群众", "", "MZ-DH-HB-SQ", "居民", ""])
    result = import_people(data, within=cast.district)
    assert "名册导入不能办理党员转出" in messages(result)[0]


# --- management commands --------------------------------------------------------------


def test_the_import_command_imports_and_the_export_command_writes_a_file(cast, tmp_path):
    src = tmp_path / "orgs.xlsx"
    src.write_bytes(
        xlsx(ORG_HEADER, ["MZ-DH-CMD", "命令行党支部", "", "党支部", "MZ-DH-HB-SQ", ""])
    )
    out = io.StringIO()
    call_command("import_roster", kind="orgs", file=str(src), within="MZ-DH", stdout=out)
    assert "新增 1 条" in out.getvalue()

    dest = tmp_path / "people.csv"
    call_command(
        "export_roster",
        kind="people",
        within="MZ-DH",
        format="csv",
        out=str(dest),
        stdout=io.StringIO(),
    )
    assert dest.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "朵拉" in dest.read_text(encoding="utf-8-sig")


def test_the_import_command_prints_every_bad_row_and_fails(cast, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_bytes(csv_file(ORG_HEADER, ["MZ-DH-Q", "", "", "党支部", "NOPE", ""]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="未做任何修改"):
        call_command("import_roster", kind="orgs", file=str(src), stderr=err)
    assert "第 2 行「组织名称」：不能为空" in err.getvalue()
    assert "第 2 行「上级组织编码」：找不到编码为 NOPE 的组织" in err.getvalue()


# --- views ----------------------------------------------------------------------------


def roster_url(org):
    return reverse("accounts:roster", args=[org.pk])


def import_url(org):
    return reverse("accounts:roster_import", args=[org.pk])


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_anonymous_visitors_are_sent_to_the_login_page(client, cast):
    for url in (
        roster_url(cast.district),
        reverse("accounts:roster_export", args=[cast.district.pk, "people", "xlsx"]),
        reverse("accounts:roster_template", args=[cast.district.pk, "orgs", "csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_member_who_does_not_manage_the_organization_gets_403(client, cast):
    client.force_login(cast.bob)
    assert client.get(roster_url(cast.district)).status_code == 403
    export = reverse("accounts:roster_export", args=[cast.district.pk, "people", "csv"])
    assert client.get(export).status_code == 403
    data = xlsx(ORG_HEADER, ["MZ-DH-V", "支部", "", "党支部", "MZ-DH-HB-SQ", ""])
    response = client.post(
        import_url(cast.district), {"kind": "orgs", "file": upload("a.xlsx", data)}
    )
    assert response.status_code == 403
    assert not Organization.objects.filter(code="MZ-DH-V").exists()


def test_the_org_admin_cannot_open_the_university_roster(client, cast):
    client.force_login(cast.olga)
    assert client.get(roster_url(cast.university)).status_code == 403


def test_the_org_admin_imports_through_the_page(client, cast):
    client.force_login(cast.olga)
    page = client.get(roster_url(cast.district))
    assert page.status_code == 200
    assert "导入组织名册" in page.content.decode()

    data = xlsx(ORG_HEADER, ["MZ-DH-V", "页面导入党支部", "", "党支部", "MZ-DH-HB-SQ", ""])
    response = client.post(
        import_url(cast.district), {"kind": "orgs", "file": upload("a.xlsx", data)}
    )

    assert response.status_code == 200
    assert "新增 1 条" in response.content.decode()
    assert Organization.objects.get(code="MZ-DH-V").parent == cast.community
    assert AuditEntry.objects.get(action="roster.import").actor == cast.olga


def test_a_bad_upload_shows_every_problem_and_changes_nothing(client, cast):
    client.force_login(cast.olga)
    before = counts()
    response = client.post(
        import_url(cast.district), {"kind": "orgs", "file": upload("a.xlsx", b"not a workbook")}
    )
    assert response.status_code == 400
    assert "内容不是 Excel 工作簿" in response.content.decode()
    assert counts() == before

    response = client.post(import_url(cast.district), {"kind": "orgs"})
    assert response.status_code == 400
    assert "请选择要导入的文件" in response.content.decode()


def test_import_is_post_only_and_needs_the_csrf_token(client, cast):
    client.force_login(cast.olga)
    assert client.get(import_url(cast.district)).status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.olga)
    data = xlsx(ORG_HEADER, ["MZ-DH-CSRF", "支部", "", "党支部", "MZ-DH-HB-SQ", ""])
    response = strict.post(
        import_url(cast.district), {"kind": "orgs", "file": upload("a.xlsx", data)}
    )
    assert response.status_code == 403
    assert not Organization.objects.filter(code="MZ-DH-CSRF").exists()


def test_the_org_admin_downloads_templates_and_exports(client, cast):
    client.force_login(cast.olga)
    template = client.get(
        reverse("accounts:roster_template", args=[cast.district.pk, "people", "xlsx"])
    )
    assert template.status_code == 200
    assert template["Content-Type"] == rosters.CONTENT_TYPES["xlsx"]
    assert "attachment" in template["Content-Disposition"]
    assert read_xlsx(template.content)[0] == PEOPLE_HEADER

    export = client.get(reverse("accounts:roster_export", args=[cast.district.pk, "people", "csv"]))
    assert export.status_code == 200
    assert export["Cache-Control"] == "no-store"
    assert "朵拉" in export.content.decode("utf-8-sig")
    assert AuditEntry.objects.filter(action="roster.export", actor=cast.olga).count() == 1

    unknown = reverse("accounts:roster_export", args=[cast.district.pk, "people", "pdf"])
    assert client.get(unknown).status_code == 404
