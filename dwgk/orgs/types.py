"""Loads the organization types (ORG-1) from data/org_types.toml into OrgType."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

TYPES_FILE = Path(__file__).parent / "data" / "org_types.toml"


def load_type_rows() -> list[dict[str, Any]]:
    with TYPES_FILE.open("rb") as f:
        rows: list[dict[str, Any]] = tomllib.load(f)["type"]
    return rows


def sync_org_types(using: str = "default") -> int:
    """Insert or update every type from the data file; returns how many there are."""
    from dwgk.orgs.models import OrgType

    rows = load_type_rows()
    for order, row in enumerate(rows):
        OrgType.objects.using(using).update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "category": row["category"],
                "level": row["level"],
                "holds_members": row.get("holds_members", False),
                "template": row["template"],
                "basis": row.get("basis", ""),
                "sort_order": order,
            },
        )
    return len(rows)


def sync_org_types_after_migrate(using: str = "default", **kwargs: Any) -> None:
    sync_org_types(using=using)
