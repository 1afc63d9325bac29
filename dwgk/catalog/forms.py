"""Forms of the catalog screens.

The entry form turns the 目录表 columns into choices people pick from a list — scope,
approval steps, channels, timing — and builds the structured values the actions store
(Audience, approval Steps, channel codes, Timing). Everything is checked here first, so
that errors appear in Chinese next to the field they belong to; `clean_entry_fields` runs
last, as the actions themselves will, so the form never accepts what an action refuses.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from dwgk.accounts.models import Role
from dwgk.audience.keys import Audience
from dwgk.catalog.actions import clean_entry_fields
from dwgk.catalog.approval import RouteError, Step
from dwgk.catalog.channels import Channel
from dwgk.catalog.models import CatalogEntry
from dwgk.catalog.timing import (
    DURATION_UNITS,
    KINDS,
    PERIODS,
    WEEKDAYS,
    WITHIN_UNITS,
    Duration,
    Timing,
    TimingError,
)
from dwgk.lib.errors import ActionError
from dwgk.orgs.models import Organization

MAX_STEPS = 4
# How many organizations the 特定组织 list offers: the organization, its parent and its
# children, which covers what a catalog names in practice (支委会 → 上级党委 → 下级支部).
MAX_SCOPE_ORGS = 200

SCOPE_PARTY, SCOPE_UNIT, SCOPE_SOCIETY, SCOPE_ORGS, SCOPE_KEEP = (
    "party",
    "unit",
    "society",
    "orgs",
    "keep",
)

STEP_PRINCIPAL, STEP_APPROVER, STEP_BODY, STEP_PARENT = "principal", "approver", "body", "parent"
STEP_CHOICES = [
    ("", "（无）"),
    (STEP_PRINCIPAL, "本组织书记签发"),
    (STEP_APPROVER, "审批人审批"),
    (STEP_BODY, "集体研究决定（填写会议名称）"),
    (STEP_PARENT, "报上级党组织审批"),
]
# Suggested collective bodies (BJ 14(3): important items need a collective decision).
BODIES = ("支委会", "党委会", "常委会", "全委会", "党员大会")
MEETINGS = ("支部委员会会议", "支部党员大会", "党委会", "常委会", "全委会", "党组会")

NTH_CHOICES = [("", "—"), ("1", "第一个"), ("2", "第二个"), ("3", "第三个")]
NTH_CHOICES += [("4", "第四个"), ("5", "第五个"), ("-1", "最后一个")]
WEEKDAY_CHOICES = [("", "—")] + [(str(i), f"星期{d}") for i, d in enumerate(WEEKDAYS)]

# A Timing error names the field it comes from; these words find that field.
TIMING_ERROR_FIELDS = (
    ("周期", "period"),
    ("第几个", "nth"),
    ("星期", "weekday"),
    ("日期", "day"),
    ("月份", "month"),
    ("时限单位", "within_unit"),
    ("时限", "within"),
)


def _optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


class EntryForm(forms.Form):
    """One catalog entry (CAT-1, TIME-1/2, SCOPE-1, CHAN-1, PROC-3)."""

    content = forms.CharField(
        label="公开内容",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写公开内容。"},
    )
    category = forms.CharField(label="内容类别", max_length=60, required=False)
    basis = forms.CharField(
        label="依据条款", max_length=120, required=False, help_text="如：BJ 7(4)、NM 14"
    )

    scope = forms.ChoiceField(label="公开范围", widget=forms.RadioSelect)
    scope_orgs = forms.MultipleChoiceField(
        label="特定组织", required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    audience_note = forms.CharField(
        label="公开范围说明",
        max_length=200,
        required=False,
        help_text="按目录表的写法填写，如“本支部党员”“全校师生”；不填则按所选范围显示。",
    )

    channels = forms.MultipleChoiceField(
        label="公开方式",
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一种公开方式。"},
    )

    timing_kind = forms.ChoiceField(label="公开时间类型", choices=list(KINDS.items()))
    period = forms.ChoiceField(label="周期", choices=[("", "—"), *PERIODS.items()], required=False)
    nth = forms.ChoiceField(label="第几个", choices=NTH_CHOICES, required=False)
    weekday = forms.ChoiceField(label="星期几", choices=WEEKDAY_CHOICES, required=False)
    day = forms.IntegerField(label="或：每期首月几日前", min_value=1, max_value=31, required=False)
    month = forms.IntegerField(label="每年几月", min_value=1, max_value=12, required=False)
    trigger = forms.CharField(
        label="触发事项", max_length=40, required=False, help_text="如：会议、事项确定、任免决定"
    )
    within = forms.IntegerField(label="时限", min_value=1, required=False)
    within_unit = forms.ChoiceField(
        label="时限单位", choices=list(WITHIN_UNITS.items()), required=False
    )
    closing_summary = forms.BooleanField(label="跨年度工作年终公开总结", required=False)
    note = forms.CharField(
        label="延期说明", max_length=120, required=False, help_text="如：经上级党组织同意"
    )
    duration_unit = forms.ChoiceField(label="公开时长", choices=list(DURATION_UNITS.items()))
    duration_n = forms.IntegerField(
        label="时长数值", min_value=1, required=False, help_text="选择天、个月或年时填写"
    )

    responsible = forms.CharField(label="责任主体", max_length=200, required=False)
    co_units = forms.CharField(label="协同单位或人员", max_length=200, required=False)
    remarks = forms.CharField(
        label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, org: Organization, entry: CatalogEntry | None = None, **kwargs: Any
    ) -> None:
        self.org = org
        self.entry = entry
        self.old_audience = entry.get_audience() if entry is not None else None
        self.old_route = entry.get_route() if entry is not None else []
        if entry is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(entry)
        super().__init__(*args, **kwargs)
        for i in range(1, MAX_STEPS + 1):
            self.fields[f"step{i}"] = forms.ChoiceField(
                label=f"第{i}步", choices=self._step_choices(), required=False
            )
            self.fields[f"body{i}"] = forms.CharField(
                label=f"第{i}步会议名称",
                max_length=40,
                required=False,
                widget=forms.TextInput(attrs={"list": "catalog-bodies"}),
            )
        scope, scope_orgs = self.fields["scope"], self.fields["scope_orgs"]
        assert isinstance(scope, forms.ChoiceField)
        assert isinstance(scope_orgs, forms.MultipleChoiceField)
        scope.choices = self._scope_choices()
        scope_orgs.choices = [(str(o.pk), o.name) for o in self._scope_orgs()]
        if entry is None:
            self.initial.setdefault("scope", SCOPE_PARTY)
            self.initial.setdefault("timing_kind", "long_term")
            self.initial.setdefault("duration_unit", "permanent")
            self.initial.setdefault("within_unit", "days")
            self.initial.setdefault("channels", [Channel.PLATFORM])

    # --- choices -------------------------------------------------------------------------

    def _scope_orgs(self) -> list[Organization]:
        org = self.org
        near = Organization.objects.filter(pk__in=[org.pk, org.parent_id or org.pk])
        kids = Organization.objects.active().filter(parent=org).order_by("sort_order", "path")
        chosen = list(self.old_audience.orgs) if self.old_audience else []
        picked = Organization.objects.filter(pk__in=chosen)
        found: dict[int, Organization] = {}
        for o in [*near.order_by("path"), *kids[:MAX_SCOPE_ORGS], *picked]:
            found.setdefault(o.pk, o)
        return list(found.values())

    def _scope_choices(self) -> list[tuple[str, str]]:
        name = self.org.display_name
        choices = [
            (SCOPE_PARTY, f"本组织党内（{name}的党员）"),
            (SCOPE_UNIT, f"本单位（{name}范围内的党员和群众）"),
            (SCOPE_SOCIETY, "向社会公开"),
            (SCOPE_ORGS, "特定组织（在下方选择）"),
        ]
        if self.old_audience is not None and self._scope_of(self.old_audience) == SCOPE_KEEP:
            choices.append((SCOPE_KEEP, f"保持原设定：{self.old_audience.describe()}"))
        return choices

    def _step_choices(self) -> list[tuple[str, str]]:
        choices = list(STEP_CHOICES)
        # A role other than the two on the list (set by an imported sheet) stays choosable.
        for step in self.old_route:
            if step.kind == "role" and step.role not in (STEP_PRINCIPAL, STEP_APPROVER):
                key = f"role:{step.role}"
                if key not in dict(choices):
                    choices.append((key, step.describe()))
        return choices

    def _scope_of(self, audience: Audience) -> str:
        org_id = self.org.pk
        if audience.society:
            return SCOPE_SOCIETY
        if audience == Audience(party=(org_id,)):
            return SCOPE_PARTY
        if audience == Audience(units=(org_id,)):
            return SCOPE_UNIT
        if audience.orgs and audience == Audience(orgs=audience.orgs):
            return SCOPE_ORGS
        return SCOPE_KEEP

    # --- from an entry -------------------------------------------------------------------

    def initial_from(self, entry: CatalogEntry) -> dict[str, Any]:
        audience = entry.get_audience()
        timing = entry.get_timing()
        initial: dict[str, Any] = {
            "content": entry.content,
            "category": entry.category,
            "basis": entry.basis,
            "scope": self._scope_of(audience),
            "scope_orgs": [str(o) for o in audience.orgs],
            "audience_note": entry.audience_note,
            "channels": list(entry.channels),
            "timing_kind": timing.kind,
            "period": timing.period,
            "nth": "" if timing.nth is None else str(timing.nth),
            "weekday": "" if timing.weekday is None else str(timing.weekday),
            "day": timing.day,
            "month": timing.month,
            "trigger": timing.trigger,
            "within": timing.within,
            "within_unit": timing.within_unit,
            "closing_summary": timing.closing_summary,
            "note": timing.note,
            "duration_unit": timing.duration.unit,
            "duration_n": timing.duration.n,
            "responsible": entry.responsible,
            "co_units": entry.co_units,
            "remarks": entry.remarks,
        }
        for i, step in enumerate(entry.get_route()[:MAX_STEPS], 1):
            if step.kind == "role":
                key = step.role if step.role in (STEP_PRINCIPAL, STEP_APPROVER) else None
                initial[f"step{i}"] = key or f"role:{step.role}"
            else:
                initial[f"step{i}"] = step.kind
            initial[f"body{i}"] = step.body
        return initial

    # --- validation ----------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.fields_for_action: dict[str, Any] = {}
        audience = self._clean_audience(data)
        route = self._clean_route(data)
        timing = self._clean_timing(data)
        if self.errors:
            return data
        fields: dict[str, Any] = {
            "content": data["content"].strip(),
            "category": data.get("category", "").strip(),
            "basis": data.get("basis", "").strip(),
            "audience": audience.to_json() if audience else {},
            "audience_note": data.get("audience_note", "").strip(),
            "approval": [step.to_json() for step in route],
            "channels": list(data.get("channels", [])),
            "timing": timing.to_json() if timing else {},
            "responsible": data.get("responsible", "").strip(),
            "co_units": data.get("co_units", "").strip(),
            "remarks": data.get("remarks", "").strip(),
        }
        try:
            self.fields_for_action = clean_entry_fields(fields)
        except ActionError as error:
            raise forms.ValidationError(error.message) from None
        return data

    def _clean_audience(self, data: dict[str, Any]) -> Audience | None:
        scope = data.get("scope")
        org_id = self.org.pk
        if scope == SCOPE_PARTY:
            return Audience(party=(org_id,))
        if scope == SCOPE_UNIT:
            return Audience(units=(org_id,))
        if scope == SCOPE_SOCIETY:
            return Audience(society=True)
        if scope == SCOPE_ORGS:
            picked = tuple(sorted(int(pk) for pk in data.get("scope_orgs", [])))
            if not picked:
                self.add_error("scope_orgs", "请选择公开的特定组织。")
                return None
            return Audience(orgs=picked)
        if scope == SCOPE_KEEP and self.old_audience is not None:
            return self.old_audience
        return None  # the field's own "required" error is already there

    def _clean_route(self, data: dict[str, Any]) -> list[Step]:
        route: list[Step] = []
        for i in range(1, MAX_STEPS + 1):
            kind = data.get(f"step{i}", "")
            body = data.get(f"body{i}", "").strip()
            if not kind:
                if body:
                    self.add_error(f"step{i}", "填写了会议名称，请选择“集体研究决定”。")
                continue
            try:
                if kind == STEP_BODY:
                    if not body:
                        self.add_error(f"body{i}", "请填写集体研究决定的会议名称，如“支委会”。")
                        continue
                    step = Step("body", body=body)
                elif kind == STEP_PARENT:
                    step = Step("parent")
                elif kind == STEP_PRINCIPAL:
                    step = Step("role", role=Role.PRINCIPAL, label="书记签发")
                elif kind == STEP_APPROVER:
                    step = Step("role", role=Role.APPROVER)
                else:
                    step = Step("role", role=kind.removeprefix("role:"))
            except RouteError as error:
                self.add_error(f"step{i}", str(error))
                continue
            route.append(self._keep_label(step, len(route)))
        return route

    def _keep_label(self, step: Step, index: int) -> Step:
        """The same step at the same place keeps the office's own wording ("支委会研究")."""
        if index < len(self.old_route):
            old = self.old_route[index]
            if (old.kind, old.role, old.body) == (step.kind, step.role, step.body):
                return old
        return step

    def _clean_timing(self, data: dict[str, Any]) -> Timing | None:
        try:
            duration = Duration(
                data.get("duration_unit") or "permanent",
                data.get("duration_n")
                if data.get("duration_unit") in ("days", "months", "years")
                else None,
            )
        except TimingError as error:
            self.add_error("duration_n", str(error))
            return None
        kind = data.get("timing_kind") or "long_term"
        values: dict[str, Any] = {"kind": kind, "duration": duration}
        if kind == "periodic":
            nth, weekday = _optional_int(data.get("nth")), _optional_int(data.get("weekday"))
            day = data.get("day")
            if day is not None and (nth is not None or weekday is not None):
                self.add_error("day", "请在“第几个星期几”和“几日前”中选择一种。")
                return None
            values.update(period=data.get("period", ""), nth=nth, weekday=weekday, day=day)
            if data.get("period") == "yearly":
                values["month"] = data.get("month")
        elif kind == "immediate":
            values.update(
                trigger=data.get("trigger", "").strip(),
                within=data.get("within"),
                within_unit=data.get("within_unit") or "days",
            )
        elif kind == "phased":
            values["closing_summary"] = bool(data.get("closing_summary"))
        elif kind == "delayed":
            values["note"] = data.get("note", "").strip()
        try:
            return Timing(**values)
        except TimingError as error:
            message = str(error)
            field = next((f for word, f in TIMING_ERROR_FIELDS if word in message), "timing_kind")
            self.add_error(field, message)
            return None

    # --- for the template ----------------------------------------------------------------

    def step_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"step{i}"], self[f"body{i}"]) for i in range(1, MAX_STEPS + 1)]

    def bodies(self) -> tuple[str, ...]:
        return BODIES


class AdoptForm(forms.Form):
    """The organization discussed and adopted its catalog (NM 14)."""

    meeting = forms.CharField(
        label="审议会议",
        max_length=120,
        widget=forms.TextInput(attrs={"list": "catalog-meetings"}),
        error_messages={"required": "请填写审议目录的会议（如：支部委员会会议、党委会）。"},
    )
    decided_on = forms.DateField(
        label="审议日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写审议日期。", "invalid": "请按“年-月-日”填写审议日期。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("decided_on", timezone.localdate())

    def meetings(self) -> tuple[str, ...]:
        return MEETINGS

    def decided(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["decided_on"]
        return value


PUBLISH_PARTY, PUBLISH_UNIT, PUBLISH_SOCIETY = "party", "unit", "society"


def publish_choices(org: Organization) -> list[tuple[str, str]]:
    """CAT-5 (BJ 13): the catalog is disclosed within the party or to society."""
    name = org.display_name
    return [
        (PUBLISH_PARTY, f"党内公开（{name}的党员）"),
        (PUBLISH_UNIT, f"本单位公开（{name}范围内的党员和群众）"),
        (PUBLISH_SOCIETY, "向社会公开"),
    ]


def publish_audience(org: Organization, scope: str) -> Audience | None:
    return {
        PUBLISH_PARTY: Audience(party=(org.pk,)),
        PUBLISH_UNIT: Audience(units=(org.pk,)),
        PUBLISH_SOCIETY: Audience(society=True),
    }.get(scope)


def publish_scope_of(org: Organization, audience: Audience) -> str:
    if audience.society:
        return PUBLISH_SOCIETY
    if audience.units and not audience.party:
        return PUBLISH_UNIT
    return PUBLISH_PARTY


class EntryStateForm(forms.Form):
    """CAT-7 (QJ 9(2)): withhold, change, revoke, end or restore an entry, with a public
    explanation."""

    state = forms.ChoiceField(label="条目状态", choices=CatalogEntry.State.choices)
    explanation = forms.CharField(
        label="向公开对象说明的理由",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写向公开对象说明的理由。"},
    )
