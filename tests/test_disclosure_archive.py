"""PROC-6 归档: the archive package of an archived item — its record PDF, every attachment,
revisions, log and manifest — and who may download it."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from dwgk.audience.keys import Audience
from dwgk.audit.models import AuditEntry
from dwgk.disclosures import actions, archive
from dwgk.disclosures.models import GENESIS, Disclosure, canonical_json
from dwgk.disclosures.record_pdf import html_paragraphs, record_pdf
from tests.cast import make_member
from tests.disclosure_cast import OPINIONS, draft, published

# Characters beyond GB 2312 (the catalog's font subset): 喆 and 堃 are common in names,
# 鍾 is traditional, 䶮 lies in CJK Extension A.
RARE = "喆堃鍾䶮"


def archived(dw, item: Disclosure | None = None) -> Disclosure:
    item = item or published(dw)
    item = actions.disclosure_close(item, actor=dw.bob)
    return actions.disclosure_archive(item, actor=dw.bob, feedback_summary="群众无异议")


def full_record(dw) -> Disclosure:
    """An item that went through every kind of step: attachments (one withheld), a
    co-unit, a collective decision, a correction, a scope change, closing and archiving."""
    item = draft(
        dw,
        doc_number="湖一支〔2026〕3号",
        body=(
            "<p>2026年10月支部共收缴党费1,280元。</p>"
            f"<ul><li>经手人：{RARE}</li><li>上缴上级党委1,280元</li></ul>"
            "<table><tr><td>月份</td><td>金额</td></tr><tr><td>10月</td><td>1,280元</td></tr></table>"
        ),
        background="按照党费收缴使用管理规定按月公开。",
        significance="接受党员监督。",
        key_points="收缴、上缴和使用情况。",
        hot_spots="党员可能关注党费使用去向。",
        response_plan="由组织委员当面解答。",
        co_units=[dw.branch2.pk],
    )
    actions.attachment_add(item, actor=dw.bob, name="党费明细.txt", data="10月 1280元\n".encode())
    actions.attachment_add(item, actor=dw.bob, name="缴费名单.txt", data="张喆 20元\n".encode())
    item = actions.disclosure_submit(item, actor=dw.bob)
    item = actions.disclosure_start_review(item, actor=dw.rita)
    actions.attachment_withhold(
        item.attachments.get(name="缴费名单.txt"), actor=dw.rita, reason="含党员个人信息"
    )
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    item = actions.disclosure_confirm(item, actor=dw.cathy, org=dw.branch2, agree=True)
    item = actions.disclosure_approve(
        item,
        actor=dw.alice,
        collective=True,
        meeting="支部委员会会议",
        meeting_date=timezone.localdate(),
        minutes="会议同意按月公开党费收缴使用情况。",
    )
    item = actions.disclosure_publish(item, actor=dw.bob)
    item = actions.disclosure_correct(
        item, actor=dw.bob, notice="上缴金额应为1,280元整，特此更正。"
    )
    change = actions.scope_widen_propose(
        item, actor=dw.bob, audience=Audience(society=True), reason="党员建议向社会公开"
    )
    actions.scope_widen_decide(change, actor=dw.alice, approve=True, comment="同意")
    return archived(dw, Disclosure.objects.get(pk=item.pk))


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- the package ----------------------------------------------------------------------------


def test_the_manifest_gives_every_file_its_size_and_hash(dw):
    item = full_record(dw)
    members = unzip(archive.export_package(item))
    manifest = json.loads(members.pop("manifest.json"))
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(members)
    for path, data in members.items():
        assert listed[path]["size"] == len(data)
        assert listed[path]["sha256"] == hashlib.sha256(data).hexdigest()
    assert {"record.pdf", "revisions.json", "log.json"} <= set(members)
    assert manifest["item"]["id"] == item.pk
    assert manifest["item"]["index_no"] == item.index_no
    assert manifest["item"]["org"]["name"] == dw.branch1.name
    assert manifest["item"]["status"] == "archived"
    assert manifest["item"]["archived_at"] == timezone.localtime(item.archived_at).isoformat()
    assert manifest["log"]["last_hash"] == item.log.latest("seq").hash
    assert manifest["log"]["intact"] is True
    assert manifest["generator"]["name"] == "dwgk"
    assert "归档" in manifest["note"]


def test_the_package_holds_every_attachment_withheld_ones_marked(dw):
    item = full_record(dw)
    members = unzip(archive.export_package(item))
    manifest = json.loads(members["manifest.json"])
    attachments = [f for f in manifest["files"] if f["kind"] == "attachment"]
    assert [(f["path"], f["withheld"]) for f in attachments] == [
        ("attachments/01-党费明细.txt", False),
        ("attachments/02-缴费名单.txt", True),
    ]
    assert members["attachments/02-缴费名单.txt"] == "张喆 20元\n".encode()
    assert all(f["matches_record"] for f in attachments)
    assert manifest["missing_files"] == []


def test_the_log_in_the_package_recomputes_to_its_hashes(dw):
    """An auditor needs nothing but log.json to check the chain."""
    item = full_record(dw)
    rows = json.loads(unzip(archive.export_package(item))["log.json"])
    prev = GENESIS
    for n, row in enumerate(rows, 1):
        assert row["seq"] == n and row["prev_hash"] == prev
        payload = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
        payload["prev"] = row["prev_hash"]
        assert hashlib.sha256(canonical_json(payload).encode()).hexdigest() == row["hash"]
        prev = row["hash"]
    assert rows[-1]["action"] == "archive"


def test_revisions_are_in_the_package(dw):
    item = full_record(dw)
    revisions = json.loads(unzip(archive.export_package(item))["revisions.json"])
    assert [r["number"] for r in revisions] == list(range(1, item.revision + 1))
    assert revisions[0]["content"]["title"] == item.title
    assert revisions[-1]["note"].startswith("附件不予公开")


def test_two_exports_of_an_item_are_byte_identical(dw):
    item = full_record(dw)
    first = archive.export_package(item)
    assert archive.export_package(Disclosure.objects.get(pk=item.pk)) == first
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        stamps = {info.date_time for info in package.infolist()}
        names = package.namelist()
    local = timezone.localtime(item.archived_at)
    # A zip keeps seconds in steps of two.
    archived_at = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    assert stamps == {(*archived_at[:5], local.second // 2 * 2)}
    assert names == sorted(names)


def test_a_missing_file_is_reported_not_fatal(dw):
    item = full_record(dw)
    attachment = item.attachments.earliest("id")
    attachment.file.storage.delete(attachment.file.name)
    manifest = json.loads(unzip(archive.export_package(item))["manifest.json"])
    assert [m["path"] for m in manifest["missing_files"]] == ["attachments/01-党费明细.txt"]


def test_attachment_names_are_safe_for_any_folder(dw):
    item = draft(dw)
    attachment = actions.attachment_add(item, actor=dw.bob, name="a.txt", data=b"x\n")
    attachment.name = '报告:"第一季度"?.txt'
    assert archive.attachment_filename(3, attachment) == "attachments/03-报告__第一季度__.txt"


# --- the record PDF -------------------------------------------------------------------------


def test_the_record_pdf_holds_the_whole_record_in_chinese(dw):
    item = full_record(dw)
    data = record_pdf(item)
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is not None and reader.metadata.title == item.title
    text = pdf_text(data)
    for expected in (
        item.title,
        "党务公开事项归档记录",
        str(item.index_no),
        "湖一支〔2026〕3号",
        "2026年10月支部共收缴党费1,280元。",
        "接受党员监督。",
        "由组织委员当面解答。",
        "不涉及党和国家秘密",
        "政治安全风险",
        "可控性",
        "支部委员会会议",
        "会议同意按月公开党费收缴使用情况。",
        dw.branch2.name,
        "党员建议向社会公开",
        "上缴金额应为1,280元整，特此更正。",
        "不予公开",
        item.log.latest("seq").hash,
        GENESIS,
        f"第 1 页 共 {len(reader.pages)} 页",
    ):
        assert expected.replace(" ", "") in text.replace(" ", ""), expected


def test_the_record_pdf_shows_characters_beyond_gb2312(dw):
    item = full_record(dw)
    text = pdf_text(record_pdf(item))
    assert all(c in text for c in RARE)
    assert "□" not in text


def test_a_character_no_font_has_prints_as_a_box(dw):
    item = archived(dw, published(dw, title="党费收缴\U000f0000情况"))
    assert "党费收缴□情况" in pdf_text(record_pdf(item))


def test_the_body_becomes_paragraphs():
    html = "<p>第一段<br>第二行</p><ol><li>甲</li><li>乙</li></ol><p>&lt;注&gt;</p>"
    assert html_paragraphs(html) == ["第一段\n第二行", "1. 甲", "2. 乙", "<注>"]


# --- the download ---------------------------------------------------------------------------


def export_url(item: Disclosure) -> str:
    return reverse("disclosures:archive_export", args=[item.pk])


def test_anonymous_visitors_are_sent_to_log_in(dw, client):
    item = archived(dw)
    response = client.get(export_url(item))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["charlie", "dora"])
def test_people_the_item_was_not_shown_get_a_404(dw, client, who):
    item = archived(dw)
    client.force_login(getattr(dw.cast, who))
    assert client.get(export_url(item)).status_code == 404


def test_a_member_who_saw_the_item_may_not_take_its_record(dw, client):
    item = archived(dw)
    member = make_member("mia", dw.branch1, name="米娅")
    assert Disclosure.objects.visible_to(member).filter(pk=item.pk).exists()
    client.force_login(member)
    response = client.get(export_url(item))
    assert response.status_code == 403
    assert "党务公开工作人员" in response.content.decode()


def test_an_item_not_yet_archived_is_refused_with_a_message(dw, client):
    item = published(dw)
    client.force_login(dw.bob)
    response = client.get(export_url(item), follow=True)
    assert response.redirect_chain[0][0] == reverse("disclosures:detail", args=[item.pk])
    assert any("尚未归档" in str(m) for m in response.context["messages"])
    assert not AuditEntry.objects.filter(action="disclosure.export").exists()


@pytest.mark.parametrize("who", ["bob", "alice"])
def test_staff_download_the_package_and_it_is_audited(dw, client, who):
    item = archived(dw)
    user = getattr(dw.cast, who)
    client.force_login(user)
    response = client.get(export_url(item))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition and ".zip" in disposition
    assert "%E5%BD%92%E6%A1%A3" in disposition  # 归档
    assert response.content == archive.export_package(item)
    entry = AuditEntry.objects.get(action="disclosure.export")
    assert entry.actor == user and entry.object_id == str(item.pk)
    assert entry.org_id_at_time == item.org_id
    assert entry.data["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_the_parent_organizations_staff_may_download_too(dw, client):
    item = archived(dw)
    client.force_login(dw.cast.paula)
    assert client.get(export_url(item)).status_code == 200


# --- the command ----------------------------------------------------------------------------


def test_the_command_writes_the_package(dw, tmp_path):
    item = archived(dw)
    out = tmp_path / "归档.zip"
    stdout = io.StringIO()
    call_command("export_disclosure", str(item.pk), "--out", str(out), stdout=stdout)
    assert out.read_bytes() == archive.export_package(item)
    assert "已导出" in stdout.getvalue()
    assert AuditEntry.objects.get(action="disclosure.export").actor is None


def test_the_command_refuses_an_item_not_archived(dw, tmp_path):
    item = published(dw)
    with pytest.raises(CommandError, match="尚未归档"):
        call_command("export_disclosure", str(item.pk), "--out", str(tmp_path / "x.zip"))
    with pytest.raises(CommandError, match="没有编号"):
        call_command("export_disclosure", "999999", "--out", str(tmp_path / "x.zip"))


def test_an_item_archived_without_ever_being_published_exports(dw):
    item = actions.disclosure_submit(draft(dw), actor=dw.bob)
    item = actions.disclosure_start_review(item, actor=dw.rita)
    item = actions.disclosure_reject(item, actor=dw.rita, reason="涉及个人隐私，不宜公开")
    item = actions.disclosure_archive(item, actor=dw.bob)
    manifest = json.loads(unzip(archive.export_package(item))["manifest.json"])
    assert manifest["item"]["index_no"] is None
    assert manifest["log"]["intact"] is True
    assert archive.package_filename(item) == f"归档-事项{item.pk}-{item.title}.zip"
