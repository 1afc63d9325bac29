"""Catalog templates (CAT-2): the five rule-sets load, cite articles that exist, cover the
organization types their articles name, and become drafts whose columns read back the same."""

from __future__ import annotations

import datetime
import re
import tomllib
from pathlib import Path

import pytest

from dwgk.catalog import actions
from dwgk.catalog.approval import parse_route
from dwgk.catalog.channels import parse_channels
from dwgk.catalog.rulesets import BUILTIN_DIR, Ruleset, all_rulesets, load_ruleset
from dwgk.catalog.timing import parse_duration, parse_start
from dwgk.orgs.models import OrgType
from tests.cast import make_org

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_PREFIX = {"bj": "000_", "cmu": "001_", "nm": "002_", "sx": "003_", "qj": "004_"}
ORG_TYPES = Path(__file__).resolve().parents[1] / "dwgk" / "orgs" / "data" / "org_types.toml"
CODES = sorted(SEED_PREFIX)

GRASSROOTS = {
    "grassroots_township",
    "grassroots_street",
    "grassroots_community",
    "grassroots_village",
    "grassroots_soe",
    "grassroots_private",
    "grassroots_social",
    "grassroots_institution",
    "grassroots_agency",
    "grassroots",
    "grassroots_general_branch",
    "branch",
}
WORK_ORGANS = {"work_organ", "work_organ_organization", "work_organ_publicity"}

# Which template keys each rule-set's articles reach, read off the articles themselves.
COVERS = {
    # BJ 6 local committees; 7 every grassroots organization, universities and their schools
    # included; 8 discipline; 9 organs and affiliated institutions; 10 dispatched; 11 党组.
    "bj": {"local_committee", *GRASSROOTS, "university", "university_school", "discipline"}
    | WORK_ORGANS
    | {"institution", "dispatched", "leading_group"},
    # CMU 6 学校各级党组织; 7 党的纪律检查委员会及工作部门; 8 党的工作部门.
    "cmu": {"university", "university_school", "grassroots_general_branch", "branch", "discipline"}
    | WORK_ORGANS,
    # NM 8–9 local committees; 10–11 grassroots (11(5) reaches universities); 12 discipline;
    # 13 organs, dispatched organs, affiliated institutions, 党组.
    "nm": {"local_committee", *GRASSROOTS, "university", "university_school", "discipline"}
    | WORK_ORGANS
    | {"institution", "dispatched", "leading_group"},
    # SX 2, 3, 5c, 6: the center's 党组, its 机关党委 (and organs or institutions adopting the
    # standard), the 各级党组织 below, and the 机关纪委 (SX 3.7).
    "sx": {
        "leading_group",
        "grassroots_agency",
        "work_organ",
        "institution",
        "grassroots_general_branch",
        "branch",
        "discipline",
    },
    # QJ 2, 5: grassroots organizations only.
    "qj": GRASSROOTS,
}

# TIME-1 as each rule-set words it: NM 17 has no phased or delayed kind, SX 4 makes routine
# work long-term (no periodic kind), QJ 8 has no delayed kind.
TIMING_KINDS = {
    "bj": {"long_term", "periodic", "phased", "immediate", "delayed"},
    "cmu": {"long_term", "periodic", "phased", "immediate", "delayed"},
    "nm": {"long_term", "periodic", "immediate"},
    "sx": {"long_term", "phased", "immediate"},
    "qj": {"long_term", "periodic", "phased", "immediate"},
}

CN = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    if n < 10:
        return CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN[tens]) + "十" + (CN[ones] if ones else "")


def builtin(code: str) -> Ruleset:
    return load_ruleset(BUILTIN_DIR / f"{code}.toml")


def article_text(code: str, text: str, n: int) -> tuple[str, list[str]] | None:
    """The text of article n, and its paragraphs (款); SX is numbered by section."""
    if code == "sx":
        lines = text.splitlines()
        starts = [i for i, line in enumerate(lines) if re.match(rf"\s*{n}[\s　]", line)]
        if not starts:
            return None
        stop = next(
            (
                i
                for i, line in enumerate(lines)
                if i > starts[0] and re.match(rf"\s*{n + 1}[\s　]", line)
            ),
            len(lines),
        )
        body = lines[starts[0] + 1 : stop]
    else:
        start = text.find(f"第{chinese_number(n)}条")
        if start < 0:
            return None
        stop = text.find(f"第{chinese_number(n + 1)}条", start)
        body = text[start : stop if stop > 0 else None].splitlines()
    paragraphs = [line.strip() for line in body if line.strip()]
    return "\n".join(paragraphs), paragraphs


# --- the files --------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_every_ruleset_file_loads_with_entries(code):
    ruleset = builtin(code)
    assert ruleset.code == code
    assert ruleset.name and ruleset.short
    assert len(ruleset.entries) >= 40, "a template lists each article item by item"


def test_ruleset_codes_are_unique_and_all_five_ship():
    codes = [load_ruleset(path).code for path in sorted(BUILTIN_DIR.glob("*.toml"))]
    assert sorted(codes) == CODES
    assert len(set(codes)) == len(codes)


def test_every_basis_cites_an_article_item_or_paragraph_found_in_its_seed():
    if not SEEDS.is_dir():
        pytest.skip(f"源规则文本目录不存在（{SEEDS}）：无法核对条款依据")
    for code in CODES:
        text = next(SEEDS.glob(SEED_PREFIX[code] + "*.txt")).read_text(encoding="utf-8")
        for entry in builtin(code).entries:
            m = re.fullmatch(r"([A-Z]+) (\d+)(?:\((\d+)\)|\.(\d+))?", entry.basis)
            assert m, f"{code}: basis “{entry.basis}” is not like “BJ 7(3)” or “SX 3.2”"
            assert m.group(1) == code.upper(), entry.basis
            found = article_text(code, text, int(m.group(2)))
            assert found, f"{entry.basis}: no such article in the seed"
            body, paragraphs = found
            if m.group(3):
                item = chinese_number(int(m.group(3)))
                assert f"（{item}）" in body or f"({item})" in body, f"{entry.basis}: no such item"
            if m.group(4):
                assert int(m.group(4)) <= len(paragraphs), f"{entry.basis}: no such paragraph"


@pytest.mark.parametrize("code", CODES)
def test_each_ruleset_covers_the_organization_types_its_articles_name(code):
    covered = {key for entry in builtin(code).entries for key in entry.templates}
    assert covered == COVERS[code]
    for key in COVERS[code]:
        assert builtin(code).entries_for(key), f"{code}: no entries for {key}"


def test_every_template_key_is_one_an_organization_type_starts_from():
    with ORG_TYPES.open("rb") as f:
        keys = {t["template"] for t in tomllib.load(f)["type"]}
    for code in CODES:
        for entry in builtin(code).entries:
            assert set(entry.templates) <= keys, f"{code} {entry.basis}: {entry.templates}"


@pytest.mark.parametrize("code", CODES)
def test_no_organization_type_gets_the_same_item_twice(code):
    ruleset = builtin(code)
    for key in COVERS[code]:
        contents = [e.content for e in ruleset.entries_for(key)]
        assert len(contents) == len(set(contents)), f"{code} {key}"


def test_out_of_catalog_items_follow_each_rulesets_article():
    # PROC-7: BJ 15 and CMU 12 — the principal leader or a collective decision; NM 19 and
    # QJ 6(2) — the upper organization's consent; SX is silent (reasoned in sx.toml).
    expected = {
        "bj": "principal_or_collective",
        "cmu": "principal_or_collective",
        "nm": "parent_consent",
        "qj": "parent_consent",
        "sx": "principal_or_collective",
    }
    assert {code: builtin(code).extra["out_of_catalog"] for code in CODES} == expected


def test_only_qj_lets_the_upper_organization_set_the_catalog():
    assert {code for code in CODES if builtin(code).parent_sets_catalog} == {"qj"}


@pytest.mark.parametrize("code", CODES)
def test_timing_kinds_follow_each_rulesets_timing_article(code):
    kinds = {entry.timing.kind for entry in builtin(code).entries}
    assert kinds <= TIMING_KINDS[code]


def test_qj_periodic_entries_fall_on_the_first_friday_the_party_affairs_day():
    periodic = [e for e in builtin("qj").entries if e.timing.kind == "periodic"]
    assert len(periodic) >= 10
    for entry in periodic:
        assert (entry.timing.nth, entry.timing.weekday) == (1, 4), entry.content
        for due in entry.timing.due_dates(datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)):
            assert due.weekday() == 4 and due.day <= 7
    monthly = [e for e in periodic if e.timing.period == "monthly"]
    assert monthly and all(e.timing.describe_start() == "每月第一个星期五" for e in monthly)


@pytest.mark.parametrize("code", CODES)
def test_every_channel_word_in_the_files_is_recognised(code):
    with (BUILTIN_DIR / f"{code}.toml").open("rb") as f:
        rows = tomllib.load(f)["entry"]
    for row in rows:
        for word in re.split(r"[、，,；;]", row["channels"]):
            assert parse_channels(word), f"{code}: “{word}” in “{row['content']}” is not a channel"


def test_society_items_put_the_platform_or_party_media_first():
    # BJ 16, NM 20: to society, the party's own media first; BJ 17, NM 21: the platform.
    first_choices = {"platform", "communique", "press", "newspaper", "broadcast"}
    for code in CODES:
        for entry in builtin(code).entries:
            if entry.scope == "society":
                assert entry.channels[0] in first_choices, f"{code}: {entry.content}"


# --- from template to draft -------------------------------------------------------------


@pytest.fixture
def use_ruleset(settings):
    def use(code: str) -> Ruleset:
        settings.CATALOG_RULESET = code
        all_rulesets.cache_clear()
        return all_rulesets()[code]

    yield use
    all_rulesets.cache_clear()


@pytest.mark.parametrize("code", CODES)
def test_a_draft_from_each_template_carries_its_rows_and_reads_back(db, use_ruleset, code):
    ruleset = use_ruleset(code)
    for key in sorted(COVERS[code]):
        org_type = OrgType.objects.filter(template=key).order_by("code").first()
        assert org_type is not None, key
        org = make_org(f"{code}-{key}", org_type.code)
        version = actions.catalog_generate_draft(org, actor=None)
        assert f"《{ruleset.name}》" in version.change_note
        rows = ruleset.entries_for(key)
        entries = list(version.entries.order_by("position"))
        assert len(entries) == len(rows), key
        for entry, row in zip(entries, rows, strict=True):
            assert (entry.content, entry.basis, entry.category) == (
                row.content,
                row.basis,
                row.category,
            )
            assert (entry.responsible, entry.audience_note) == (row.responsible, row.scope_note)
            assert entry.get_audience() == row.audience_for(org.pk)
            timing = entry.get_timing()
            assert timing == row.timing
            assert parse_start(timing.describe_start(), timing.duration) == timing
            assert parse_duration(timing.duration.describe()) == timing.duration
            assert entry.get_route() == list(row.route)
            assert parse_route(entry.approval_text()) == entry.get_route()
            assert entry.channels == list(row.channels)
            assert parse_channels(entry.channels_text()) == entry.channels


def test_a_beijing_branch_starts_from_bj_7_and_an_nm_discipline_commission_from_nm_12(
    db, use_ruleset
):
    use_ruleset("bj")
    branch = make_org("示范党支部", "branch")
    version = actions.catalog_generate_draft(branch, actor=None)
    bases = set(version.entries.values_list("basis", flat=True))
    assert {"BJ 7(1)", "BJ 7(4)", "BJ 7(6)"} <= bases
    dues = version.entries.get(content="党费收缴使用管理情况")
    assert dues.get_audience().party == (branch.pk,)  # BJ 12(2): within the party

    use_ruleset("nm")
    commission = make_org("示范旗纪委", "discipline_commission")
    version = actions.catalog_generate_draft(commission, actor=None)
    cases = [e for e in version.entries.all() if e.basis == "NM 12(5)"]
    assert cases and all(e.get_audience().society for e in cases)  # NM 15(1)
    assert all(e.get_timing().kind == "immediate" for e in cases)  # NM 17: 随时公开
