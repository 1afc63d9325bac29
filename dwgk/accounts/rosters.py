"""Roster import and export: organizations and people, as .xlsx or .csv.

Offices keep their rosters in Excel, typed by hand, so reading is tolerant of what such
sheets contain (a merged title row above the header, blank rows, full-width characters,
sample rows, GB18030 CSV) and strict about everything else: every row is checked before
anything is written, and the writes happen in one transaction, so a file with one bad row
changes nothing and the result names every bad row the way the office sees it in Excel.

Rules that keep imports safe to repeat (an export re-imported changes nothing):
- a blank optional cell leaves the stored value alone; an import never erases anything;
- an import never ends a membership or an affiliation, and never changes an
  organization's type or a member's category (those have their own procedures);
- an import for organization X may only change organizations and people inside X's
  subtree; a row may still name an organization outside it when that is what is already
  recorded (X's own parent, or a member's current branch elsewhere).

Every change goes through the action functions (`orgs.actions`, `accounts.actions`), so an
import is audited row by row exactly like the same change made by hand.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils import timezone

from dwgk.accounts import policy
from dwgk.accounts.actions import (
    affiliate,
    member_join,
    member_transfer,
    user_create,
    user_update,
)
from dwgk.accounts.models import Affiliation, Membership, PlatformRole, User
from dwgk.audit.models import record
from dwgk.lib import sheets
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.lib.sheets import RowError
from dwgk.orgs.actions import org_create, org_move, org_rename, org_set_sort_order
from dwgk.orgs.models import Organization, OrgType, subtree_q

KIND_ORGS = "orgs"
KIND_PEOPLE = "people"
KINDS = {KIND_ORGS: "组织名册", KIND_PEOPLE: "人员名册"}
FORMATS = ("xlsx", "csv")

_CHUNK = 500  # keeps IN (...) lists well under SQLite's variable limit


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool = False
    help: str = ""

    @property
    def header(self) -> str:
        """The header cell as templates and exports write it: required columns end in *."""
        return f"{self.label}*" if self.required else self.label


ORG_COLUMNS = (
    Column("code", "组织编码", True, "本平台内唯一，如 MZ-DH-01；已有编码表示更新该组织"),
    Column("name", "组织名称", True, "全称"),
    Column("short_name", "简称"),
    Column("org_type", "组织类型", True, "类型名称或代码，如 党支部、社区党委"),
    Column(
        "parent",
        "上级组织编码",
        help="已有组织的编码，或本文件中排在前面的组织的编码；与现有不同即调整隶属关系",
    ),
    Column("sort_order", "排序", help="整数，同级组织按它排列"),
)
PEOPLE_COLUMNS = (
    Column("username", "登录名", True, "字母、数字和 @ . + - _；已有登录名表示更新该人员"),
    Column("name", "姓名", True),
    Column("phone", "手机号码", help="请把该列设为“文本”格式，以免 Excel 改成科学计数法"),
    Column("email", "电子邮箱"),
    Column("political", "政治面貌", help="中共党员、中共预备党员 或 群众（共青团员按群众处理）"),
    Column(
        "branch",
        "所在党支部编码",
        help="中共党员和中共预备党员必填，须为党支部；与现有不同即办理组织关系转接",
    ),
    Column("unit", "所在单位编码", help="人员所在的单位（社区、学校、企业等）的组织编码"),
    Column("unit_kind", "单位身份", help="职工、教职工、学生、医务人员、居民、村民 或 其他"),
    Column(
        "started_on",
        "转入日期",
        help="如 2024-01-05、2024/1/5 或 2024年1月5日；只在新编入或转接时使用，空白为今天",
    ),
)
COLUMNS = {KIND_ORGS: ORG_COLUMNS, KIND_PEOPLE: PEOPLE_COLUMNS}

# Other headings people type for the same columns.
_ALIASES = {
    KIND_ORGS: {"编码": "code", "组织简称": "short_name", "类型": "org_type", "上级编码": "parent"},
    KIND_PEOPLE: {
        "用户名": "username",
        "账号": "username",
        "手机": "phone",
        "手机号": "phone",
        "联系电话": "phone",
        "邮箱": "email",
        "电子邮件": "email",
        "党支部编码": "branch",
        "单位编码": "unit",
        "身份": "unit_kind",
    },
}

POLITICAL_FULL = "中共党员"
POLITICAL_PROBATIONARY = "中共预备党员"
POLITICAL_NONE = "群众"
_POLITICAL = {
    POLITICAL_FULL: Membership.Kind.FULL,
    "党员": Membership.Kind.FULL,
    "正式党员": Membership.Kind.FULL,
    "中共正式党员": Membership.Kind.FULL,
    POLITICAL_PROBATIONARY: Membership.Kind.PROBATIONARY,
    "预备党员": Membership.Kind.PROBATIONARY,
    POLITICAL_NONE: "",
    # Not party members; student rosters say so.
    "共青团员": "",
    "团员": "",
}
_KIND_LABEL: dict[str, str] = {
    Membership.Kind.FULL: POLITICAL_FULL,
    Membership.Kind.PROBATIONARY: POLITICAL_PROBATIONARY,
}

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PHONE_RE = re.compile(r"^\+?[0-9]{3,19}$")
_SCIENTIFIC_RE = re.compile(r"^[0-9.]+E\+?[0-9]+$", re.IGNORECASE)
_DATE_RE = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
# Dashes an input method produces where a code means "-".
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-"))
_CJK_GAP_RE = re.compile(rf"(?<=[{sheets.CJK}])\s+(?=[{sheets.CJK}])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_username_validator = UnicodeUsernameValidator()


# --- results ---------------------------------------------------------------------------


@dataclass
class ImportResult(sheets.Report):
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    def summary(self) -> str:
        if not self.ok:
            return f"{self.kind_label}有 {len(self.errors)} 处问题，未做任何修改。"
        verb = "检查通过（未写入）" if self.dry_run else "导入完成"
        return (
            f"{self.kind_label}{verb}：新增 {self.created} 条，更新 {self.updated} 条，"
            f"无变化 {self.unchanged} 条。"
        )


class _Rollback(Exception):
    pass


class _RowFailed(Exception):
    """An action refused a row during the writes; everything is rolled back."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


# --- cell values -----------------------------------------------------------------------


def _code(value: Any) -> str:
    return sheets.nfkc(value).translate(_DASHES)


def _name(value: Any) -> str:
    """A name as stored: trimmed, with the padding between CJK characters removed
    (two-character names are often typed 张　三 to line up in a printed list)."""
    return _CJK_GAP_RE.sub("", re.sub(r"\s+", " ", sheets.text(value)))


def _name_key(value: str) -> str:
    """What two names must share to count as the same name (张三 = 张 三, （ = ()."""
    return unicodedata.normalize("NFKC", _name(value))


class _CellError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_date(value: Any) -> datetime.date | None:
    """A date from a cell: a real Excel date, 2024-01-05, 2024/1/5, 2024年1月5日, 20240105."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell Excel did not format as a date: days since 1899-12-30.
        if 1 <= value < 2958466:
            return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
        raise _CellError("日期格式不正确，请写作 2024-01-05")
    text = sheets.nfkc(value)
    if not text:
        return None
    match = _DATE_RE.match(text)
    if match:
        y, m, d = (int(g) for g in match.groups())
    elif re.fullmatch(r"\d{8}", text):
        y, m, d = int(text[:4]), int(text[4:6]), int(text[6:])
    else:
        raise _CellError(f"无法识别日期“{sheets.text(value)}”，请写作 2024-01-05")
    try:
        return datetime.date(y, m, d)
    except ValueError:
        raise _CellError(f"日期“{sheets.text(value)}”不存在") from None


def _parse_int(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = sheets.nfkc(value)
        if not text:
            return None
        if not re.fullmatch(r"-?\d+(\.0+)?", text):
            raise _CellError(f"“{sheets.text(value)}”不是整数")
        number = int(text.split(".")[0])
    if abs(number) >= 10**9:
        raise _CellError("数字过大")
    return number


# --- reading files ---------------------------------------------------------------------

_T = TypeVar("_T")


def _decode_csv(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise sheets.FileError(
            "这是 Unicode 文本（UTF-16）文件，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx。"
        )
    if b"\x00" in data:
        raise sheets.FileError("文件不是文本格式的 CSV，也不是 Excel 工作簿（.xlsx），无法导入。")
    # Chinese Excel saves "CSV (逗号分隔)" as GB18030 (GBK), not UTF-8.
    encodings = ["utf-8-sig"] if data.startswith(b"\xef\xbb\xbf") else ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise sheets.FileError("无法识别 CSV 文件的编码，请另存为“CSV UTF-8（逗号分隔）”后再导入。")


def _csv_tables(data: bytes) -> list[Callable[[], sheets.RowIter]]:
    text = _decode_csv(data)

    def rows_with(delimiter: str) -> Callable[[], sheets.RowIter]:
        def rows() -> sheets.RowIter:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            try:
                # Numbered by record, which is the row Excel shows (quoted line breaks included).
                for number, values in enumerate(reader, start=1):
                    yield number, list(values)
            except csv.Error:
                raise sheets.FileError(
                    "CSV 文件格式有误（引号不成对或单元格过长），无法导入。"
                ) from None

        return rows

    return [rows_with(d) for d in (",", "\t", ";")]


def _tables(data: bytes, filename: str) -> list[Callable[[], sheets.RowIter]]:
    """The file's candidate tables, chosen by content: the name is not trusted."""
    if len(data) > settings.ROSTER_MAX_BYTES:
        raise sheets.FileError(sheets.too_big_message())
    if not data.strip():
        raise sheets.FileError("文件是空的。")
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise sheets.FileError(
            "不支持旧版 Excel（.xls）或设置了密码的文件，请另存为 Excel 工作簿（.xlsx）后再导入。"
        )
    if data.startswith(b"PK\x03\x04"):
        return sheets.xlsx_tables(data)
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        raise sheets.FileError("文件扩展名是 Excel，但内容不是 Excel 工作簿，无法导入。")
    return _csv_tables(data)


def _match_header(values: list[Any], kind: str) -> dict[str, int]:
    by_label = {c.label: c.key for c in COLUMNS[kind]} | _ALIASES[kind]
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        key = by_label.get(sheets.header_key(value))
        if key is not None and key not in found:
            found[key] = index
    return found


def _missing(kind: str, found: dict[str, int]) -> list[str]:
    return [c.label for c in COLUMNS[kind] if c.required and c.key not in found]


_DataRows = list[tuple[int, dict[str, Any]]]  # (row number in Excel, column key -> cell)


def _read_rows(data: bytes, filename: str, kind: str) -> _DataRows:
    """Find the header in the first rows of the first table that has one, and read on."""
    other = KIND_PEOPLE if kind == KIND_ORGS else KIND_ORGS
    partial: list[str] = []
    other_seen = False
    max_rows = settings.ROSTER_MAX_ROWS
    for table in _tables(data, filename):
        rows = table()
        columns: dict[str, int] | None = None
        for number, values in rows:
            if number > sheets.HEADER_SEARCH_ROWS:
                break
            found = _match_header(values, kind)
            if not _missing(kind, found):
                columns = found
                break
            if len(found) >= 2 and not partial:
                partial = _missing(kind, found)
            if not _missing(other, _match_header(values, other)):
                other_seen = True
        if columns is None:
            continue
        found_rows: _DataRows = []
        for number, values in rows:
            if sheets.is_blank(values) or sheets.is_sample(values):
                continue
            if len(found_rows) >= max_rows:
                raise sheets.FileError(f"文件数据超过 {max_rows} 行的上限，请分成几个文件导入。")
            cells = {
                key: values[index] if index < len(values) else None
                for key, index in columns.items()
            }
            found_rows.append((number, cells))
        return found_rows
    if other_seen:
        raise sheets.FileError(
            f"这是{KINDS[other]}，不是{KINDS[kind]}，请在“{KINDS[other]}”处导入。"
        )
    if partial:
        raise sheets.FileError("表头缺少必填列：" + "、".join(f"「{p}」" for p in partial) + "。")
    required = "、".join(c.label for c in COLUMNS[kind] if c.required)
    raise sheets.FileError(
        f"在前 {sheets.HEADER_SEARCH_ROWS} 行中找不到表头（须包含 {required}），请使用下载的模板。"
    )


# --- validation context ----------------------------------------------------------------


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(items)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class _Context:
    def __init__(self, kind: str, actor: Any, within: Organization | None) -> None:
        self.kind = kind
        self.actor = actor
        self.within = within
        self.errors: list[RowError] = []
        self._manage_cache: dict[int, bool] = {}

    def error(self, row: int, key: str, message: str) -> None:
        label = next(c.label for c in COLUMNS[self.kind] if c.key == key)
        self.errors.append(RowError(row, label, message))

    def cell(
        self, row: int, key: str, clean: Callable[[Any], _T], cells: dict[str, Any]
    ) -> _T | None:
        """The cleaned cell, or None after recording why it is wrong."""
        try:
            return clean(cells.get(key))
        except _CellError as e:
            self.error(row, key, e.message)
            return None

    def in_subtree(self, org: Organization) -> bool:
        return self.within is None or org.is_in_subtree_of(self.within)

    def may_manage(self, org: Organization) -> bool:
        if self.actor is None:
            return True
        if org.pk not in self._manage_cache:
            self._manage_cache[org.pk] = policy.can_manage_org(self.actor, org)
        return self._manage_cache[org.pk]

    def scope_problem(self, org: Organization) -> str | None:
        """Why this import may not change or attach anything to `org`, if it may not."""
        if not self.in_subtree(org):
            assert self.within is not None
            return f"编码为 {org.code} 的组织不在「{self.within.name}」及其下级组织范围内"
        if not self.may_manage(org):
            return f"您无权管理「{org.name}」"
        return None


def _orgs_by_code(codes: Iterable[str]) -> dict[str, Organization]:
    found: dict[str, Organization] = {}
    for chunk in _chunks({c for c in codes if c}):
        for org in Organization.objects.select_related("org_type").filter(code__in=chunk):
            found[org.code] = org
    return found


# --- organizations ---------------------------------------------------------------------


@dataclass
class _OrgPlan:
    row: int
    code: str
    name: str
    short_name: str | None
    org_type: OrgType
    parent_code: str | None
    sort_order: int | None
    existing: Organization | None = None
    rename: bool = False
    move: bool = False
    reorder: bool = False

    @property
    def changes(self) -> bool:
        return self.rename or self.move or self.reorder


def _org_types() -> dict[str, OrgType]:
    types: dict[str, OrgType] = {}
    for t in OrgType.objects.all():
        types.setdefault(sheets.nfkc(t.name), t)
    for t in OrgType.objects.all():
        types[sheets.nfkc(t.code)] = t  # a code wins over a name that happens to equal it
    return types


def _validate_orgs(ctx: _Context, rows: _DataRows) -> list[_OrgPlan]:
    codes = [_code(cells.get("code")) for _, cells in rows]
    parents = [_code(cells.get("parent")) for _, cells in rows]
    existing = _orgs_by_code([*codes, *parents])
    types = _org_types()
    file_rows: dict[str, int] = {}  # code -> the first row that has it
    for (number, _), code in zip(rows, codes, strict=True):
        file_rows.setdefault(code, number)
    plans: dict[str, _OrgPlan] = {}  # valid rows, by code
    result: list[_OrgPlan] = []

    for (number, cells), code in zip(rows, codes, strict=True):
        before = len(ctx.errors)
        org = existing.get(code)
        if not code:
            ctx.error(number, "code", "不能为空")
        elif file_rows[code] != number:
            ctx.error(number, "code", f"与第 {file_rows[code]} 行重复")
        elif len(code) > 40:
            ctx.error(number, "code", "不能超过 40 个字符")
        elif org is None and not _CODE_RE.match(code):
            ctx.error(number, "code", "只能由字母、数字和 - _ . 组成，且以字母或数字开头")
        elif org is not None and (problem := ctx.scope_problem(org)):
            ctx.error(number, "code", problem)

        name = _name(cells.get("name"))
        if not name:
            ctx.error(number, "name", "不能为空")
        elif len(name) > 120:
            ctx.error(number, "name", "不能超过 120 个字")
        short = _name(cells.get("short_name")) or None
        if short is not None and len(short) > 60:
            ctx.error(number, "short_name", "不能超过 60 个字")

        type_text = sheets.nfkc(cells.get("org_type"))
        org_type = types.get(type_text)
        if not type_text:
            ctx.error(number, "org_type", "不能为空")
        elif org_type is None:
            ctx.error(
                number,
                "org_type",
                f"没有名称或代码为“{sheets.text(cells.get('org_type'))}”的组织类型",
            )
        elif org is not None and org.org_type_id != org_type.pk:
            ctx.error(
                number,
                "org_type",
                f"「{org.name}」的类型是“{org.org_type.name}”，名册导入不能更改组织类型",
            )

        sort_order = ctx.cell(number, "sort_order", _parse_int, cells)

        parent_code = _code(cells.get("parent")) or None
        parent = existing.get(parent_code) if parent_code else None
        move = False
        # The organization the import is for stays where it is: its parent is outside.
        is_root = org is not None and ctx.within is not None and org.pk == ctx.within.pk
        root_move = f"不能通过本名册调整「{ctx.within.name if ctx.within else ''}」自身的上级组织"
        if parent_code is None:
            if org is None and ctx.within is not None:
                ctx.error(number, "parent", "新建组织须填写上级组织编码")
        elif parent_code == code:
            ctx.error(number, "parent", "上级组织不能是本组织自身")
        elif parent is not None:
            unchanged = org is not None and org.parent_id == parent.pk
            if not unchanged:
                if is_root:
                    ctx.error(number, "parent", root_move)
                elif problem := ctx.scope_problem(parent):
                    ctx.error(number, "parent", problem)
                elif not parent.is_active:
                    ctx.error(number, "parent", f"「{parent.name}」已撤销或合并")
                elif org is not None and parent.is_in_subtree_of(org):
                    ctx.error(number, "parent", "不能把组织调整到它自己或它的下级组织之下")
                move = org is not None
        elif parent_code in plans and is_root:
            ctx.error(number, "parent", root_move)
        elif parent_code in plans:
            move = org is not None
            anchor = plans[parent_code]
            while anchor.existing is None and anchor.parent_code in plans:
                anchor = plans[anchor.parent_code]
            anchor_org = anchor.existing or existing.get(anchor.parent_code or "")
            if org is not None and anchor_org is not None and anchor_org.is_in_subtree_of(org):
                ctx.error(number, "parent", "不能把组织调整到它自己或它的下级组织之下")
        elif parent_code in file_rows and file_rows[parent_code] > number:
            ctx.error(
                number,
                "parent",
                f"上级组织 {parent_code} 在第 {file_rows[parent_code]} 行，"
                "请把上级组织排在它的下级组织前面",
            )
        elif parent_code not in file_rows:
            ctx.error(number, "parent", f"找不到编码为 {parent_code} 的组织")
        # else: the parent's own row is bad and already reported.

        if len(ctx.errors) > before or org_type is None:
            continue
        plan = _OrgPlan(number, code, name, short, org_type, parent_code, sort_order, org)
        if org is not None:
            plan.rename = _name_key(name) != _name_key(org.name) or (
                short is not None and _name_key(short) != _name_key(org.short_name)
            )
            plan.move = move
            plan.reorder = sort_order is not None and sort_order != org.sort_order
            if plan.changes and not org.is_active:
                ctx.error(number, "code", f"「{org.name}」已撤销或合并，不能通过名册修改")
                continue
        plans[code] = plan
        result.append(plan)
    return result


def _apply_orgs(ctx: _Context, plans: list[_OrgPlan], result: ImportResult) -> None:
    ids_by_code = {p.code: p.existing.pk for p in plans if p.existing is not None}

    def fresh(code: str) -> Organization:
        # Re-read every time: a move earlier in this import rewrites the paths below it.
        pk = ids_by_code.get(code)
        qs = Organization.objects.select_related("org_type")
        return qs.get(pk=pk) if pk is not None else qs.get(code=code)

    for plan in plans:
        try:
            _apply_org(ctx, plan, fresh, ids_by_code, result)
        except ActionError as e:
            raise _RowFailed(plan.row, e.message) from e


def _apply_org(
    ctx: _Context,
    plan: _OrgPlan,
    fresh: Callable[[str], Organization],
    ids_by_code: dict[str, int],
    result: ImportResult,
) -> None:
    if plan.existing is None:
        org = org_create(
            actor=ctx.actor,
            name=plan.name,
            code=plan.code,
            org_type=plan.org_type,
            parent=fresh(plan.parent_code) if plan.parent_code else None,
            short_name=plan.short_name or "",
            sort_order=plan.sort_order or 0,
        )
        ids_by_code[plan.code] = org.pk
        result.created += 1
        return
    if not plan.changes:
        result.unchanged += 1
        return
    org = fresh(plan.code)
    if plan.rename:
        short = plan.short_name if plan.short_name is not None else org.short_name
        org_rename(org, actor=ctx.actor, name=plan.name, short_name=short)
    if plan.move:
        assert plan.parent_code is not None
        org_move(org, fresh(plan.parent_code), actor=ctx.actor, note="名册导入")
    if plan.reorder:
        assert plan.sort_order is not None
        org_set_sort_order(org, plan.sort_order, actor=ctx.actor)
    result.updated += 1


# --- people ----------------------------------------------------------------------------


@dataclass
class _PersonPlan:
    row: int
    username: str
    name: str
    phone: str
    email: str
    user: User | None = None
    changes: dict[str, str] = field(default_factory=dict)
    join: tuple[Organization, str, datetime.date | None] | None = None
    transfer: tuple[Organization, datetime.date | None] | None = None
    affiliate: tuple[Organization, str, datetime.date | None] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.join or self.transfer or self.affiliate)


_UNIT_KINDS = {
    sheets.nfkc(str(label)).lower(): value for value, label in Affiliation.Kind.choices
} | {value: value for value in Affiliation.Kind.values}


def _clean_phone(value: Any) -> str:
    text = sheets.nfkc(value).replace("-", "").replace("(", "").replace(")", "")
    if not text:
        return ""
    if _SCIENTIFIC_RE.match(text):
        raise _CellError(
            f"“{sheets.text(value)}”是 Excel 的科学计数法显示，请把该列设为“文本”格式后重新填写号码"
        )
    if not _PHONE_RE.match(text):
        raise _CellError(f"“{sheets.text(value)}”不是有效的电话号码")
    return text


def _clean_started_on(value: Any) -> datetime.date | None:
    day = parse_date(value)
    if day is not None and day > timezone.localdate():
        raise _CellError("不能晚于今天")
    if day is not None and day.year < 1900:
        raise _CellError("年份有误")
    return day


def _clean_email(value: Any) -> str:
    text = sheets.nfkc(value)
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        raise _CellError(f"“{sheets.text(value)}”不是有效的电子邮箱地址") from None
    return text


@dataclass
class _PeopleData:
    """What the checks need from the database, read in a few queries for the whole file."""

    orgs: dict[str, Organization]
    users: dict[str, User]
    lowered: dict[str, str]  # lower-cased username -> an existing username
    memberships: dict[int, Membership]
    affiliations: dict[int, list[Affiliation]]
    platform_ids: set[int]
    first_rows: dict[str, int]  # lower-cased username -> the first row that has it


def _load_people_data(rows: _DataRows, usernames: list[str]) -> _PeopleData:
    codes = [_code(cells.get(k)) for _, cells in rows for k in ("branch", "unit")]
    data = _PeopleData(_orgs_by_code(codes), {}, {}, {}, {}, set(), {})
    for chunk in _chunks({u for u in usernames if u}):
        for user in User.objects.filter(username__in=chunk):
            data.users[user.username] = user
    for chunk in _chunks({u.lower() for u in usernames if u and u not in data.users}):
        qs = User.objects.annotate(lower=Lower("username")).filter(lower__in=chunk)
        for username, low in qs.values_list("username", "lower"):
            data.lowered[low] = username
    for chunk in _chunks([u.pk for u in data.users.values()]):
        current = Membership.objects.filter(user_id__in=chunk, ended_on__isnull=True)
        for m in current.select_related("branch"):
            data.memberships[m.user_id] = m
        affs = Affiliation.objects.filter(user_id__in=chunk, ended_on__isnull=True)
        for a in affs.select_related("org"):
            data.affiliations.setdefault(a.user_id, []).append(a)
        roles = PlatformRole.objects.filter(user_id__in=chunk)
        data.platform_ids |= set(roles.values_list("user_id", flat=True))
    for (number, _), username in zip(rows, usernames, strict=True):
        data.first_rows.setdefault(username.lower(), number)
    return data


def _validate_people(ctx: _Context, rows: _DataRows) -> list[_PersonPlan]:
    usernames = [User.normalize_username(sheets.nfkc(cells.get("username"))) for _, cells in rows]
    data = _load_people_data(rows, usernames)
    plans: list[_PersonPlan] = []
    for (number, cells), username in zip(rows, usernames, strict=True):
        before = len(ctx.errors)
        plan = _plan_person(ctx, data, number, cells, username)
        if len(ctx.errors) == before:
            plans.append(plan)
    return plans


def _plan_person(
    ctx: _Context, data: _PeopleData, number: int, cells: dict[str, Any], username: str
) -> _PersonPlan:
    user = data.users.get(username)
    _check_username(ctx, data, number, username, user)

    name = _name(cells.get("name"))
    if not name:
        ctx.error(number, "name", "不能为空")
    elif len(name) > 60:
        ctx.error(number, "name", "不能超过 60 个字")
    phone = ctx.cell(number, "phone", _clean_phone, cells) or ""
    email = ctx.cell(number, "email", _clean_email, cells) or ""
    started_on = ctx.cell(number, "started_on", _clean_started_on, cells)

    political = sheets.nfkc(cells.get("political"))
    kind = _POLITICAL.get(political) if political else None  # "" = not a member
    if political and kind is None:
        ctx.error(
            number,
            "political",
            f"“{sheets.text(cells.get('political'))}”无法识别，请填写 中共党员、中共预备党员 或 群众",
        )
    unit_kind_text = sheets.nfkc(cells.get("unit_kind"))
    unit_kind = _UNIT_KINDS.get(unit_kind_text.lower()) if unit_kind_text else None
    if unit_kind_text and unit_kind is None:
        labels = "、".join(str(label) for _, label in Affiliation.Kind.choices)
        ctx.error(number, "unit_kind", f"请填写以下之一：{labels}")

    has_branch, has_unit = bool(_code(cells.get("branch"))), bool(_code(cells.get("unit")))
    if kind and not has_branch:
        ctx.error(number, "branch", "中共党员和中共预备党员须填写所在党支部编码")
    if kind == "" and has_branch:
        ctx.error(number, "branch", "群众不应填写所在党支部编码")
    if political == "" and has_branch:
        ctx.error(number, "political", "填写了所在党支部编码时，请同时填写政治面貌")
    if unit_kind_text and not has_unit:
        ctx.error(number, "unit", "填写了单位身份时，请同时填写所在单位编码")
    if not has_branch and not has_unit:
        ctx.error(number, "unit", "请至少填写所在党支部编码或所在单位编码之一")

    plan = _PersonPlan(number, username, name, phone, email, user)
    membership = data.memberships.get(user.pk) if user else None
    branch = _org_cell(ctx, data, number, cells, "branch")
    if kind:
        _plan_membership(ctx, plan, membership, branch, kind, started_on)
    elif kind == "" and membership is not None:
        ctx.error(
            number,
            "political",
            f"系统中为{_KIND_LABEL[membership.kind]}（{membership.branch.name}），"
            "名册导入不能办理党员转出，请通过组织关系转接办理",
        )
    unit = _org_cell(ctx, data, number, cells, "unit")
    if unit is not None:
        held = data.affiliations.get(user.pk, []) if user else []
        _plan_affiliation(ctx, plan, held, unit, unit_kind, unit_kind_text, started_on)
    if user is not None:
        _plan_account_changes(ctx, plan, user, user.pk in data.platform_ids)
    return plan


def _check_username(
    ctx: _Context, data: _PeopleData, number: int, username: str, user: User | None
) -> None:
    first = data.first_rows.get(username.lower())
    if not username:
        ctx.error(number, "username", "不能为空")
    elif first != number:
        ctx.error(number, "username", f"与第 {first} 行重复")
    elif len(username) > 150:
        ctx.error(number, "username", "不能超过 150 个字符")
    elif user is None:
        try:
            _username_validator(username)
        except ValidationError:
            ctx.error(number, "username", "只能包含字母、数字和 @ . + - _")
            return
        if username.lower() in data.lowered:
            existing = data.lowered[username.lower()]
            ctx.error(number, "username", f"与已有账号“{existing}”只差大小写，请核对")
    elif ctx.within is not None:
        # Only people already placed in the subtree may be changed: otherwise anyone's
        # account (and its e-mail, a way in) could be taken over by naming its username.
        membership = data.memberships.get(user.pk)
        placed = (membership is not None and ctx.in_subtree(membership.branch)) or any(
            ctx.in_subtree(a.org) for a in data.affiliations.get(user.pk, [])
        )
        if not placed:
            ctx.error(
                number,
                "username",
                f"登录名“{username}”已被使用，且该账号不在「{ctx.within.name}」"
                "及其下级组织，不能通过本名册修改",
            )


def _org_cell(
    ctx: _Context, data: _PeopleData, number: int, cells: dict[str, Any], key: str
) -> Organization | None:
    code = _code(cells.get(key))
    if not code:
        return None
    org = data.orgs.get(code)
    if org is None:
        ctx.error(number, key, f"找不到编码为 {code} 的组织")
    return org


def _plan_membership(
    ctx: _Context,
    plan: _PersonPlan,
    membership: Membership | None,
    branch: Organization | None,
    kind: str,
    started_on: datetime.date | None,
) -> None:
    """Join, transfer, or nothing; an import never ends a membership or changes its kind."""
    if branch is None:
        return
    number = plan.row
    same = membership is not None and membership.branch_id == branch.pk
    if not same:
        if problem := ctx.scope_problem(branch):
            ctx.error(number, "branch", problem)
        elif not branch.is_active:
            ctx.error(number, "branch", f"「{branch.name}」已撤销或合并")
        elif not branch.org_type.holds_members:
            ctx.error(number, "branch", f"「{branch.name}」不是党支部，党员只能编入党支部")
    if membership is None:
        plan.join = (branch, kind, started_on)
        return
    if membership.kind != kind:
        ctx.error(
            number,
            "political",
            f"系统中为{_KIND_LABEL[membership.kind]}，名册导入不能更改党员类别",
        )
    if not same:
        if started_on is not None and started_on < membership.started_on:
            ctx.error(
                number,
                "started_on",
                f"早于在原党支部的转入日期 {membership.started_on.isoformat()}",
            )
        plan.transfer = (branch, started_on)


def _plan_affiliation(
    ctx: _Context,
    plan: _PersonPlan,
    held: list[Affiliation],
    unit: Organization,
    unit_kind: str | None,
    unit_kind_text: str,
    started_on: datetime.date | None,
) -> None:
    """Add the affiliation if missing; one already held must agree on the kind."""
    number = plan.row
    current = next((a for a in held if a.org_id == unit.pk), None)
    if current is not None:
        if unit_kind is not None and current.kind != unit_kind:
            ctx.error(
                number,
                "unit_kind",
                f"系统中为“{current.get_kind_display()}”，名册导入不能更改单位身份",
            )
        return
    if problem := ctx.scope_problem(unit):
        ctx.error(number, "unit", problem)
    elif not unit.is_active:
        ctx.error(number, "unit", f"「{unit.name}」已撤销或合并")
    if not unit_kind_text:
        ctx.error(number, "unit_kind", "新增单位隶属时须填写单位身份")
    elif unit_kind is not None:
        plan.affiliate = (unit, unit_kind, started_on)


def _plan_account_changes(ctx: _Context, plan: _PersonPlan, user: User, platform: bool) -> None:
    """Name, phone and e-mail; a blank cell keeps what is stored."""
    if _name_key(plan.name) != _name_key(user.name):
        plan.changes["name"] = plan.name
    if plan.phone and plan.phone != user.phone:
        plan.changes["phone"] = plan.phone
    if plan.email and plan.email.lower() != user.email.lower():
        plan.changes["email"] = plan.email
    protected = platform or user.is_superuser or user.is_staff
    if plan.changes and protected and ctx.actor is not None and not policy.is_sysadmin(ctx.actor):
        ctx.error(
            plan.row,
            "name",
            "该账号是平台管理账号，其姓名、手机号码和电子邮箱不能通过名册修改",
        )


def _apply_people(ctx: _Context, plans: list[_PersonPlan], result: ImportResult) -> None:
    # Re-read the organizations inside the transaction: their paths decide permissions.
    org_ids = set()
    for p in plans:
        for target in (p.join, p.transfer, p.affiliate):
            if target is not None:
                org_ids.add(target[0].pk)
    fresh: dict[int, Organization] = {}
    for chunk in _chunks(org_ids):
        fresh.update(Organization.objects.select_related("org_type").in_bulk(chunk))

    for plan in plans:
        try:
            _apply_person(ctx, plan, fresh, result)
        except ActionError as e:
            raise _RowFailed(plan.row, e.message) from e


def _apply_person(
    ctx: _Context, plan: _PersonPlan, fresh: dict[int, Organization], result: ImportResult
) -> None:
    if plan.user is not None and not plan.changed:
        result.unchanged += 1
        return
    if plan.user is None:
        user = user_create(
            actor=ctx.actor,
            username=plan.username,
            name=plan.name,
            phone=plan.phone,
            email=plan.email,
            via="roster",
        )
        result.created += 1
    else:
        user = plan.user
        if plan.changes:
            user_update(user, actor=ctx.actor, via="roster", **plan.changes)
        result.updated += 1
    if plan.join is not None:
        branch, kind, day = plan.join
        member_join(user, fresh[branch.pk], actor=ctx.actor, started_on=day, kind=kind)
    if plan.transfer is not None:
        branch, day = plan.transfer
        member_transfer(user, fresh[branch.pk], actor=ctx.actor, on=day)
    if plan.affiliate is not None:
        unit, kind, day = plan.affiliate
        affiliate(user, fresh[unit.pk], actor=ctx.actor, kind=kind, started_on=day)


# --- import entry point ----------------------------------------------------------------


def import_roster(
    data: bytes,
    *,
    kind: str,
    actor: Any,
    within: Organization | None,
    filename: str = "",
    request: HttpRequest | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import an organization or people roster for `within`'s subtree.

    `actor` None is the operator at the command line, who may also import without a scope
    (`within` None). Everything is checked first; the writes then happen in one
    transaction, so either the whole file is applied or nothing is. A dry run does the
    writes too, to meet every check the actions make, and then rolls them back.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown roster kind {kind!r}")
    if actor is not None:
        if within is None:
            raise NotAllowed("请选择要导入名册的组织。")
        if not policy.can_manage_org(actor, within):
            raise NotAllowed(f"您无权管理“{within.name}”。")
    result = ImportResult(kind, dry_run=dry_run)
    ctx = _Context(kind, actor, within)
    try:
        rows = _read_rows(data, filename, kind)
    except sheets.FileError as e:
        result.errors.append(RowError(None, "", e.message))
        return result
    if not rows:
        result.errors.append(RowError(None, "", "表头下面没有数据行。"))
        return result

    apply: Callable[[], None]
    if kind == KIND_ORGS:
        apply = functools.partial(_apply_orgs, ctx, _validate_orgs(ctx, rows), result)
    else:
        apply = functools.partial(_apply_people, ctx, _validate_people(ctx, rows), result)

    if ctx.errors:
        result.errors = sorted(ctx.errors, key=lambda e: e.row or 0)
        return result

    try:
        with transaction.atomic():
            try:
                apply()
            except _RowFailed as e:
                # The checks above should have caught it; the action had the last word.
                result.errors.append(RowError(e.row, "", e.message))
                raise _Rollback from e
            if dry_run:
                raise _Rollback
            record(
                actor,
                "roster.import",
                within,
                org_id=within.pk if within else None,
                request=request,
                kind=kind,
                filename=filename[:200],
                rows=len(rows),
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
            )
    except _Rollback:
        pass
    except IntegrityError:
        result.errors.append(
            RowError(None, "", "导入时数据正被他人同时修改，未做任何修改，请稍后重新导入。")
        )
    if result.errors:
        result.created = result.updated = result.unchanged = 0
    return result


# --- export ----------------------------------------------------------------------------


def _type_labels() -> dict[int, str]:
    """Each type by its name, or by its code where two types share a name."""
    types = list(OrgType.objects.all())
    names = [t.name for t in types]
    return {t.pk: t.name if names.count(t.name) == 1 else t.code for t in types}


def _org_rows(within: Organization) -> list[list[Any]]:
    labels = _type_labels()
    # Path order puts every parent before its children, as an import needs them.
    orgs = (
        Organization.objects.active()
        .filter(subtree_q(within.path))
        .select_related("parent")
        .order_by("path")
    )
    return [
        [
            org.code,
            org.name,
            org.short_name,
            labels[org.org_type_id],
            org.parent.code if org.parent else "",
            org.sort_order,
        ]
        for org in orgs
    ]


def _people_rows(within: Organization) -> list[list[Any]]:
    """One row per person with a current place in the subtree; only current places."""
    in_branches = Membership.objects.filter(ended_on__isnull=True).filter(
        subtree_q(within.path, "branch__")
    )
    in_units = Affiliation.objects.filter(ended_on__isnull=True).filter(
        subtree_q(within.path, "org__")
    )
    units: dict[int, Affiliation] = {}
    # One row per person, so one unit: the earliest current one inside the subtree.
    for aff in in_units.select_related("org").order_by("started_on", "id"):
        units.setdefault(aff.user_id, aff)
    user_ids = set(in_branches.values_list("user_id", flat=True)) | set(units)
    memberships: dict[int, Membership] = {}
    users: list[User] = []
    for chunk in _chunks(sorted(user_ids)):
        current = Membership.objects.filter(user_id__in=chunk, ended_on__isnull=True)
        for m in current.select_related("branch"):
            memberships[m.user_id] = m
        users.extend(User.objects.filter(pk__in=chunk))

    def anchor(user: User) -> tuple[str, str, str]:
        m = memberships.get(user.pk)
        if m is not None and m.branch.is_in_subtree_of(within):
            path = m.branch.path
        else:
            path = units[user.pk].org.path
        return path, user.name, user.username

    rows: list[list[Any]] = []
    for user in sorted(users, key=anchor):
        membership = memberships.get(user.pk)
        unit = units.get(user.pk)
        rows.append(
            [
                user.username,
                user.name,
                user.phone,
                user.email,
                _KIND_LABEL[membership.kind] if membership else POLITICAL_NONE,
                membership.branch.code if membership else "",
                unit.org.code if unit else "",
                unit.get_kind_display() if unit else "",
                membership.started_on if membership else unit.started_on if unit else None,
            ]
        )
    return rows


def export_rows(kind: str, within: Organization) -> list[list[Any]]:
    """The roster of `within`'s subtree, in the columns an import reads."""
    return _org_rows(within) if kind == KIND_ORGS else _people_rows(within)


def template_rows(kind: str, within: Organization) -> list[list[Any]]:
    """One sample row (skipped on import: its first cell starts with 例)."""
    if kind == KIND_ORGS:
        return [
            [
                f"{sheets.SAMPLE_MARK}：{within.code}-01",
                "示例第一党支部",
                "一支部",
                "党支部",
                within.code,
                1,
            ]
        ]
    branch = (
        Organization.objects.active()
        .filter(subtree_q(within.path), org_type__holds_members=True)
        .order_by("path")
        .first()
    )
    return [
        [
            f"{sheets.SAMPLE_MARK}：zhangsan",
            "张三",
            "13800000000",
            "zhangsan@example.com",
            POLITICAL_FULL,
            branch.code if branch else within.code,
            within.code,
            str(Affiliation.Kind.STAFF.label),
            datetime.date(2024, 1, 5),
        ]
    ]


def _is_phone_like(text: str) -> bool:
    return bool(_PHONE_RE.match(text))


def render_xlsx(kind: str, rows: list[list[Any]]) -> bytes:
    """A workbook with the header row and `rows`, text kept as text (no formulas)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(KINDS[kind])
    columns = COLUMNS[kind]
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, 2 * len(column.label) + 4)
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                # Text stays text: no formula from a name like "=...", no 1.38E+10 phones.
                cell.data_type = "s"
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_phone_like(text):
        return "'" + text  # Excel would run it as a formula; the import strips the quote
    return text


def render_csv(kind: str, rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM: without it Chinese Excel reads the file as GB18030 and garbles it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS[kind]])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def render(kind: str, fmt: str, rows: list[list[Any]]) -> bytes:
    if fmt == "xlsx":
        return render_xlsx(kind, rows)
    if fmt == "csv":
        return render_csv(kind, rows)
    raise ValueError(f"unknown roster format {fmt!r}")


CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def download_name(kind: str, fmt: str, within: Organization, *, template: bool = False) -> str:
    if template:
        return f"{KINDS[kind]}模板.{fmt}"
    return f"{within.display_name}-{KINDS[kind]}-{timezone.localdate():%Y%m%d}.{fmt}"
