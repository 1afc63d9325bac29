"""Rule-sets and their catalog templates (CAT-2), shipped as readable data files.

Each file in `rulesets/` is one set of implementing rules (Beijing, Inner Mongolia, a
university, an agency, a county). A deployment picks one with CATALOG_RULESET and can add
its own file to CATALOG_RULESET_DIRS. Entries are written in the words of the 目录表 and
read with the same parsers as an imported sheet, so a template reads like the sheet it
becomes. Each entry cites the article it comes from.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from dwgk.audience.keys import Audience
from dwgk.catalog.approval import Step, parse_route
from dwgk.catalog.channels import parse_channels
from dwgk.catalog.timing import Timing, parse_duration, parse_start

BUILTIN_DIR = Path(__file__).parent / "rulesets"
SCOPES = {"society": "向社会公开", "party": "党内公开", "unit": "本单位公开"}


class RulesetError(ValueError):
    pass


@dataclass(frozen=True)
class TemplateEntry:
    templates: tuple[str, ...]
    content: str
    category: str
    basis: str
    scope: str
    scope_note: str
    route: tuple[Step, ...]
    channels: tuple[str, ...]
    timing: Timing
    responsible: str
    co_units: str
    remarks: str

    def audience_for(self, org_id: int) -> Audience:
        if self.scope == "society":
            return Audience(society=True)
        if self.scope == "unit":
            return Audience(units=(org_id,))
        return Audience(party=(org_id,))


@dataclass(frozen=True)
class Ruleset:
    code: str
    name: str
    short: str
    parent_sets_catalog: bool = False
    stale_days: int = 365
    extra: dict[str, Any] = field(default_factory=dict)
    entries: tuple[TemplateEntry, ...] = ()

    def entries_for(self, template: str) -> list[TemplateEntry]:
        """The entries a new organization with this template key starts from."""
        return [e for e in self.entries if template in e.templates or "*" in e.templates]


def _entry(code: str, n: int, raw: dict[str, Any]) -> TemplateEntry:
    where = f"{code}.toml 第 {n} 条"
    try:
        templates = raw["templates"]
        scope = raw.get("scope", "party")
        if scope not in SCOPES:
            raise RulesetError(f"{where}：scope 须为 {'、'.join(SCOPES)}")
        duration = parse_duration(raw.get("duration", "永久"))
        return TemplateEntry(
            templates=tuple(templates),
            content=raw["content"].strip(),
            category=raw.get("category", ""),
            basis=raw["basis"],
            scope=scope,
            scope_note=raw.get("scope_note", SCOPES[scope]),
            route=tuple(parse_route(raw.get("approval", "书记签发"))),
            channels=tuple(parse_channels(raw.get("channels", "党务公开平台"))),
            timing=parse_start(raw.get("start", "长期"), duration),
            responsible=raw.get("responsible", ""),
            co_units=raw.get("co_units", ""),
            remarks=raw.get("remarks", ""),
        )
    except KeyError as missing:
        raise RulesetError(f"{where}：缺少 {missing}") from None
    except ValueError as error:
        raise RulesetError(f"{where}：{error}") from None


def load_ruleset(path: Path) -> Ruleset:
    with path.open("rb") as f:
        data = tomllib.load(f)
    head = data["ruleset"]
    code = head["code"]
    entries = tuple(_entry(code, n, raw) for n, raw in enumerate(data.get("entry", []), 1))
    known = {"code", "name", "short", "parent_sets_catalog", "stale_days"}
    return Ruleset(
        code=code,
        name=head["name"],
        short=head.get("short", code),
        parent_sets_catalog=head.get("parent_sets_catalog", False),
        stale_days=head.get("stale_days", 365),
        extra={k: v for k, v in head.items() if k not in known},
        entries=entries,
    )


@functools.cache
def all_rulesets() -> dict[str, Ruleset]:
    dirs = [BUILTIN_DIR, *(Path(d) for d in getattr(settings, "CATALOG_RULESET_DIRS", []))]
    found: dict[str, Ruleset] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.toml")):
            ruleset = load_ruleset(path)
            found[ruleset.code] = ruleset
    return found


def get_ruleset(code: str) -> Ruleset:
    try:
        return all_rulesets()[code]
    except KeyError:
        raise RulesetError(f"未找到实施细则“{code}”") from None


def current_ruleset() -> Ruleset:
    return get_ruleset(settings.CATALOG_RULESET)
