"""The 目录表 sheet: any catalog version out as .xlsx, .docx and PDF, and .xlsx back in —
including what an office typed by hand — whole or not at all."""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from typing import Any

import docx
import openpyxl
import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from dwgk.accounts.actions import role_grant
from dwgk.accounts.models import Role
from dwgk.audience.keys import Audience
from dwgk.audit.models import AuditEntry
from dwgk.catalog import pdf, sheet
from dwgk.catalog.actions import (
    catalog_acknowledge,
    catalog_adopt,
    catalog_file,
    catalog_generate_draft,
    catalog_publish,
    entry_add,
)
from dwgk.catalog.approval import parse_route, route_to_json
from dwgk.catalog.models import CatalogEntry
from dwgk.catalog.timing import Duration, Timing, parse_duration, parse_start
from dwgk.lib.errors import NotAllowed

HEADER = ["序号", *(c.label for c in sheet.COLUMNS)]
FIELDS = (
    "content",
    "audience",
    "audience_note",
    "approval",
    "channels",
    "timing",
    "responsible",
    "co_units",
    "remarks",
)


def add(
    version,
    actor,
    content,
    *,
    audience,
    note="",
    route="书记签发",
    channels=("platform",),
    start="长期",
    duration="永久",
    **kw,
):
    return entry_add(
        version,
        actor=actor,
        content=content,
        audience=audience.to_json(),
        audience_note=note,
        approval=route_to_json(parse_route(route)) if route else [],
        channels=list(channels),
        timing=parse_start(start, parse_duration(duration)).to_json(),
        **kw,
    )


def make_catalog(cast, org=None, actor=None):
    """A draft for 第一党支部 (alice compiles it): the template's entries plus a spread of
    the wordings the 目录表 form uses."""
    org = org or cast.branch1
    actor = actor or cast.alice
    version = catalog_generate_draft(org, actor=actor)
    pk = org.pk
    add(
        version,
        actor,
        "党委常委会纪要",
        audience=Audience(orgs=(pk,)),
        note="常委、校领导及相关部门",
        channels=("paper",),
        start="会后一周内",
        responsible="党委办公室",
    )
    add(
        version,
        actor,
        "年度党政工作要点",
        audience=Audience(units=(pk,)),
        note="全校",
        route="全委会审议，常委会决定，书记校长签发",
        channels=("intranet",),
        start="常委会通过之日后",
        responsible="党委办公室",
        co_units="校长办公室",
    )
    add(
        version,
        actor,
        "主题党日活动安排",
        audience=Audience(party=(pk,)),
        channels=("meeting", "platform", "board"),
        start="每月第一个星期五",
        duration="1年",
        remarks="遇节假日顺延\n雨天改在室内",
    )
    add(
        version,
        actor,
        "党费收缴使用情况",
        audience=Audience(society=True),
        route="",
        channels=("website", "new_media"),
        start="每季度首月10日前",
        duration="6个月",
    )
    add(
        version,
        actor,
        "年度民主评议党员结果",
        audience=Audience(party=(pk,)),
        route="支委会研究，报上级党组织审批",
        start="每年",
        duration="至被新内容替代",
    )
    add(
        version,
        actor,
        "=1+1 不是公式",
        audience=Audience(party=(pk,)),
        start="分期",
        duration="30天",
    )
    add(
        version,
        actor,
        "重大事项延期公开",
        audience=Audience(party=(pk,)),
        start="经党组织同意后延期（涉及在办案件）",
    )
    add(version, actor, "其他临时事项", audience=Audience(party=(pk,)), start="即时")
    return version


def snapshot(version):
    return [
        tuple(getattr(e, f) for f in FIELDS)
        for e in CatalogEntry.objects.filter(version=version).order_by("position")
    ]


def read_xlsx(data):
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [["" if v is None else v for v in r] for r in ws.iter_rows(values_only=True)]


def workbook(rows, *, merge_title=False):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(list(row))
    if merge_title:
        ws.merge_cells("A1:J1")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def messages(result):
    return [str(e) for e in result.errors]


def entries_count_and_audit():
    return CatalogEntry.objects.count(), AuditEntry.objects.count()


# --- export ---------------------------------------------------------------------------------


def test_the_xlsx_has_the_title_the_header_and_the_rows_in_order(cast):
    version = make_catalog(cast)
    version.leader_name = "艾丽"
    version.save()

    rows = read_xlsx(sheet.export_xlsx(version))

    assert rows[0][0] == "湖滨社区第一党支部党务公开目录"
    assert rows[1][0] == "制表党组织（部门、单位）：湖滨社区第一党支部"
    assert "负责人：艾丽" in rows[1]
    assert rows[2] == HEADER
    entries = list(version.entries.order_by("position"))
    body = rows[3 : 3 + len(entries)]
    assert [r[0] for r in body] == [str(i) for i in range(1, len(entries) + 1)]
    assert [r[1] for r in body] == [e.content for e in entries]
    minutes = next(r for r in body if r[1] == "党委常委会纪要")
    assert minutes[2:9] == [
        "常委、校领导及相关部门",
        "书记签发",
        "纸质印发",
        "会后1周内",
        "永久",
        "党委办公室",
        "",
    ]
    today = datetime.date.today()
    assert rows[3 + len(entries)][0] == "注：此表动态更新，更新后请报党委办公室备案"
    assert f"制表日期：{today.year}年{today.month}月{today.day}日" in rows[3 + len(entries)]


def test_the_xlsx_prints_on_a4_landscape_with_the_header_row_repeated(cast):
    version = make_catalog(cast)
    ws = openpyxl.load_workbook(io.BytesIO(sheet.export_xlsx(version))).worksheets[0]

    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$3:$3"
    assert "A1:J1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["B4"].alignment.wrap_text
    assert ws["B4"].border.left.style == "thin"
    assert ws.column_dimensions["B"].width > ws.column_dimensions["A"].width


def test_text_that_looks_like_a_formula_stays_text(cast):
    version = make_catalog(cast)
    ws = openpyxl.load_workbook(io.BytesIO(sheet.export_xlsx(version))).worksheets[0]

    cell = next(c for c in ws["B"] if c.value and str(c.value).startswith("=1+1"))
    assert cell.data_type == "s"


def test_the_date_is_the_adoption_date_once_adopted(cast):
    version = catalog_adopt(
        make_catalog(cast), actor=cast.alice, meeting="支委会", decided_on=datetime.date(2024, 3, 8)
    )

    rows = read_xlsx(sheet.export_xlsx(version))

    assert "负责人：艾丽" in rows[1]
    assert "制表日期：2024年3月8日" in rows[-1]


def test_the_docx_has_the_title_the_header_and_the_rows(cast):
    version = make_catalog(cast)

    document = docx.Document(io.BytesIO(sheet.export_docx(version)))

    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "湖滨社区第一党支部党务公开目录"
    assert texts[1].startswith("制表党组织（部门、单位）：湖滨社区第一党支部\t负责人：")
    assert texts[-1].startswith("注：此表动态更新，更新后请报党委办公室备案\t制表日期：")
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == HEADER
    contents = [e.content for e in version.entries.order_by("position")]
    assert [r.cells[1].text for r in table.rows[1:]] == contents
    assert "遇节假日顺延\n雨天改在室内" in [r.cells[9].text for r in table.rows[1:]]
    section = document.sections[0]
    assert (section.page_width or 0) > (section.page_height or 0)
    assert b"w:tblHeader" in zipfile.ZipFile(io.BytesIO(sheet.export_docx(version))).read(
        "word/document.xml"
    )


def test_the_pdf_embeds_the_chinese_font_and_carries_the_text(cast):
    version = make_catalog(cast)

    data = pdf.export_pdf(version)

    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    page: Any = reader.pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)  # landscape
    assert round(float(page.mediabox.width) / 72 * 25.4) == 297  # A4
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    assert fonts, "the page uses a font"
    for font in fonts:
        assert "NotoSansSC" in font["/BaseFont"]
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile3" in descriptor or "/FontFile2" in descriptor  # embedded
    text = page.extract_text()
    assert "湖滨社区第一党支部党务公开目录" in text
    assert "公开起始时点" in text


def test_a_character_the_shipped_font_lacks_prints_as_a_box_rather_than_vanishing(cast):
    version = make_catalog(cast)
    add(version, cast.alice, "\U0002a6a5字事项", audience=Audience(party=(cast.branch1.pk,)))

    reader = pypdf.PdfReader(io.BytesIO(pdf.export_pdf(version)))

    assert "□字事项" in reader.pages[-1].extract_text()


def test_the_pdf_of_a_long_catalog_repeats_the_header_on_every_page(cast):
    version = make_catalog(cast)
    for i in range(40):
        add(version, cast.alice, f"补充事项{i}", audience=Audience(party=(cast.branch1.pk,)))

    reader = pypdf.PdfReader(io.BytesIO(pdf.export_pdf(version)))

    assert len(reader.pages) > 1
    assert all("公开起始时点" in p.extract_text() for p in reader.pages)


# --- import: the round trip and hand-typed sheets ---------------------------------------------


def test_an_exported_sheet_imports_back_to_the_same_entries(cast):
    version = make_catalog(cast)
    before = snapshot(version)
    lineages = list(version.entries.order_by("position").values_list("lineage", flat=True))

    result = sheet.import_xlsx(version, sheet.export_xlsx(version), actor=cast.alice)

    assert result.ok, messages(result)
    assert (result.added, result.updated, result.deleted) == (0, 0, 0)
    assert result.unchanged == len(before)
    assert snapshot(version) == before
    assert list(version.entries.order_by("position").values_list("lineage", flat=True)) == (
        lineages
    )


def test_the_round_trip_also_holds_into_a_new_version_of_another_organization(cast):
    # The university, typed with different wording, imported into a fresh draft.
    source = make_catalog(cast)
    role_grant(cast.erin, cast.uni_branch, Role.CLERK, actor=None)
    target = catalog_generate_draft(cast.uni_branch, actor=cast.erin)

    result = sheet.import_xlsx(target, sheet.export_xlsx(source), actor=cast.erin)

    assert result.ok, messages(result)
    # The sheet reads the same but for 公开范围, which is now the university branch's.
    got, want = sheet.entry_rows(target), sheet.entry_rows(source)
    assert [r[:2] + r[3:] for r in got] == [r[:2] + r[3:] for r in want]
    minutes = target.entries.get(content="党委常委会纪要")
    assert minutes.get_audience() == Audience(orgs=(cast.uni_branch.pk,))


HAND_TYPED = [
    ["首都医科大学党务公开目录表", None, None, None, None, None, None, None, None, None],
    ["制表党组织（部门、单位）（盖章）：         负责人（签名）：", None, None, None, None],
    [],
    [
        "序号",
        "公开内容",
        "公开范围",
        "审批程序",
        "公开方式",
        "公开\n\n起始时点",
        "公开时长",
        "责任主体",
        "协同单位\n\n或人员",
        "备注",
    ],
    [
        1,
        "例：党委常委会纪要",
        "常委、校领导及相关部门",
        "书记签发",
        "纸质印发",
        "会后一周内",
        "永久",
        "党委办公室",
        None,
        None,
    ],
    [
        2,
        "例：年度党政工作要点",
        "全校",
        "全委会审议，常委会决定，书记校长签发",
        "办公网发布",
        "常委会通过之日后",
        "永久",
        "党委办公室\n\n校长办公室",
        None,
        None,
    ],
    [
        3,
        "  党委 常委会 纪要 ",
        "常委、校领导及相关部门",
        "书记签发",
        "纸质印发",
        "会后一周内",
        "永久",
        "党委办公室",
        None,
        None,
    ],
    [],
    [
        4,
        "年度党政工作要点",
        "全　校",
        "全委会审议， 常委会决定，书记校长签发",
        "办公网发布；党务公开平台",
        "常委会通过之日后",
        " 永久 ",
        "党委办公室",
        "校长办公室",
        None,
    ],
    [
        5,
        "党员发展情况",
        "本单位党员群众",
        "支委会研究,报上级党组织审批",
        "公开栏、党务公开平台",
        "事项确定后５个工作日内",
        "１年",
        "组织委员",
        "",
        "（公示期）",
    ],
    [
        6,
        "党费收缴情况",
        "全社会",
        "无需审批",
        "网站和微信公众号",
        "每季度首月１０日前",
        "6个月",
        "党委组织部",
        None,
        None,
    ],
    [
        7,
        "全体党员名单",
        "本支部党员",
        "书记签发",
        "党员大会",
        "长期",
        "永久",
        "支部书记",
        None,
        None,
    ],
    [8],
    [9, None, None, None, None, None, None, None, None, None],
    [None] * 10,
    [
        "注：此表动态更新，更新后请报党委办公室备案",
        None,
        None,
        None,
        None,
        None,
        "制表日期：  年  月  日",
    ],
    ["— 1 —"],
]


def test_a_sheet_typed_by_hand_imports(cast):
    version = make_catalog(cast)

    result = sheet.import_xlsx(version, workbook(HAND_TYPED, merge_title=True), actor=cast.alice)

    assert result.ok, messages(result)
    entries = list(version.entries.order_by("position"))
    assert [e.content for e in entries] == [
        "党委常委会纪要",
        "年度党政工作要点",
        "党员发展情况",
        "党费收缴情况",
        "全体党员名单",
    ]
    minutes, plan, members, dues, names = entries
    pk = cast.branch1.pk
    # Matching content keeps the entry that was there (and its lineage).
    assert result.unchanged == 1 and result.updated == 1
    assert minutes.get_audience() == Audience(orgs=(pk,))
    assert minutes.audience_note == "常委、校领导及相关部门"
    assert plan.get_audience() == Audience(units=(pk,)) and plan.audience_note == "全校"
    assert plan.approval_text() == "全委会审议，常委会决定，书记校长签发"
    assert plan.channels == ["intranet", "platform"]
    assert plan.get_timing() == Timing("immediate", trigger="常委会通过")
    assert members.get_audience() == Audience(units=(pk,))
    assert [s.kind for s in members.get_route()] == ["body", "parent"]
    assert members.get_timing() == Timing(
        "immediate",
        trigger="事项确定",
        within=5,
        within_unit="working_days",
        duration=Duration("years", 1),
    )
    assert members.remarks == "（公示期）"
    assert dues.get_audience() == Audience(society=True) and dues.audience_note == "全社会"
    assert dues.approval == [] and dues.approval_text() == "无需审批"
    assert dues.channels == ["website", "new_media"]
    assert dues.get_timing() == Timing(
        "periodic", period="quarterly", day=10, duration=Duration("months", 6)
    )
    assert names.get_audience() == Audience(party=(pk,))
    assert names.channels == ["meeting"]


def test_cells_merged_down_over_several_entries_count_for_each_of_them(cast):
    version = make_catalog(cast)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append([1, "支部委员会组成", "本支部党员", "书记签发", "党员大会", "长期", "永久", "支部"])
    ws.append([2, "党员发展情况", None, "支委会研究", None, "长期", "1年", None])
    ws.append([3, "党费收缴情况", None, "书记签发", None, "每季度首月10日前", "1年", None])
    for column in ("C", "E", "H"):
        ws.merge_cells(f"{column}2:{column}4")
    buf = io.BytesIO()
    wb.save(buf)

    result = sheet.import_xlsx(version, buf.getvalue(), actor=cast.alice)

    assert result.ok, messages(result)
    entries = list(version.entries.order_by("position"))
    assert [e.audience_note for e in entries] == ["本支部党员"] * 3
    assert [e.channels for e in entries] == [["meeting"]] * 3
    assert [e.responsible for e in entries] == ["支部"] * 3


def test_a_sheet_with_bad_rows_changes_nothing_and_lists_each_bad_row(cast):
    version = make_catalog(cast)
    before = snapshot(version)
    counts = entries_count_and_audit()
    rows = [
        HEADER,
        [1, "党委常委会纪要", "全校", "书记签发", "纸质印发", "会后一周内", "永久", "", "", ""],
        [2, "飞鸽传书的事项", "全校", "书记签发", "纸质印发、飞鸽传书", "长期", "永久"],
        [3, "审批写错的事项", "全校", "随便看看", "公开栏", "长期", "永久"],
        [],
        [5, "时点写错的事项", "全校", "书记签发", "公开栏", "下辈子", "永久"],
        [6, "时长写错的事项", "全校", "书记签发", "公开栏", "长期", "好久"],
        [7, "", "全校", "书记签发", "公开栏", "长期", "永久"],
        [8, "范围空白的事项", "", "书记签发", "", "长期", "永久"],
    ]

    result = sheet.import_xlsx(version, workbook(rows), actor=cast.alice)

    assert not result.ok
    assert result.summary() == f"目录表有 {len(result.errors)} 处问题，未做任何修改。"
    got = messages(result)
    assert got[0].startswith("第 3 行「公开方式」：无法识别的公开方式：“飞鸽传书”")
    assert got[1].startswith("第 4 行「审批程序」：无法识别的审批环节：“随便看看”")
    assert got[2].startswith("第 6 行「公开起始时点」：无法识别的公开起始时点：“下辈子”")
    assert got[3].startswith("第 7 行「公开时长」：无法识别的公开时长：“好久”")
    assert got[4:] == [
        "第 8 行「公开内容」：不能为空",
        "第 9 行「公开范围」：不能为空",
        "第 9 行「公开方式」：不能为空",
    ]
    assert snapshot(version) == before
    assert entries_count_and_audit() == counts


def test_a_file_that_is_not_a_workbook_is_refused_by_its_content(cast):
    version = make_catalog(cast)
    counts = entries_count_and_audit()
    word = sheet.export_docx(version)  # a zip too, but not a workbook

    for data in (b"just some text, renamed to sheet.xlsx", word, b"\xd0\xcf\x11\xe0old xls"):
        result = sheet.import_xlsx(version, data, actor=cast.alice, filename="sheet.xlsx")
        assert not result.ok
        assert "Excel" in messages(result)[0] and "第" not in messages(result)[0]
    assert entries_count_and_audit() == counts


def test_an_oversize_file_is_refused_with_the_limit(cast, settings):
    settings.ROSTER_MAX_BYTES = 1024
    version = make_catalog(cast)

    result = sheet.import_xlsx(version, sheet.export_xlsx(version), actor=cast.alice)

    assert messages(result) == ["文件超过大小上限（1 KB），请分成几个文件导入。"]


def test_a_sheet_without_the_header_names_the_missing_columns(cast):
    version = make_catalog(cast)
    data = workbook([["序号", "公开内容", "公开范围", "审批程序"], [1, "事项", "全校", "书记签发"]])

    result = sheet.import_xlsx(version, data, actor=cast.alice)

    assert messages(result) == [
        "表头缺少列：「公开方式」、「公开起始时点」、「公开时长」、「责任主体」。"
    ]


def test_an_adopted_version_is_not_imported_into(cast):
    version = make_catalog(cast)
    data = sheet.export_xlsx(version)
    catalog_adopt(version, actor=cast.alice, meeting="支委会", decided_on=datetime.date.today())
    before = snapshot(version)

    result = sheet.import_xlsx(version, data, actor=cast.alice)

    assert messages(result) == ["目录当前状态为“已审议通过”，不能修改；如需调整请新建版本。"]
    assert snapshot(version) == before


def test_only_someone_who_may_edit_the_catalog_imports(cast):
    version = make_catalog(cast)
    data = sheet.export_xlsx(version)

    for person in (cast.bob, cast.charlie, cast.olga):
        with pytest.raises(NotAllowed):
            sheet.import_xlsx(version, data, actor=person)
    role_grant(cast.bob, cast.branch1, Role.CLERK, actor=None)
    assert sheet.import_xlsx(version, data, actor=cast.bob).ok


def test_an_import_adds_updates_moves_and_deletes_through_the_audited_actions(cast):
    version = make_catalog(cast)
    rows = read_xlsx(sheet.export_xlsx(version))
    header_at = rows.index(HEADER)
    body = [r for r in rows[header_at + 1 :] if str(r[0]).isdigit()]
    kept, dropped = body[:2], body[2:]
    kept[0][6] = "3年"  # changed duration
    new = ["", "新增的事项", "全体党员", "书记签发", "党务公开平台", "长期", "永久", "", "", ""]

    result = sheet.import_xlsx(version, workbook([HEADER, new, *kept]), actor=cast.alice)

    assert result.ok, messages(result)
    assert (result.added, result.updated, result.unchanged, result.deleted) == (
        1,
        1,
        1,
        len(dropped),
    )
    assert [e.content for e in version.entries.order_by("position")] == [
        "新增的事项",
        kept[0][1],
        kept[1][1],
    ]
    assert list(version.entries.values_list("position", flat=True).order_by("position")) == [
        1,
        2,
        3,
    ]
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("catalog.entry_delete") == len(dropped)
    assert "catalog.entry_update" in actions and "catalog.entry_move" in actions
    log = AuditEntry.objects.get(action="catalog.sheet_import")
    assert log.actor == cast.alice and log.data["added"] == 1


@pytest.mark.parametrize(
    ("wording", "kind", "note_kept"),
    [
        ("全社会", "society", True),
        ("向社会公开", "society", False),
        ("社会公众", "society", True),
        ("全校", "units", True),
        ("全院", "units", True),
        ("全体师生员工", "units", True),
        ("本单位党员群众", "units", True),
        ("党内公开", "party", True),
        ("全体党员", "party", True),
        ("本支部党员", "party", True),
        ("全校党员", "party", True),
        ("常委、校领导及相关部门", "orgs", True),
        ("支委会成员", "orgs", True),
    ],
)
def test_the_audience_wording_maps_to_an_audience_of_the_organization(
    cast, wording, kind, note_kept
):
    audience, note = sheet.audience_from_text(wording, cast.branch1)

    pk = (cast.branch1.pk,)
    expected = {
        "society": Audience(society=True),
        "units": Audience(units=pk),
        "party": Audience(party=pk),
        "orgs": Audience(orgs=pk),
    }
    assert audience == expected[kind]
    assert note == (wording if note_kept else "")


# --- views ----------------------------------------------------------------------------------


def login(client, user):
    client.force_login(user)
    return client


def test_anonymous_visitors_get_404_for_a_drafts_sheet(client, cast):
    version = make_catalog(cast)
    for name in ("sheet_xlsx", "sheet_docx", "sheet_pdf"):
        assert client.get(reverse(f"catalog:{name}", args=[version.pk])).status_code == 404


def test_charlie_gets_404_for_the_other_branchs_draft(client, cast):
    version = make_catalog(cast)
    login(client, cast.charlie)
    assert client.get(reverse("catalog:sheet_xlsx", args=[version.pk])).status_code == 404


def test_alice_downloads_each_format_with_a_chinese_file_name_kept_out_of_shared_caches(
    client, cast
):
    version = make_catalog(cast)
    login(client, cast.alice)
    for fmt, magic in (("xlsx", b"PK"), ("docx", b"PK"), ("pdf", b"%PDF")):
        response = client.get(reverse(f"catalog:sheet_{fmt}", args=[version.pk]))
        assert response.status_code == 200
        assert response.content.startswith(magic)
        assert response["Content-Type"] == sheet.CONTENT_TYPES[fmt]
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment; filename*=utf-8''")
        assert f"（第{version.number}版）.{fmt}" in _unquote(disposition)
        assert "湖滨社区第一党支部党务公开目录" in _unquote(disposition)
        assert response["Cache-Control"].startswith("private")


def _unquote(disposition):
    from urllib.parse import unquote

    return unquote(re.sub(r"^.*filename\*=utf-8''", "", disposition))


def publish(version, cast, audience=None):
    catalog_adopt(version, actor=cast.alice, meeting="支委会", decided_on=datetime.date.today())
    catalog_file(version, actor=cast.alice)
    role_grant(cast.dora, cast.community, Role.PRINCIPAL, actor=None)
    catalog_acknowledge(version, actor=cast.dora)
    return catalog_publish(version, actor=cast.alice, audience=audience)


def test_a_published_version_is_downloadable_by_its_audience_only(client, cast):
    version = publish(make_catalog(cast), cast)  # within the party of 第一党支部
    url = reverse("catalog:sheet_pdf", args=[version.pk])

    assert client.get(url).status_code == 404
    login(client, cast.charlie)
    assert client.get(url).status_code == 404
    login(client, cast.bob)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")


def test_a_version_published_to_society_is_public_and_may_be_cached(client, cast):
    version = publish(make_catalog(cast), cast, audience=Audience(society=True))

    response = client.get(reverse("catalog:sheet_xlsx", args=[version.pk]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"


def upload(data, name="目录表.xlsx"):
    return SimpleUploadedFile(name, data, content_type=sheet.CONTENT_TYPES["xlsx"])


def test_anonymous_visitors_are_sent_to_log_in_before_importing(client, cast):
    version = make_catalog(cast)
    url = reverse("catalog:sheet_import", args=[version.pk])

    response = client.post(url, {"file": upload(sheet.export_xlsx(version))})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_someone_who_may_not_edit_the_catalog_gets_403_on_import(client, cast):
    version = make_catalog(cast)
    url = reverse("catalog:sheet_import", args=[version.pk])
    before = snapshot(version)

    for person in (cast.charlie, cast.bob):
        login(client, person)
        assert client.get(url).status_code == 403
        assert client.post(url, {"file": upload(sheet.export_xlsx(version))}).status_code == 403
    assert snapshot(version) == before
    assert not AuditEntry.objects.filter(action="catalog.sheet_import").exists()


def test_alice_imports_through_the_page(client, cast):
    version = make_catalog(cast)
    url = reverse("catalog:sheet_import", args=[version.pk])
    login(client, cast.alice)

    page = client.get(url)
    assert page.status_code == 200
    assert "导入目录表" in page.content.decode()

    response = client.post(url, {"file": upload(workbook(HAND_TYPED))})
    assert response.status_code == 200
    assert "目录表导入完成：新增 3 条" in response.content.decode()
    assert version.entries.count() == 5


def test_a_bad_upload_lists_every_problem_on_the_page(client, cast):
    version = make_catalog(cast)
    before = snapshot(version)
    login(client, cast.alice)
    rows = [HEADER, [1, "飞鸽传书的事项", "全校", "书记签发", "飞鸽传书", "长期", "永久"]]

    response = client.post(
        reverse("catalog:sheet_import", args=[version.pk]), {"file": upload(workbook(rows))}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "目录表有 1 处问题，未做任何修改。" in page
    assert "第 2 行「公开方式」：无法识别的公开方式" in page
    assert snapshot(version) == before


def test_the_import_needs_the_csrf_token(cast):
    version = make_catalog(cast)
    client = Client(enforce_csrf_checks=True)
    login(client, cast.alice)

    response = client.post(
        reverse("catalog:sheet_import", args=[version.pk]),
        {"file": upload(sheet.export_xlsx(version))},
    )

    assert response.status_code == 403
