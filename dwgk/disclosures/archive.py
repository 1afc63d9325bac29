"""归档 (PROC-6): checking an item's hash-chained log and packing its whole record for the
record office.

The log (`LogEntry`) is a hash chain per item: each entry's hash covers its fields and the
previous entry's hash, the first entry's "previous" being GENESIS. `verify_chain` recomputes
it, so a row changed, removed or moved in the database shows, from that entry on. Someone
who rewrites the table *and* recomputes every hash after it is caught only against a copy
of the last hash kept elsewhere — which is what the export package's manifest is: the
record office keeps it, and its `log.last_hash` must still be the chain's head later.

`export_package` builds that package: a zip with the record as a PDF, every attachment
(withheld ones too: it is the record, not a publication), the content revisions, the log
and a manifest giving every file's size and SHA-256. The same item always gives the same
bytes (fixed timestamps, sorted members), so an export can be checked by exporting again.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from dwgk.disclosures.models import GENESIS, Attachment, Disclosure, LogEntry
from dwgk.lib import files

FORMAT = "dwgk-disclosure-archive"
FORMAT_VERSION = 1
# A zip cannot date a file before 1980; an item not yet archived has no date of its own.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Characters Windows does not allow in a file name (the record office unpacks on Windows).
_UNSAFE_NAME_RE = re.compile(r'[<>:"|?*\\/]')

PACKAGE_NOTE = (
    "本压缩包是党务公开事项的归档材料（PROC-6），由党务公开平台导出，供档案部门保存。"
    "record.pdf 是事项的完整记录（内容、解读、舆情预判、各内容版本、审核意见与风险评估、"
    "沟通会签、审批、公开范围调整、更正说明和事项记录）；attachments/ 是事项的全部附件，"
    "其中 withheld 为 true 的附件经审核不予公开，仅供存档，不得对外提供，"
    "removed 为 true 的附件在审核前已由承办人移除；revisions.json 是各内容版本的快照；"
    "log.json 是事项的哈希链记录：每条记录的 hash 是其 disclosure、seq、at、actor、"
    "actor_label、action、status、revision、data、prev 字段（prev 即上一条的 hash，"
    "第一条为 64 个 0）按键名排序、不转义非 ASCII 字符、无空白的 JSON 文本按 UTF-8 编码后的 "
    "SHA-256，可据此离线复核。本清单（manifest.json）列出包内每个文件的路径、大小和 SHA-256；"
    "log.last_hash 是导出时记录链的最后一个摘要，请与本包一并妥善保存，"
    "日后可与平台上的记录比对，确认记录未被改动。"
)


# --- the chain ------------------------------------------------------------------------------


@dataclass
class ChainReport:
    """The result of checking one item's chain."""

    item_id: int
    title: str
    entries: int = 0
    last_hash: str = ""
    problems: list[tuple[int, str]] = field(default_factory=list)  # (seq, message)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        return self.problems[0][0] if self.problems else None

    @property
    def messages(self) -> list[str]:
        return [message for _seq, message in self.problems]


def check_chain(item: Disclosure) -> ChainReport:
    """Check the item's log: seq runs 1, 2, 3 … without gaps; the first entry follows
    GENESIS and every other one the previous entry's hash; every hash is the hash of its
    entry; and the last entry records the item's current status and revision, so cutting
    entries off the end shows too."""
    report = ChainReport(item_id=item.pk, title=item.title)
    expected_seq, prev_hash = 1, GENESIS
    last: LogEntry | None = None
    for entry in LogEntry.objects.filter(disclosure_id=item.pk).order_by("seq", "pk").iterator():
        report.entries += 1
        seq = entry.seq
        if seq != expected_seq:
            report.problems.append(
                (
                    min(seq, expected_seq),
                    f"第 {expected_seq} 条：缺失或序号被改动（此处是第 {seq} 条）",
                )
            )
        if entry.prev_hash != prev_hash:
            if seq == 1 or last is None:
                what = "第一条记录的前序摘要不是起始值"
            else:
                what = f"前序摘要与第 {last.seq} 条的摘要不符（记录被删除、插入或调换）"
            report.problems.append((seq, f"第 {seq} 条：{what}"))
        if entry.compute_hash() != entry.hash:
            report.problems.append((seq, f"第 {seq} 条：内容与摘要不符（记录被改动）"))
        expected_seq, prev_hash, last = seq + 1, entry.hash, entry
    if last is None:
        report.problems.append((1, "没有任何记录"))
    else:
        report.last_hash = last.hash
        if (last.status, last.revision) != (item.status, item.revision):
            report.problems.append(
                (
                    last.seq + 1,
                    f"第 {last.seq + 1} 条：缺失（最后一条记录的状态为“{_status_label(last.status)}”、"
                    f"第 {last.revision} 版，事项现为“{item.get_status_display()}”、"
                    f"第 {item.revision} 版：记录可能被截去）",
                )
            )
    report.problems.sort(key=lambda problem: problem[0])
    return report


def verify_chain(disclosure: Disclosure) -> list[str]:
    """The problems found in the item's log, in Chinese, first seq first; empty when the
    chain is intact."""
    return check_chain(disclosure).messages


def verify_all(queryset: QuerySet[Disclosure]) -> dict[int, ChainReport]:
    """Check the chain of every item of the queryset: item id → report, in id order."""
    return {item.pk: check_chain(item) for item in queryset.order_by("pk").iterator()}


def _status_label(code: str) -> str:
    try:
        return str(Disclosure.Status(code).label)
    except ValueError:
        return code


# --- the package ----------------------------------------------------------------------------


def generator_version() -> str:
    try:
        return metadata.version("dwgk")
    except metadata.PackageNotFoundError:
        return "unknown"


def _iso(value: datetime.datetime | datetime.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def _json_bytes(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return (text + "\n").encode("utf-8")


def _user_label(user: Any) -> str:
    if user is None:
        return ""
    return f"{getattr(user, 'name', '') or ''}（{user.get_username()}）"


def log_rows(item: Disclosure) -> list[dict[str, Any]]:
    """The chain entries with exactly the fields their hashes cover (`at` as hashed), so
    the chain can be recomputed from log.json alone."""
    return [
        {
            "disclosure": entry.disclosure_id,
            "seq": entry.seq,
            "at": entry.at.isoformat(),
            "actor": entry.actor_id,
            "actor_label": entry.actor_label,
            "action": entry.action,
            "status": entry.status,
            "revision": entry.revision,
            "data": entry.data,
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
        }
        for entry in LogEntry.objects.filter(disclosure_id=item.pk).order_by("seq", "pk")
    ]


def revision_rows(item: Disclosure) -> list[dict[str, Any]]:
    return [
        {
            "number": revision.number,
            "at": _iso(revision.at),
            "by": _user_label(revision.by),
            "by_id": revision.by_id,
            "note": revision.note,
            "content": revision.content,
        }
        for revision in item.revisions.select_related("by").order_by("number")
    ]


def attachment_filename(number: int, attachment: Attachment) -> str:
    """attachments/<n>-<name>: numbered, so two files of one name stay apart, and named
    as they would be downloaded, without characters a Windows folder refuses."""
    try:
        name = files.download_name(files.kind_for_code(attachment.kind), attachment.name)
    except KeyError:
        name = attachment.name
    name = _UNSAFE_NAME_RE.sub("_", name).strip() or "附件"
    return f"attachments/{number:02d}-{name}"


def _read_attachment(attachment: Attachment) -> bytes | None:
    try:
        with attachment.file.open("rb") as handle:
            data: bytes = handle.read()
            return data
    except (OSError, ValueError):
        return None


def export_package(item: Disclosure) -> bytes:
    """The item's archive package as zip bytes (see the module's docstring)."""
    from dwgk.disclosures.record_pdf import record_pdf

    item = Disclosure.objects.select_related("org", "author").get(pk=item.pk)
    report = check_chain(item)
    members: dict[str, bytes] = {}
    described: dict[str, dict[str, Any]] = {}

    members["record.pdf"] = record_pdf(item)
    described["record.pdf"] = {"kind": "record", "description": "事项完整记录"}
    members["revisions.json"] = _json_bytes(revision_rows(item))
    described["revisions.json"] = {"kind": "revisions", "description": "各内容版本"}
    members["log.json"] = _json_bytes(log_rows(item))
    described["log.json"] = {"kind": "log", "description": "事项记录（哈希链）"}

    missing: list[dict[str, Any]] = []
    for number, attachment in enumerate(item.attachments.order_by("id"), 1):
        about = {
            "kind": "attachment",
            "name": attachment.name,
            "file_kind": attachment.kind,
            "withheld": attachment.withheld,
            "removed": attachment.removed,
            "uploaded_at": _iso(attachment.uploaded_at),
            "recorded_sha256": attachment.sha256,
        }
        data = _read_attachment(attachment)
        path = attachment_filename(number, attachment)
        if data is None:
            missing.append({"path": path, **about, "problem": "存储中找不到该文件"})
            continue
        members[path] = data
        about["matches_record"] = hashlib.sha256(data).hexdigest() == attachment.sha256
        described[path] = about

    listed = [
        {
            "path": path,
            "size": len(members[path]),
            "sha256": hashlib.sha256(members[path]).hexdigest(),
            **described[path],
        }
        for path in sorted(members)
    ]
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": {"name": "dwgk", "version": generator_version()},
        "note": PACKAGE_NOTE,
        "item": {
            "id": item.pk,
            "index_no": item.index_no,
            "org": {"id": item.org_id, "code": item.org.code, "name": item.org.name},
            "title": item.title,
            "status": item.status,
            "status_label": item.get_status_display(),
            "revision": item.revision,
            "published_at": _iso(item.published_at),
            "archived_at": _iso(item.archived_at),
        },
        "log": {
            "entries": report.entries,
            "last_hash": report.last_hash,
            "intact": report.ok,
            "problems": report.messages,
        },
        "files": listed,
        "missing_files": missing,
    }
    members["manifest.json"] = _json_bytes(manifest)
    return _zip(members, item.archived_at)


def _zip(members: dict[str, bytes], when: datetime.datetime | None) -> bytes:
    stamp = ZIP_EPOCH
    if when is not None:
        local = timezone.localtime(when)
        stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(members):
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the permission bits below are read
            info.external_attr = 0o100644 << 16
            archive.writestr(info, members[path], compresslevel=9)
    return buffer.getvalue()


def package_filename(item: Disclosure) -> str:
    """The download's name: 归档-<索引号 or id>-<title>.zip (slashes of the 索引号 made safe)."""
    index = (item.index_no or f"事项{item.pk}").replace("/", "-")
    return f"归档-{index}-{item.title}.zip"
