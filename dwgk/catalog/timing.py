"""When a catalog entry's items are disclosed and for how long (TIME-1, TIME-2), as
structure rather than prose, so that a compliance engine can compute what was due.

Stored as JSON on the entry; shown to people in the familiar wording ("每月第一个星期五",
"会后一周内", "永久"); parsed back from that wording when a sheet is imported.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = {
    "long_term": "长期公开",
    "periodic": "定期公开",
    "phased": "分期公开",
    "immediate": "即时公开",
    "delayed": "延期公开",
}
PERIODS = {"monthly": "每月", "quarterly": "每季度", "yearly": "每年"}
WITHIN_UNITS = {"days": "日", "working_days": "个工作日", "weeks": "周", "months": "个月"}
DURATION_UNITS = {
    "permanent": "永久",
    "until_replaced": "至被新内容替代",
    "days": "天",
    "months": "个月",
    "years": "年",
}
WEEKDAYS = "一二三四五六日"
CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


class TimingError(ValueError):
    """A timing that makes no sense; the message is Chinese."""


@dataclass(frozen=True)
class Duration:
    unit: str = "permanent"
    n: int | None = None

    def __post_init__(self) -> None:
        if self.unit not in DURATION_UNITS:
            raise TimingError(f"未知的公开时长单位：{self.unit}")
        if self.unit in ("days", "months", "years") and (self.n is None or self.n <= 0):
            raise TimingError("公开时长须为正整数。")

    def describe(self) -> str:
        if self.unit in ("permanent", "until_replaced"):
            return DURATION_UNITS[self.unit]
        return f"{self.n}{DURATION_UNITS[self.unit]}"

    def end_after(self, start: datetime.date) -> datetime.date | None:
        """The last day of disclosure for an item disclosed on `start` (None: no end)."""
        if self.unit in ("permanent", "until_replaced") or self.n is None:
            return None
        if self.unit == "days":
            return start + datetime.timedelta(days=self.n)
        months = self.n * (12 if self.unit == "years" else 1)
        return _add_months(start, months)


@dataclass(frozen=True)
class Timing:
    kind: str = "long_term"
    # periodic: the period, and the due rule inside it — the nth weekday of the period's
    # first month (nth=-1: the last), or a day of that month ("by the 10th"); `month` is
    # the month of the year for yearly items.
    period: str = ""
    nth: int | None = None
    weekday: int | None = None  # 0 = Monday … 6 = Sunday
    day: int | None = None
    month: int | None = None
    # immediate: within N units after a triggering event ("会后一周内": 会议, 1 weeks)
    trigger: str = ""
    within: int | None = None
    within_unit: str = "days"
    # phased: cross-year work also gets a closing summary (TIME-1)
    closing_summary: bool = False
    # delayed: the organization's consent is recorded on each item (TIME-1 延期)
    note: str = ""
    duration: Duration = field(default_factory=Duration)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TimingError(f"未知的公开时间类型：{self.kind}")
        if self.kind == "periodic":
            if self.period not in PERIODS:
                raise TimingError("定期公开须指定周期（每月、每季度或每年）。")
            if self.weekday is not None and not 0 <= self.weekday <= 6:
                raise TimingError("星期须在一至日之间。")
            if self.nth is not None and self.nth not in (1, 2, 3, 4, 5, -1):
                raise TimingError("第几个星期须为1至5或最后一个。")
            if (self.nth is None) != (self.weekday is None):
                raise TimingError("“第几个星期几”须同时给出第几个和星期几。")
            if self.day is not None and not 1 <= self.day <= 31:
                raise TimingError("日期须在1至31日之间。")
            if self.month is not None and not 1 <= self.month <= 12:
                raise TimingError("月份须在1至12月之间。")
        if self.kind == "immediate":
            if self.within_unit not in WITHIN_UNITS:
                raise TimingError(f"未知的时限单位：{self.within_unit}")
            if self.within is not None and self.within <= 0:
                raise TimingError("时限须为正整数。")

    # --- storage -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if not (v is None or v == "" or v is False)}
        data["kind"] = self.kind
        data["duration"] = {k: v for k, v in asdict(self.duration).items() if v is not None}
        if self.kind == "immediate":
            data["within_unit"] = self.within_unit
        else:
            data.pop("within_unit", None)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Timing:
        data = dict(data or {})
        duration = Duration(**(data.pop("duration", None) or {}))
        allowed = set(cls.__dataclass_fields__) - {"duration"}
        unknown = set(data) - allowed
        if unknown:
            raise TimingError(f"未知的公开时间字段：{'、'.join(sorted(unknown))}")
        return cls(duration=duration, **data)

    # --- wording -----------------------------------------------------------------------

    def describe_start(self) -> str:
        """The 公开起始时点 column, in the usual wording."""
        if self.kind == "periodic":
            return self._describe_period()
        if self.kind == "immediate":
            if not self.trigger and self.within is None:
                return "即时"
            after = "会后" if self.trigger == "会议" else f"{self.trigger or '事项产生'}后"
            if self.within is None:
                return f"{after}即时"
            return f"{after}{self.within}{WITHIN_UNITS[self.within_unit]}内"
        if self.kind == "phased":
            return "按工作进展分阶段" + ("，跨年度工作年终公开总结" if self.closing_summary else "")
        if self.kind == "delayed":
            return "经党组织同意后延期" + (f"（{self.note}）" if self.note else "")
        return "长期"

    def describe(self) -> str:
        """Kind, start and duration in one line: "定期公开：每月第一个星期五；永久"."""
        return f"{KINDS[self.kind]}：{self.describe_start()}；{self.duration.describe()}"

    def _describe_period(self) -> str:
        prefix = PERIODS[self.period]
        if self.period == "quarterly":
            prefix += "首月"
        if self.period == "yearly":
            prefix += f"{self.month}月" if self.month else ""
        if self.weekday is not None and self.nth is not None:
            nth = "最后一" if self.nth == -1 else "第" + "一二三四五"[self.nth - 1]
            return f"{prefix}{nth}个星期{WEEKDAYS[self.weekday]}"
        if self.day is not None:
            return f"{prefix}{self.day}日前"
        return prefix

    # --- what was due --------------------------------------------------------------------

    def due_dates(self, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        """The due dates of a periodic entry between start and end (inclusive).

        Other kinds have no calendar of their own: long-term items are due once, immediate
        ones relative to their event (`due_after`).
        """
        if self.kind != "periodic":
            return []
        step = {"monthly": 1, "quarterly": 3, "yearly": 12}[self.period]
        if self.period == "yearly":
            first_month = self.month or 1
        elif self.period == "quarterly":
            first_month = 1
        else:
            first_month = start.month
        cursor = datetime.date(start.year, first_month, 1)
        while cursor > start.replace(day=1):
            cursor = _add_months(cursor, -step)
        dates = []
        while cursor <= end:
            due = self._due_in_month(cursor.year, cursor.month)
            if start <= due <= end:
                dates.append(due)
            cursor = _add_months(cursor, step)
        return dates

    def _due_in_month(self, year: int, month: int) -> datetime.date:
        last = calendar.monthrange(year, month)[1]
        if self.weekday is not None and self.nth is not None:
            days = [
                d for d in range(1, last + 1) if calendar.weekday(year, month, d) == self.weekday
            ]
            return datetime.date(year, month, days[self.nth - 1 if self.nth > 0 else -1])
        return datetime.date(year, month, min(self.day or 1, last))

    def due_after(self, event: datetime.date) -> datetime.date | None:
        """For an immediate entry: the last day to disclose after the triggering event.
        Working days skip Saturdays and Sundays (public holidays are not modelled yet)."""
        if self.kind != "immediate" or self.within is None:
            return None
        if self.within_unit == "working_days":
            day, left = event, self.within
            while left:
                day += datetime.timedelta(days=1)
                if day.weekday() < 5:
                    left -= 1
            return day
        if self.within_unit == "months":
            return _add_months(event, self.within)
        days = self.within * (7 if self.within_unit == "weeks" else 1)
        return event + datetime.timedelta(days=days)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# --- parsing the wording of hand-made sheets ------------------------------------------------


def _number(text: str) -> int | None:
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十") and len(text) == 2 and text[1] in CN_DIGITS:
        return 10 + CN_DIGITS[text[1]]
    if text.endswith("十") and len(text) == 2 and text[0] in CN_DIGITS:
        return CN_DIGITS[text[0]] * 10
    if len(text) == 3 and text[1] == "十" and text[0] in CN_DIGITS and text[2] in CN_DIGITS:
        return CN_DIGITS[text[0]] * 10 + CN_DIGITS[text[2]]
    if len(text) == 1 and text in CN_DIGITS:
        return CN_DIGITS[text]
    return None


_NUM = r"([0-9]+|[一二两三四五六七八九十]{1,3})"


def parse_duration(text: str) -> Duration:
    t = re.sub(r"\s+", "", text)
    if t in ("", "永久", "长期", "长期有效", "永久公开"):
        return Duration("permanent")
    if "替代" in t or "更新" in t or "调整" in t:
        return Duration("until_replaced")
    m = re.fullmatch(_NUM + r"(天|日|个月|月|年|周)", t)
    if m and (n := _number(m.group(1))):
        unit = {"天": "days", "日": "days", "个月": "months", "月": "months", "年": "years"}.get(
            m.group(2)
        )
        if m.group(2) == "周":
            return Duration("days", n * 7)
        assert unit is not None
        return Duration(unit, n)
    raise TimingError(f"无法识别的公开时长：“{text}”（可填：永久、30天、6个月、1年）")


def parse_start(text: str, duration: Duration | None = None) -> Timing:
    """Read the 公开起始时点 column: "长期", "每月第一周星期五", "会后一周内",
    "常委会通过之日后", "分期", "延期" ..."""
    duration = duration or Duration()
    t = re.sub(r"\s+", "", text).rstrip("。")
    if t in ("", "长期", "长期公开", "常年"):
        return Timing("long_term", duration=duration)
    if "延期" in t:
        if m := re.fullmatch(r"经党组织同意后延期（(.+)）", t):
            return Timing("delayed", note=m.group(1), duration=duration)
        plain = t in ("延期", "延期公开", "经党组织同意后延期")
        return Timing("delayed", note="" if plain else t, duration=duration)
    if "分期" in t or "分阶段" in t or "逐段" in t:
        return Timing("phased", closing_summary="总结" in t, duration=duration)
    period = next((p for p, word in PERIODS.items() if t.startswith(word)), None)
    if period is not None:
        rest = t[len(PERIODS[period]) :]
        month = None
        if period == "yearly" and (m := re.match(_NUM + "月", rest)):
            month = _number(m.group(1))
            rest = rest[m.end() :]
        rest = rest.removeprefix("首月").removeprefix("初")
        m = re.fullmatch(r"(?:的)?第" + _NUM + r"(?:个|周)?(?:星期|周)([一二三四五六日天])", rest)
        if m:
            nth = _number(m.group(1))
            return Timing(
                "periodic",
                period=period,
                nth=nth,
                weekday=WEEKDAYS.index(m.group(2).replace("天", "日")),
                month=month,
                duration=duration,
            )
        m = re.fullmatch(r"(?:最后一个?)(?:星期|周)([一二三四五六日天])", rest)
        if m:
            return Timing(
                "periodic",
                period=period,
                nth=-1,
                weekday=WEEKDAYS.index(m.group(1).replace("天", "日")),
                month=month,
                duration=duration,
            )
        m = re.fullmatch(_NUM + r"[日号](?:前|之前|以前)?", rest)
        if m:
            return Timing(
                "periodic", period=period, day=_number(m.group(1)), month=month, duration=duration
            )
        if rest in ("", "一次", "公开一次", "定期"):
            return Timing("periodic", period=period, month=month, duration=duration)
    # "会后一周内", "事项确定后5个工作日内", "常委会通过之日后", "之日起7日内"
    m = re.fullmatch(r"(.+?)(?:之日)?(?:后|起)" + _NUM + r"(个工作日|工作日|日|天|周|个月)内", t)
    if m:
        unit = {
            "个工作日": "working_days",
            "工作日": "working_days",
            "日": "days",
            "天": "days",
            "周": "weeks",
            "个月": "months",
        }[m.group(3)]
        return Timing(
            "immediate",
            trigger=_trigger(m.group(1)),
            within=_number(m.group(2)),
            within_unit=unit,
            duration=duration,
        )
    m = re.fullmatch(r"(.+?)(?:之日)?(?:后|起)(?:即时|及时|立即)?(?:公开)?", t)
    if m and m.group(1):
        return Timing("immediate", trigger=_trigger(m.group(1)), duration=duration)
    if t in ("即时", "即时公开", "及时公开", "随时"):
        return Timing("immediate", duration=duration)
    raise TimingError(
        f"无法识别的公开起始时点：“{text}”（可填：长期、每月第一个星期五、会后一周内、"
        "常委会通过之日后、分期、延期）"
    )


def _trigger(text: str) -> str:
    # "会" alone (from 会后) reads better as 会议
    return "会议" if text == "会" else text
