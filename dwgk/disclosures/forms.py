"""Forms of the disclosure screens.

They only turn what people pick and type into the values `disclosures.actions` takes; every
rule (required opinions, the risk table, who may act, dates in the right order) is the
action's, so an error reads the same whether it comes from a screen, a command or the API.
What the forms do check is input the actions cannot even be called with: a date that is
not a date, an organization code nobody has.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from dwgk.audience.keys import Audience
from dwgk.catalog.channels import Channel
from dwgk.catalog.models import CatalogEntry
from dwgk.disclosures.models import RISK_ASPECTS, RISK_LEVELS, Disclosure
from dwgk.orgs.models import Organization

SCOPE_ENTRY, SCOPE_PARTY, SCOPE_UNIT, SCOPE_SOCIETY, SCOPE_KEEP = (
    "entry",
    "party",
    "unit",
    "society",
    "keep",
)
OUT_OF_CATALOG = "out"
# How many nearby organizations the co-unit list offers; others are typed by their code.
MAX_CO_UNIT_CHOICES = 200
TEXT_FIELDS = (
    "title",
    "doc_number",
    "category",
    "body",
    "stage",
    "background",
    "significance",
    "key_points",
    "hot_spots",
    "response_plan",
)
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _datetime_input(seconds: bool = False) -> forms.DateTimeInput:
    attrs = {"type": "datetime-local"}
    if seconds:
        attrs["step"] = "1"
    return forms.DateTimeInput(attrs=attrs, format=DATETIME_FORMAT + (":%S" if seconds else ""))


def _one_line_breaks(value: str) -> str:
    # Browsers send textareas with CRLF; stored text uses LF, so an untouched field posted
    # back compares equal and does not make a new revision.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _minute(value: datetime.datetime | None) -> datetime.datetime | None:
    return value.replace(second=0, microsecond=0) if value is not None else None


class DisclosureForm(forms.Form):
    """The content of an item (PROC-1, MECH-4, MECH-6, PROC-8, TIME-1) for drafting and
    editing. Without `item` it is the drafting form and asks for the catalog entry."""

    entry = forms.ChoiceField(
        label="对应目录条目",
        error_messages={"required": "请选择对应的目录条目，或选择“目录外事项”。"},
    )
    out_of_catalog_reason = forms.CharField(
        label="目录外公开理由",
        widget=_textarea(2),
        required=False,
        help_text="目录外事项须写明为什么需要公开；发布后再决定是否纳入本组织目录。",
    )
    title = forms.CharField(
        label="标题", max_length=200, error_messages={"required": "请填写标题。"}
    )
    doc_number = forms.CharField(label="文号", max_length=80, required=False)
    category = forms.CharField(
        label="内容类别", max_length=60, required=False, help_text="不填则按目录条目的类别。"
    )
    body = forms.CharField(
        label="正文",
        widget=_textarea(12),
        required=False,
        strip=True,
        help_text="直接输入文字即可，每行一段；也可使用段落、加粗、列表、表格等基本 HTML 格式，保存时自动清除脚本、样式和其他标记。",
    )
    scope = forms.ChoiceField(label="公开范围", widget=forms.RadioSelect)
    audience_note = forms.CharField(
        label="公开范围说明",
        max_length=200,
        required=False,
        help_text="如“本支部全体党员”；不填则按所选范围显示。",
    )
    channels = forms.MultipleChoiceField(
        label="公开方式",
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    timing_kind = forms.ChoiceField(label="公开时间类型", required=False)
    publish_at = forms.DateTimeField(
        label="拟发布时间",
        required=False,
        widget=_datetime_input(),
        error_messages={"invalid": "请按“年-月-日 时:分”填写拟发布时间。"},
    )
    expire_at = forms.DateTimeField(
        label="公开截止时间",
        required=False,
        widget=_datetime_input(),
        help_text="不填为长期公开。",
        error_messages={"invalid": "请按“年-月-日 时:分”填写公开截止时间。"},
    )
    stage = forms.CharField(
        label="所处阶段", max_length=60, required=False, help_text="分期公开的事项写明本期阶段。"
    )
    background = forms.CharField(label="出台背景", widget=_textarea(3), required=False)
    significance = forms.CharField(label="重要意义", widget=_textarea(3), required=False)
    key_points = forms.CharField(label="主要内容和要点", widget=_textarea(3), required=False)
    hot_spots = forms.CharField(label="预判舆情热点", widget=_textarea(2), required=False)
    response_plan = forms.CharField(label="应对预案", widget=_textarea(2), required=False)
    co_units = forms.MultipleChoiceField(
        label="沟通会签单位",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="涉及其他组织的事项，发布前须与其沟通会签（可多选）。",
    )
    co_unit_codes = forms.CharField(
        label="其他会签单位的组织编码",
        max_length=400,
        required=False,
        help_text="不在上面列表中的组织，填写组织编码，多个用逗号分隔。",
    )
    note = forms.CharField(
        label="修改说明",
        max_length=200,
        required=False,
        help_text="记入内容版本，便于审核人了解改了什么。",
    )

    def __init__(
        self,
        *args: Any,
        org: Organization,
        item: Disclosure | None = None,
        entries: list[CatalogEntry] | None = None,
        **kwargs: Any,
    ) -> None:
        self.org = org
        self.item = item
        self.entries = {str(e.pk): e for e in entries or []}
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(item)
        super().__init__(*args, **kwargs)
        self._field("scope").choices = self._scope_choices()
        self._field("co_units").choices = [(str(o.pk), o.name) for o in self._nearby_orgs()]
        timing = [(value, str(label)) for value, label in Disclosure.TimingKind.choices]
        if item is None:
            timing.insert(0, ("", "按目录条目规定"))
            self._field("entry").choices = [
                ("", "— 请选择 —"),
                *((pk, f"{e.position}. {e.content}") for pk, e in self.entries.items()),
                (OUT_OF_CATALOG, "目录外事项（须写明理由）"),
            ]
            self.initial.setdefault("scope", SCOPE_ENTRY)
            del self.fields["note"]
        else:
            del self.fields["entry"]
            del self.fields["out_of_catalog_reason"]
        self._field("timing_kind").choices = timing

    def _field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    # --- choices -------------------------------------------------------------------------

    def _scope_choices(self) -> list[tuple[str, str]]:
        name = self.org.display_name
        choices = []
        if self.item is None:
            choices.append((SCOPE_ENTRY, "按目录条目规定的范围（目录外事项为本组织党内）"))
        choices += [
            (SCOPE_PARTY, f"本组织党内（{name}的党员）"),
            (SCOPE_UNIT, f"本单位（{name}范围内的党员和群众）"),
            (SCOPE_SOCIETY, "向社会公开"),
        ]
        if self.item is not None and self.scope_of(self.item.get_audience()) == SCOPE_KEEP:
            choices.append((SCOPE_KEEP, f"保持原设定：{self.item.get_audience().describe()}"))
        return choices

    def _nearby_orgs(self) -> list[Organization]:
        """The organizations an item is usually confirmed with: the parent, the siblings and
        the children, and whichever are already chosen."""
        org = self.org
        near = Organization.objects.active().exclude(pk=org.pk)
        where = Q(parent=org)
        if org.parent_id:
            where |= Q(pk=org.parent_id) | Q(parent_id=org.parent_id)
        chosen = list(self.item.co_units) if self.item is not None else []
        found: dict[int, Organization] = {}
        for o in [
            *near.filter(where).order_by("path")[:MAX_CO_UNIT_CHOICES],
            *Organization.objects.filter(pk__in=chosen),
        ]:
            found.setdefault(o.pk, o)
        return list(found.values())

    def scope_of(self, audience: Audience) -> str:
        pk = self.org.pk
        if audience.society:
            return SCOPE_SOCIETY
        if audience == Audience(party=(pk,)):
            return SCOPE_PARTY
        if audience == Audience(units=(pk,)):
            return SCOPE_UNIT
        return SCOPE_KEEP

    def initial_from(self, item: Disclosure) -> dict[str, Any]:
        audience = item.get_audience()
        initial: dict[str, Any] = {name: getattr(item, name) for name in TEXT_FIELDS}
        initial.update(
            scope=self.scope_of(audience),
            audience_note=audience.note,
            channels=list(item.channels),
            timing_kind=item.timing_kind,
            publish_at=item.publish_at,
            expire_at=item.expire_at,
            co_units=[str(pk) for pk in item.co_units],
        )
        return initial

    @staticmethod
    def initial_for_entry(entry: CatalogEntry) -> dict[str, Any]:
        """What drafting under `entry` starts from (the same the action defaults to)."""
        return {
            "entry": str(entry.pk),
            "category": entry.category,
            "channels": list(entry.channels),
            "timing_kind": entry.get_timing().kind,
            "scope": SCOPE_ENTRY,
        }

    # --- validation ----------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in (*TEXT_FIELDS, "out_of_catalog_reason"):
            if isinstance(data.get(name), str):
                data[name] = _one_line_breaks(data[name])
        if self.item is None:
            chosen = data.get("entry")
            if chosen and chosen != OUT_OF_CATALOG and chosen not in self.entries:
                self.add_error("entry", "请选择本组织现行目录中的条目。")
            if chosen == OUT_OF_CATALOG and len(data.get("out_of_catalog_reason", "")) < 4:
                self.add_error("out_of_catalog_reason", "目录外事项须写明公开理由。")
        codes = [c.strip() for c in data.get("co_unit_codes", "").replace("，", ",").split(",")]
        codes = [c for c in codes if c]
        if codes:
            found = dict(Organization.objects.filter(code__in=codes).values_list("code", "pk"))
            missing = [c for c in codes if c not in found]
            if missing:
                self.add_error("co_unit_codes", f"找不到组织编码：{'、'.join(missing)}")
            data["co_unit_ids"] = sorted(found.values())
        return data

    def chosen_entry(self) -> CatalogEntry | None:
        return self.entries.get(self.cleaned_data.get("entry") or "")

    def reason(self) -> str:
        reason: str = self.cleaned_data.get("out_of_catalog_reason", "")
        return reason

    def content_fields(self) -> dict[str, Any]:
        """The content fields for disclosure_create / disclosure_edit. Drafting leaves out
        what the person left to the catalog entry; editing leaves out what did not change,
        so that an untouched form makes no new revision."""
        data = self.cleaned_data
        fields: dict[str, Any] = {name: data.get(name, "") for name in TEXT_FIELDS}
        drafting = self.item is None
        if drafting and not fields["category"]:
            del fields["category"]
        audience = self._audience(data)
        if audience is not None:
            fields["audience"] = audience.to_json()
        channels = list(data.get("channels") or [])
        if channels or not drafting:
            fields["channels"] = channels
        if data.get("timing_kind"):
            fields["timing_kind"] = data["timing_kind"]
        fields["publish_at"] = data.get("publish_at")
        fields["expire_at"] = data.get("expire_at")
        ids = {int(pk) for pk in data.get("co_units") or []} | set(data.get("co_unit_ids", []))
        fields["co_units"] = sorted(ids)
        if self.item is not None:
            fields = self._changes(self.item, fields)
        return fields

    def _audience(self, data: dict[str, Any]) -> Audience | None:
        scope, note = data.get("scope"), data.get("audience_note", "").strip()
        pk = self.org.pk
        if scope == SCOPE_PARTY:
            return Audience(party=(pk,), note=note)
        if scope == SCOPE_UNIT:
            return Audience(units=(pk,), note=note)
        if scope == SCOPE_SOCIETY:
            return Audience(society=True, note=note)
        if scope == SCOPE_KEEP and self.item is not None:
            return dataclasses.replace(self.item.get_audience(), note=note)
        if scope == SCOPE_ENTRY and note:
            entry = self.chosen_entry()
            base = Audience.from_json(entry.audience) if entry else Audience(party=(pk,))
            return dataclasses.replace(base, note=note)
        return None  # drafting by the entry: the action takes the entry's audience

    @staticmethod
    def _changes(item: Disclosure, fields: dict[str, Any]) -> dict[str, Any]:
        changed = {}
        for name, value in fields.items():
            old = getattr(item, name)
            if isinstance(old, datetime.datetime) or isinstance(value, datetime.datetime):
                # The form shows minutes; a stored time with seconds is "the same minute".
                if _minute(old) == _minute(value):
                    continue
            elif name == "audience":
                if Audience.from_json(old).to_json() == value:
                    continue
            elif name == "channels":
                if sorted(old) == sorted(value):
                    continue  # the checkboxes post in their own order
            elif old == value:
                continue
            changed[name] = value
        return changed


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label="上传附件",
        error_messages={"required": "请选择要上传的文件。", "empty": "文件是空的（0 字节）。"},
    )


class ReviewForm(forms.Form):
    """The reviewer's written opinions (MECH-1) and risk assessment (MECH-2). Nothing is
    required here: which parts a decision needs is the action's rule."""

    confidentiality = forms.CharField(label="保密审查意见", widget=_textarea(2), required=False)
    necessity = forms.CharField(label="必要性意见", widget=_textarea(2), required=False)
    accuracy = forms.CharField(label="准确性意见", widget=_textarea(2), required=False)
    normativity = forms.CharField(label="规范性意见", widget=_textarea(2), required=False)
    prevention_plan = forms.CharField(
        label="风险防范预案",
        widget=_textarea(2),
        required=False,
        help_text="任一方面为中、高风险时必填。",
    )
    comment = forms.CharField(
        label="其他意见 / 理由",
        widget=_textarea(2),
        required=False,
        help_text="退回修改、报保密部门确定密级或不予公开时，在此写明意见或理由。",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, label in RISK_ASPECTS.items():
            self.fields[f"risk_{code}"] = forms.ChoiceField(
                label=label,
                choices=list(RISK_LEVELS.items()),
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields[f"risk_{code}_note"] = forms.CharField(
                label=f"{label}说明", max_length=300, required=False
            )

    def risk_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (label, self[f"risk_{code}"], self[f"risk_{code}_note"])
            for code, label in RISK_ASPECTS.items()
        ]

    def risks(self, only_assessed: bool = False) -> dict[str, Any]:
        data = self.cleaned_data
        risks = {
            code: {"level": data.get(f"risk_{code}", ""), "note": data.get(f"risk_{code}_note", "")}
            for code in RISK_ASPECTS
        }
        if only_assessed:
            risks = {code: value for code, value in risks.items() if value["level"]}
        return risks

    def opinions(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data.get(name, "")
            for name in ("confidentiality", "necessity", "accuracy", "normativity")
        }


class RedactForm(forms.Form):
    field = forms.CharField(max_length=40)
    start = forms.IntegerField(min_value=0)
    end = forms.IntegerField(min_value=0)


class ReasonForm(forms.Form):
    """One required text: a return opinion, a reason, a notice, the secrecy office's answer."""

    text = forms.CharField(widget=_textarea(2), required=False)

    def __init__(self, *args: Any, label: str = "意见", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].label = label


class ReferralAnswerForm(forms.Form):
    may_disclose = forms.TypedChoiceField(
        label="保密部门结论",
        choices=[("1", "可以公开（回到审核）"), ("0", "不得公开")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": "请选择保密部门的结论。"},
    )
    answer = forms.CharField(label="保密部门的答复", widget=_textarea(2), required=False)


class ConfirmForm(forms.Form):
    org = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label="会签意见", widget=_textarea(2), required=False, help_text="不同意时必须写明理由。"
    )


class SignForm(forms.Form):
    comment = forms.CharField(label="审批意见", widget=_textarea(2), required=False)


class CollectiveForm(forms.Form):
    """A collective decision (BJ 14(3)): the meeting, its date and what it decided."""

    meeting = forms.CharField(label="会议名称", max_length=120, required=False)
    meeting_date = forms.DateField(
        label="会议日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "请按“年-月-日”填写会议日期。"},
    )
    minutes = forms.CharField(label="会议记录摘要（研究意见）", widget=_textarea(3), required=False)
    comment = forms.CharField(label="其他意见", widget=_textarea(2), required=False)


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label="发布时间",
        widget=_datetime_input(seconds=True),
        error_messages={
            "required": "请填写发布时间。",
            "invalid": "请按“年-月-日 时:分”填写发布时间。",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(
                "publish_at", (timezone.now() + datetime.timedelta(hours=1)).replace(microsecond=0)
            )


class DelayForm(forms.Form):
    until = forms.DateTimeField(
        label="延期至",
        widget=_datetime_input(),
        error_messages={
            "required": "请填写延期后的发布时间。",
            "invalid": "请按“年-月-日 时:分”填写。",
        },
    )
    reason = forms.CharField(label="延期理由", widget=_textarea(2), required=False)


WIDEN_UNIT, WIDEN_SOCIETY = "unit", "society"


class WidenForm(forms.Form):
    """SCOPE-2 先党内后党外: the new, wider audience includes the old one."""

    scope = forms.ChoiceField(
        label="扩大至",
        widget=forms.RadioSelect,
        error_messages={"required": "请选择新的公开范围。"},
    )
    reason = forms.CharField(label="理由", widget=_textarea(2), required=False)

    def __init__(self, *args: Any, item: Disclosure, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        field = self.fields["scope"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (WIDEN_UNIT, f"本单位（{item.org.display_name}范围内的党员和群众）"),
            (WIDEN_SOCIETY, "向社会公开"),
        ]

    def audience(self) -> Audience:
        old = self.item.get_audience()
        if self.cleaned_data["scope"] == WIDEN_SOCIETY:
            return Audience(society=True)
        return dataclasses.replace(old, units=tuple(sorted({*old.units, self.item.org_id})))
