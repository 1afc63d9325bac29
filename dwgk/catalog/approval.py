"""Approval routes (审批程序) of catalog entries (PROC-3; BJ 14(3); CMU 11(3); NM 18(3)).

A route is an ordered list of steps that the disclosure workflow will execute:
    {"kind": "role", "role": "principal", "label": "书记签发"}   a role in the organization
    {"kind": "body", "body": "常委会", "label": "常委会决定"}     a collective decision, recorded
                                                               with its meeting
    {"kind": "parent", "label": "报上级党组织审批"}               the upper-level organization
`label` keeps the office's own wording, so an exported sheet reads as it was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dwgk.accounts.models import Role


class RouteError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    kind: str
    role: str = ""
    body: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("role", "body", "parent"):
            raise RouteError(f"未知的审批环节：{self.kind}")
        if self.kind == "role" and self.role not in Role.values:
            raise RouteError(f"未知的审批角色：{self.role}")
        if self.kind == "body" and not self.body:
            raise RouteError("集体决策环节须写明会议或机构名称。")

    def describe(self) -> str:
        if self.label:
            return self.label
        if self.kind == "role":
            return f"{Role(self.role).label}审批"
        if self.kind == "body":
            return f"{self.body}集体研究决定"
        return "报上级党组织审批"

    def to_json(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("kind", self.kind),
                ("role", self.role),
                ("body", self.body),
                ("label", self.label),
            )
            if v
        }


def route_from_json(data: list[dict[str, Any]] | None) -> list[Step]:
    return [Step(**step) for step in (data or [])]


def route_to_json(route: list[Step]) -> list[dict[str, str]]:
    return [step.to_json() for step in route]


def describe_route(route: list[Step]) -> str:
    return "，".join(step.describe() for step in route) or "无需审批"


_BODY = re.compile(
    r"^(.*?(?:会议|会|大会|班子|小组|委员会))(?:集体)?(审议|决定|讨论|研究|通过|审定|审批|决策)"
)
_LEADER = re.compile(r"(书记|校长|院长|主任|部长|主要负责人|负责人|主要领导|党委|党组|支部)")
_SIGN = re.compile(r"(签发|审批|审定|批准|同意|签批|审签)")


def parse_route(text: str) -> list[Step]:
    """Read the 审批程序 column ("全委会审议，常委会决定，书记校长签发")."""
    parts = [p for p in re.split(r"[，,、；;。→>]+|\s+", text.strip()) if p]
    route: list[Step] = []
    for part in parts:
        if "上级" in part:
            route.append(Step("parent", label=part))
        elif m := _BODY.match(part):
            route.append(Step("body", body=m.group(1), label=part))
        elif "分管" in part or "审批人" in part:
            route.append(Step("role", role=Role.APPROVER, label=part))
        elif "保密" in part:
            raise RouteError(f"“{part}”是审核环节，不属于审批程序")
        elif _LEADER.search(part) and _SIGN.search(part):
            route.append(Step("role", role=Role.PRINCIPAL, label=part))
        else:
            raise RouteError(
                f"无法识别的审批环节：“{part}”（可写：书记签发、常委会决定、分管领导审批、报上级党组织审批）"
            )
    return route
