"""Timing (TIME-1, TIME-2), approval routes and channels: structure, wording, due dates."""

from __future__ import annotations

import datetime

import pytest

from dwgk.catalog.approval import RouteError, Step, describe_route, parse_route
from dwgk.catalog.channels import Channel, describe_channels, parse_channels
from dwgk.catalog.timing import (
    Duration,
    Timing,
    TimingError,
    parse_duration,
    parse_start,
)

D = datetime.date


@pytest.mark.parametrize(
    ("text", "kind", "shown"),
    [
        ("长期", "long_term", "长期"),
        ("每月第一周星期五", "periodic", "每月第一个星期五"),
        ("每月第一个星期五", "periodic", "每月第一个星期五"),
        ("每月最后一个星期三", "periodic", "每月最后一个星期三"),
        ("每季度10日前", "periodic", "每季度首月10日前"),
        ("每年3月第一个星期一", "periodic", "每年3月第一个星期一"),
        ("会后一周内", "immediate", "会后1周内"),
        ("常委会通过之日后", "immediate", "常委会通过后即时"),
        ("事项确定后5个工作日内", "immediate", "事项确定后5个工作日内"),
        ("分期逐段，跨年度工作年终总结", "phased", "按工作进展分阶段，跨年度工作年终公开总结"),
        ("延期", "delayed", "经党组织同意后延期"),
    ],
)
def test_the_usual_wording_is_read_into_structure_and_shown_back(text, kind, shown):
    timing = parse_start(text)
    assert timing.kind == kind
    assert timing.describe_start() == shown
    assert parse_start(timing.describe_start()) == timing
    assert Timing.from_json(timing.to_json()) == timing


def test_monday_survives_storage():
    timing = parse_start("每月第二个星期一")
    assert timing.weekday == 0 and timing.nth == 2
    assert Timing.from_json(timing.to_json()).weekday == 0


def test_first_friday_of_each_month_is_computed_as_the_disclosure_day():
    timing = parse_start("每月第一个星期五")
    assert timing.due_dates(D(2026, 1, 1), D(2026, 4, 30)) == [
        D(2026, 1, 2),
        D(2026, 2, 6),
        D(2026, 3, 6),
        D(2026, 4, 3),
    ]


def test_quarterly_and_yearly_due_dates_fall_in_the_right_months():
    quarterly = parse_start("每季度10日前")
    assert quarterly.due_dates(D(2026, 2, 1), D(2026, 12, 31)) == [
        D(2026, 4, 10),
        D(2026, 7, 10),
        D(2026, 10, 10),
    ]
    yearly = parse_start("每年3月第一个星期一")
    assert yearly.due_dates(D(2024, 1, 1), D(2026, 12, 31)) == [
        D(2024, 3, 4),
        D(2025, 3, 3),
        D(2026, 3, 2),
    ]


def test_a_day_past_the_end_of_a_short_month_falls_on_its_last_day():
    timing = Timing("periodic", period="monthly", day=31)
    assert timing.due_dates(D(2026, 2, 1), D(2026, 2, 28)) == [D(2026, 2, 28)]


def test_working_days_skip_the_weekend():
    timing = parse_start("事项确定后5个工作日内")
    assert timing.due_after(D(2026, 11, 20)) == D(2026, 11, 27)  # Friday → next Friday
    assert parse_start("会后一周内").due_after(D(2026, 11, 20)) == D(2026, 11, 27)
    assert parse_start("长期").due_after(D(2026, 11, 20)) is None


@pytest.mark.parametrize(
    ("text", "shown", "end"),
    [
        ("永久", "永久", None),
        ("三个月", "3个月", D(2026, 4, 30)),
        ("1年", "1年", D(2027, 1, 31)),
        ("30天", "30天", D(2026, 3, 2)),
        ("至新内容替代", "至被新内容替代", None),
    ],
)
def test_durations(text, shown, end):
    duration = parse_duration(text)
    assert duration.describe() == shown
    assert duration.end_after(D(2026, 1, 31)) == end


@pytest.mark.parametrize("text", ["随便什么时候", "每月第九个星期五", "每周"])
def test_unreadable_timing_is_refused_in_chinese(text):
    with pytest.raises(TimingError, match=r"无法识别|第几个"):
        parse_start(text)


def test_inconsistent_structures_are_refused():
    with pytest.raises(TimingError, match="周期"):
        Timing("periodic")
    with pytest.raises(TimingError, match="同时给出"):
        Timing("periodic", period="monthly", nth=1)
    with pytest.raises(TimingError):
        Duration("days")
    with pytest.raises(TimingError, match="未知"):
        Timing.from_json({"kind": "long_term", "colour": "red"})


def test_the_universitys_sample_routes_become_steps_the_workflow_can_run(db):
    route = parse_route("全委会审议，常委会决定，书记校长签发")
    assert [s.kind for s in route] == ["body", "body", "role"]
    assert route[1].body == "常委会" and route[2].role == "principal"
    assert describe_route(route) == "全委会审议，常委会决定，书记校长签发"
    assert parse_route("支委会研究，报上级党组织审批")[-1] == Step(
        "parent", label="报上级党组织审批"
    )


def test_an_unknown_route_step_is_refused(db):
    with pytest.raises(RouteError, match="无法识别"):
        parse_route("看情况再说")
    with pytest.raises(RouteError, match="审核环节"):
        parse_route("保密审查")


def test_channels_are_read_from_the_sheets_words():
    assert parse_channels("纸质印发") == [Channel.PAPER]
    assert parse_channels("办公网发布") == [Channel.INTRANET]
    assert parse_channels("支部党员大会、公开栏、微信公众号") == [
        Channel.MEETING,
        Channel.BOARD,
        Channel.NEW_MEDIA,
    ]
    assert parse_channels("口口相传") == []
    assert describe_channels([Channel.BOARD, Channel.PLATFORM]) == "公开栏、党务公开平台"


@pytest.mark.parametrize(
    "timing",
    [
        Timing("periodic", period="yearly"),
        Timing("immediate"),
        Timing("delayed", note="待换届完成"),
        Timing("immediate", trigger="会议", within=3, within_unit="working_days"),
    ],
)
def test_every_shown_timing_reads_back_to_itself(timing):
    assert parse_start(timing.describe_start()) == timing


def test_more_of_the_rules_channel_words_are_understood():
    assert parse_channels("党报党刊、电台") == [Channel.NEWSPAPER, Channel.BROADCAST]
    assert parse_channels("面谈或书信") == [Channel.FACE_TO_FACE, Channel.LETTER]


def test_bodies_named_as_meetings_are_collective_decisions(db):
    assert parse_route("党委会议研究")[0] == Step("body", body="党委会议", label="党委会议研究")
