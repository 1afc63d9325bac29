"""The shape of a synthetic province: presets and the organization tree.

Six levels at full size: the provincial committee → city committees → district (county)
committees → street working committees and township committees → communities, villages,
enterprises, social organizations and institutions → party branches, with the work organs
(discipline commission, general office, organization and publicity departments …) and
their branches beside the local committees. Fan-outs vary from node to node, branch
counts per unit are lognormal, and some villages and every township office are a branch
directly (a fifth level), so depths and sizes are uneven as in a real hierarchy.

The tree is built depth first with consecutive ids, so every subtree's branches are one
contiguous run of `Tree.branches` — which is how people, roles and audiences are drawn
from an organization's subtree without ever listing it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from dwgk.orgs.models import path_segment
from dwgk.synthetic import vocabulary as V


@dataclass(frozen=True)
class Preset:
    """Target sizes; the generator gets close to them (organizations within a few %)."""

    name: str
    orgs: int
    people: int
    items: int

    def scaled(self, scale: float) -> Preset:
        return Preset(
            self.name,
            max(1, round(self.orgs * scale)),
            max(10, round(self.people * scale)),
            max(10, round(self.items * scale)),
        )


PRESETS = {
    "small": Preset("small", 1_000, 20_000, 100_000),
    "city": Preset("city", 10_000, 200_000, 1_000_000),
    "province": Preset("province", 100_000, 2_000_000, 10_000_000),
}

# Mean fan-outs (cities, districts per city, townships per district, grassroots units per
# township) and the number of organizations they give, measured: ~3.6 branches per unit.
FANOUTS = (12, 10, 15, 12)
FULL_ORGS = 86_000

# The units below a street or a township: (kind, share).
STREET_UNITS: tuple[tuple[str, float], ...] = (
    ("community", 0.60),
    ("soe", 0.08),
    ("private", 0.17),
    ("social", 0.05),
    ("institution", 0.10),
)
TOWNSHIP_UNITS: tuple[tuple[str, float], ...] = (
    ("village", 0.70),
    ("private", 0.12),
    ("institution", 0.12),
    ("soe", 0.06),
)
UNIT_TYPES = {
    "community": "community_committee",
    "village": "village_committee",
    "soe": "soe_committee",
    "private": "private_enterprise_committee",
    "social": "social_org_committee",
    "institution": "institution_committee",
}
# Median branches per unit (lognormal, sigma BRANCH_SIGMA).
UNIT_BRANCHES = {
    "community": 3.0,
    "village": 2.0,
    "soe": 5.0,
    "private": 2.0,
    "social": 1.5,
    "institution": 3.0,
}
BRANCH_SIGMA = 0.6
# The work organs beside a local committee: (type, name suffix, short suffix, code).
ORGANS = {
    "province": (
        ("discipline_commission", "纪律检查委员会", "纪委", "JW"),
        ("general_office", "委办公厅", "委办公厅", "BGT"),
        ("organization_department", "委组织部", "委组织部", "ZZB"),
        ("publicity_department", "委宣传部", "委宣传部", "XCB"),
        ("united_front_department", "委统战部", "委统战部", "TZB"),
        ("political_legal_committee", "委政法委员会", "委政法委", "ZFW"),
        ("dispatched_working_committee", "直机关工作委员会", "直机关工委", "JGGW"),
    ),
    "city": (
        ("discipline_commission", "纪律检查委员会", "纪委", "JW"),
        ("general_office", "委办公室", "委办公室", "BGS"),
        ("organization_department", "委组织部", "委组织部", "ZZB"),
        ("publicity_department", "委宣传部", "委宣传部", "XCB"),
    ),
    "district": (
        ("discipline_commission", "纪律检查委员会", "纪委", "JW"),
        ("organization_department", "委组织部", "委组织部", "ZZB"),
        ("publicity_department", "委宣传部", "委宣传部", "XCB"),
    ),
}
ORGAN_BRANCHES = {"province": (1, 3), "city": (1, 2), "district": (1, 1)}


@dataclass(slots=True)
class Node:
    """One generated organization, with what later phases need to know about it."""

    id: int
    parent: Node | None
    kind: str  # province city district street township unit branch organ
    type_code: str
    name: str
    short: str
    code: str
    path: str
    sort_order: int
    unit_kind: str = ""  # community, village, soe … for units and their branches; organ
    branch_lo: int = 0  # this subtree's branches: Tree.branches[branch_lo:branch_hi]
    branch_hi: int = 0
    size: float = 1.0  # a branch's relative size (lognormal)
    # Filled in by later phases:
    principal: int = 0
    clerk: int = 0
    reviewer: int = 0
    approver: int = 0  # 0: none granted; the principal signs approver steps then
    entry0: int = 0  # id of the first entry of the published catalog (0: no catalog)
    template: str = ""

    @property
    def depth(self) -> int:
        return len(self.path) // 8

    @property
    def holds_members(self) -> bool:
        return self.kind == "branch"


@dataclass
class Tree:
    nodes: list[Node] = field(default_factory=list)
    branches: list[Node] = field(default_factory=list)
    units: list[Node] = field(default_factory=list)  # where non-members are affiliated


def _means(target_orgs: int) -> list[float]:
    """Mean fan-out per level for a province of about `target_orgs` organizations: the top
    levels shrink first (fewer cities, then fewer districts …), the natural size of a
    grassroots unit stays."""
    factor = target_orgs / FULL_ORGS
    means = []
    for fanout in FANOUTS:
        want = fanout * factor
        # A small count is made exact here and the rest carried down: 1.2 cities would be
        # one city, 17 % short; one city with 12 districts is not.
        mean = float(max(1, round(want))) if want < 4 else want
        factor = want / mean
        means.append(mean)
    return means


def _count(rng: random.Random, mean: float) -> int:
    if mean < 2:
        return max(1, round(mean))
    return max(1, round(mean * rng.uniform(0.7, 1.3)))


def _pick(rng: random.Random, shares: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for kind, share in shares:
        x -= share
        if x < 0:
            return kind
    return shares[-1][0]


class _Builder:
    def __init__(self, rng: random.Random, first_id: int) -> None:
        self.rng = rng
        self.next_id = first_id
        self.tree = Tree()

    def place(self, taken: set[str]) -> str:
        """A two-character place name not yet used among these siblings."""
        for _ in range(20):
            name = self.rng.choice(V.PLACE_FIRST) + self.rng.choice(V.PLACE_SECOND)
            if name not in taken:
                break
        taken.add(name)
        return name

    def add(
        self,
        parent: Node | None,
        kind: str,
        type_code: str,
        name: str,
        short: str,
        code: str,
        sort_order: int,
        unit_kind: str = "",
    ) -> Node:
        pk = self.next_id
        self.next_id += 1
        node = Node(
            id=pk,
            parent=parent,
            kind=kind,
            type_code=type_code,
            name=name,
            short=short,
            code=f"{parent.code}-{code}" if parent else code,
            path=(parent.path if parent else "") + path_segment(pk),
            sort_order=sort_order,
            unit_kind=unit_kind,
            branch_lo=len(self.tree.branches),
        )
        self.tree.nodes.append(node)
        if kind == "branch":
            # Lognormal sizes: many branches of 5–30 members, a few of 200 and more.
            node.size = self.rng.lognormvariate(0.0, 0.9) * (
                1.5 if unit_kind in ("soe", "institution", "organ") else 1.0
            )
            self.tree.branches.append(node)
        return node

    def close(self, node: Node) -> None:
        node.branch_hi = len(self.tree.branches)

    def branch(self, parent: Node, n: int, name: str, unit_kind: str) -> None:
        node = self.add(parent, "branch", "branch", name, name, f"B{n:02d}", n, unit_kind)
        self.close(node)

    def organs(self, parent: Node, level: str, place: str, level_word: str) -> None:
        low, high = ORGAN_BRANCHES[level]
        for n, (type_code, suffix, short_suffix, code) in enumerate(ORGANS[level], 1):
            organ = self.add(
                parent,
                "organ",
                type_code,
                f"中共{place}{level_word}{suffix}",
                f"{place}{level_word}{short_suffix}",
                code,
                n,
                "organ",
            )
            for b in range(1, self.rng.randint(low, high) + 1):
                self.branch(organ, b, f"{organ.short}第{V.cn_number(b)}党支部", "organ")
            self.close(organ)

    def unit(self, parent: Node, n: int, kind: str, taken: set[str]) -> None:
        place = self.place(taken)
        rng = self.rng
        if kind == "village" and rng.random() < 0.3:
            # A small village: the branch is the village's party organization.
            self.branch(parent, n, f"{place}村党支部", "village")
            return
        if kind == "community":
            name = f"{place}社区党委"
        elif kind == "village":
            name = f"{place}村党委" if rng.random() < 0.4 else f"{place}村党总支"
        elif kind == "soe":
            name = f"{place}{rng.choice(V.INDUSTRIES)}集团有限公司党委"
        elif kind == "private":
            name = f"{place}{rng.choice(V.PRIVATE)}有限公司党委"
        elif kind == "social":
            name = f"{place}{rng.choice(V.ASSOCIATIONS)}协会党委"
        else:
            name = f"{place}{rng.choice(V.INSTITUTIONS)}党委"
        node = self.add(parent, "unit", UNIT_TYPES[kind], name, name, f"U{n:02d}", n, kind)
        self.tree.units.append(node)
        median = UNIT_BRANCHES[kind]
        count = min(40, max(1, round(rng.lognormvariate(math.log(median), BRANCH_SIGMA))))
        stem = name.removesuffix("党委").removesuffix("党总支")
        for b in range(1, count + 1):
            if kind in ("soe", "private", "institution") and b <= len(V.DEPARTMENTS):
                branch_name = f"{stem}{V.DEPARTMENTS[b - 1]}党支部"
            else:
                branch_name = f"{stem}第{V.cn_number(b)}党支部"
            self.branch(node, b, branch_name, kind)
        self.close(node)

    def township(
        self, parent: Node, n: int, urban: bool, mean_units: float, taken: set[str]
    ) -> None:
        place = self.place(taken)
        if (urban and self.rng.random() < 0.7) or (not urban and self.rng.random() < 0.2):
            kind, type_code, name, shares = (
                "street",
                "street_working_committee",
                f"{place}街道党工委",
                STREET_UNITS,
            )
            office = f"{place}街道机关党支部"
        else:
            word = "乡" if self.rng.random() < 0.2 else "镇"
            kind, type_code, name, shares = (
                "township",
                "township_committee",
                f"{place}{word}党委",
                TOWNSHIP_UNITS,
            )
            office = f"{place}{word}机关党支部"
        node = self.add(parent, kind, type_code, name, name, f"T{n:02d}", n)
        self.tree.units.append(node)
        self.branch(node, 0, office, "organ")
        unit_names: set[str] = set()
        for u in range(1, _count(self.rng, mean_units) + 1):
            self.unit(node, u, _pick(self.rng, shares), unit_names)
        self.close(node)

    def district(self, parent: Node, n: int, means: list[float], taken: set[str]) -> None:
        place = self.place(taken)
        urban = self.rng.random() < 0.5
        word = "区" if urban else "县"
        node = self.add(
            parent,
            "district",
            "district_committee",
            f"中共{place}{word}委员会",
            f"{place}{word}委",
            f"D{n:02d}",
            n,
        )
        self.organs(node, "district", place, word)
        names: set[str] = set()
        for t in range(1, _count(self.rng, means[2]) + 1):
            self.township(node, t, urban, means[3], names)
        self.close(node)

    def city(self, parent: Node, n: int, means: list[float], taken: set[str]) -> None:
        place = self.place(taken)
        node = self.add(
            parent, "city", "city_committee", f"中共{place}市委员会", f"{place}市委", f"C{n:02d}", n
        )
        self.organs(node, "city", place, "市")
        names: set[str] = set()
        # Exact as well: a city preset is one city, and ±30 % districts would make it
        # 7,000 or 13,000 organizations by chance.
        for d in range(1, max(1, round(means[1])) + 1):
            self.district(node, d, means, names)
        self.close(node)

    def province(self, target_orgs: int) -> Tree:
        means = _means(target_orgs)
        place = self.place(set())
        root = self.add(
            None,
            "province",
            "provincial_committee",
            f"中共{place}省委员会",
            f"{place}省委",
            f"P{self.next_id}",
            0,
        )
        self.organs(root, "province", place, "省")
        names: set[str] = set()
        # The number of cities is exact: with a dozen of them, chance would swing the
        # province's size by a third. Townships and units below vary node by node.
        for c in range(1, max(1, round(means[0])) + 1):
            self.city(root, c, means, names)
        self.close(root)
        return self.tree


def build_tree(rng: random.Random, target_orgs: int, first_id: int) -> Tree:
    """The organization tree of a province of about `target_orgs` organizations, ids from
    `first_id` on in depth-first order."""
    return _Builder(rng, first_id).province(target_orgs)
