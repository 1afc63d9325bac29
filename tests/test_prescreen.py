"""The review pre-screen (PROC-2, MECH-1): its detectors on real and near-miss numbers,
secrecy markings and terms, offsets into the original text, and one-click redaction."""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dwgk.disclosures.prescreen import Finding, FindingMismatch, redact, scan, summary

# --- Helpers: make real-looking numbers, computed independently of the module -------------


def id_check_char(first17: str) -> str:
    # ISO 7064 MOD 11-2: the weight of position i (from the left) is 2^(17 - i) mod 11.
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    return "10X98765432"[total % 11]


def make_id(region: str = "110105", birth: str = "19491231", seq: str = "002") -> str:
    first17 = region + birth + seq
    return first17 + id_check_char(first17)


def make_id_ending_in_x(region: str = "320102", birth: str = "19800101") -> str:
    for n in range(1000):
        number = make_id(region, birth, f"{n:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence number gives X")


def luhn_check_digit(partial: str) -> str:
    total = 0
    for i, char in enumerate(reversed(partial)):
        d = int(char)
        if i % 2 == 0:  # the check digit will shift every position by one
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_card(partial: str) -> str:
    return partial + luhn_check_digit(partial)


def passes_luhn(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in scan(text)]


VALID_ID = make_id()
CARD_16 = make_card("622202123456789")
CARD_19 = make_card("622848001234567890")


def test_the_helpers_agree_with_known_good_numbers() -> None:
    # A check-digit example published with GB 11643 and the textbook Luhn example.
    assert make_id("110105", "19491231", "002") == "11010519491231002X"
    assert make_card("411111111111111") == "4111111111111111"


# --- Resident ID numbers ------------------------------------------------------------------


def test_it_finds_a_valid_resident_id_number_and_masks_it() -> None:
    number = make_id("440305", "19900307", "123")
    (finding,) = scan(f"申请人身份证号：{number}，住址略。")
    assert finding.kind == "id_card"
    assert finding.text == number
    assert finding.label == "居民身份证号码"
    assert finding.severity == "warn"
    assert finding.masked == number[:6] + "********" + number[-4:]


@pytest.mark.parametrize("case", [str.upper, str.lower])
def test_it_finds_id_numbers_that_end_in_x(case: Callable[[str], str]) -> None:
    number = case(make_id_ending_in_x())
    assert kinds(f"身份证{number}。") == [("id_card", number)]
    assert scan(number)[0].masked.endswith("X")


def test_it_ignores_an_id_number_with_one_wrong_check_character() -> None:
    number = make_id("510104", "19750615", "417")
    for wrong in "0123456789X":
        if wrong != number[-1]:
            # (One of the ten happens to pass Luhn: that one is reported as a bank card.)
            found = scan(f"身份证{number[:-1]}{wrong}。")
            assert [f for f in found if f.kind == "id_card"] == []


@pytest.mark.parametrize(
    "birth",
    ["19900230", "19901301", "19900100", "18991231", f"{datetime.date.today().year + 1}0101"],
)
def test_it_ignores_an_id_number_with_an_impossible_birth_date(birth: str) -> None:
    assert scan(make_id("110105", birth, "123")) == []


@pytest.mark.parametrize("region", ["000000", "160101", "990101", "720101", "830101"])
def test_it_ignores_an_id_number_from_a_region_that_does_not_exist(region: str) -> None:
    assert scan(make_id(region, "19800101", "123")) == []


@pytest.mark.parametrize("region", ["710101", "810000", "820000", "650102", "150102"])
def test_it_accepts_every_kind_of_province_level_region(region: str) -> None:
    number = make_id(region, "19800101", "123")
    assert kinds(number) == [("id_card", number)]


def test_it_finds_the_old_15_digit_form_with_a_valid_date() -> None:
    (finding,) = scan("老身份证 110105491231002 已换领")
    assert finding.kind == "id_card"
    assert finding.text == "110105491231002"
    assert finding.masked == "110105*****1002"


def test_it_ignores_a_15_digit_number_with_an_impossible_date() -> None:
    assert scan("编号110105491331002") == []
    assert scan("编号990105491231002") == []


def test_it_finds_an_id_number_typed_in_groups() -> None:
    number = make_id("330106", "19881111", "045")
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    assert kinds(f"证件号 {spaced} 。") == [("id_card", spaced)]


def test_an_id_number_that_also_passes_luhn_is_only_an_id_number() -> None:
    # Region 62 (甘肃) starts like a UnionPay card; find such an ID that also passes Luhn.
    candidates = (make_id("620102", "19900101", f"{n:03d}") for n in range(1000))
    number = next(n for n in candidates if n.isdigit() and passes_luhn(n))
    assert kinds(f"身份证{number}") == [("id_card", number)]


def test_an_id_number_inside_a_longer_digit_run_is_not_found() -> None:
    assert scan(f"流水号9{VALID_ID[:-1]}") == []
    assert scan(f"流水号{make_id('110105', '19800101', '123')}7") == []


# --- Mobile numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "+86-13812345678",
        "0086 13812345678",
    ],
)
def test_it_finds_mobile_numbers_with_country_code_spaces_and_hyphens(written: str) -> None:
    (finding,) = scan(f"联系人：张三，手机 {written}。")
    assert finding.kind == "mobile"
    assert finding.text == written
    assert finding.label == "手机号码"
    assert finding.masked.endswith("138****5678")


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix_from_13_to_19_is_found(prefix: str) -> None:
    assert kinds(f"手机{prefix}912345678") == [("mobile", f"{prefix}912345678")]


@pytest.mark.parametrize(
    "text",
    [
        "卡号6222021381234567890",  # 19 digits (not Luhn-valid): not a mobile + something
        "订单号2138123456789",
        "编号13812345678901",
        "编号 2018-13812345678",
        "编号 13812345678-2",
        "手机12812345678",  # no 12x prefix
        "手机1381234567",  # 10 digits
    ],
)
def test_it_does_not_take_a_mobile_number_out_of_a_longer_number(text: str) -> None:
    assert [f for f in scan(text) if f.kind == "mobile"] == []


def test_two_mobile_numbers_side_by_side_are_both_found() -> None:
    text = "13812345678 13912345678、15012345678"
    assert [f.text for f in scan(text)] == ["13812345678", "13912345678", "15012345678"]


# --- Landlines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("010-62345678", "010-******78"),
        ("010 6234 5678", "010-******78"),
        ("(010)62345678", "010-******78"),
        ("（010）62345678", "010-******78"),
        ("（０２１）６２３４５６７８", "021-******78"),
        ("01062345678", "010-******78"),
        ("0755-2345678", "0755-*****78"),
        ("0755-82345678", "0755-******78"),
        ("0471 6234567", "0471-*****67"),
        ("010-62345678-801", "010-******78-***"),
        ("010-62345678转801", "010-******78-***"),
    ],
)
def test_it_finds_landlines_with_an_area_code(written: str, masked: str) -> None:
    (finding,) = scan(f"办公室地址略，{written}，工作日受理。")
    assert finding.kind == "landline"
    assert finding.text == written
    assert finding.label == "固定电话"
    assert finding.masked == masked


@pytest.mark.parametrize(
    "text", ["联系电话：62345678", "电话 2345678", "传真：6234-5678", "Tel: 62345678"]
)
def test_it_finds_a_local_number_without_area_code_after_a_cue_word(text: str) -> None:
    (finding,) = scan(text)
    assert finding.kind == "landline"
    assert finding.masked.endswith("78")
    assert text.endswith(finding.text)


@pytest.mark.parametrize(
    "text",
    [
        "京发〔2018〕12号",
        "京政发〔2018〕012号",
        "2026-11-23",
        "2026年11月23日",
        "20261123",
        "13.5万元",
        "共计62345678元",  # a bare 8-digit number is an amount, not a phone number
        "编号 2345678",
        "2018年",
        "2018-2020年",
        "0.5%",
        "1,380,000元",
        "第0123号",
        "公示期为2025年3月1日至3月7日（共5个工作日）",
        "举报电话12388",  # a service number, not personal information
        "电话：12345678",  # local numbers never start with 1
        "010-1234567",  # Beijing numbers have 8 digits and start with 2–9
        "索引号：000014348/2018-00012",
    ],
)
def test_dates_amounts_years_and_document_numbers_are_not_phone_numbers(text: str) -> None:
    assert scan(text) == []


# --- Bank cards ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [CARD_16, CARD_19, make_card("411111111111111"), make_card("530000000000001")],
)
def test_it_finds_luhn_valid_bank_card_numbers(number: str) -> None:
    (finding,) = scan(f"工资卡号：{number}。")
    assert finding.kind == "bank_card"
    assert finding.text == number
    assert finding.label == "银行卡号"
    assert finding.masked == number[:4] + "*" * (len(number) - 8) + number[-4:]


def test_it_finds_a_card_number_typed_in_groups() -> None:
    grouped = "-".join([CARD_19[i : i + 4] for i in range(0, 19, 4)])  # 6228-4800-…-xxx
    assert kinds(f"卡号 {grouped} 。") == [("bank_card", grouped)]
    spaced = " ".join([CARD_16[i : i + 4] for i in range(0, 16, 4)])
    assert kinds(f"卡号 {spaced}") == [("bank_card", spaced)]


def test_it_ignores_luhn_invalid_card_numbers() -> None:
    wrong = CARD_16[:-1] + str((int(CARD_16[-1]) + 1) % 10)
    assert scan(f"卡号{wrong}") == []
    wrong19 = CARD_19[:-1] + str((int(CARD_19[-1]) + 3) % 10)
    assert scan(f"卡号{wrong19}") == []


def test_it_ignores_luhn_valid_numbers_with_an_unknown_prefix() -> None:
    assert scan(f"订单{make_card('123456789012345')}") == []
    assert scan(f"订单{make_card('912345678901234')}") == []


def test_a_card_number_in_groups_is_not_read_as_a_landline() -> None:
    # 6222 0755 2345 678x holds "0755 2345 678x", which alone would be a Shenzhen landline.
    card = make_card("622207552345678")
    spaced = " ".join([card[i : i + 4] for i in range(0, 16, 4)])
    assert kinds(spaced) == [("bank_card", spaced)]
    hyphened = spaced.replace(" ", "-")
    assert kinds(hyphened) == [("bank_card", hyphened)]


def test_a_card_number_is_not_cut_out_of_a_longer_group_run() -> None:
    spaced = " ".join([CARD_16[i : i + 4] for i in range(0, 16, 4)]) + " 1234"
    assert [f for f in scan(spaced) if f.kind == "bank_card"] == []


# --- E-mail -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("zhangsan@example.com", "z***@example.com"),
        ("li.si+dwgk@mail.example.org.cn", "l***@mail.example.org.cn"),
        ("wang_wu@qq.com", "w***@qq.com"),
        ("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "w***@example.com"),
    ],
)
def test_it_finds_email_addresses(written: str, masked: str) -> None:
    (finding,) = scan(f"来信请寄{written}。")
    assert finding.kind == "email"
    assert finding.text == written
    assert finding.label == "电子邮箱"
    assert finding.masked == masked


def test_prose_punctuation_around_an_email_address_stays_out_of_it() -> None:
    assert kinds("邮箱：-abc@qq.com.") == [("email", "abc@qq.com")]


def test_an_email_address_made_of_a_mobile_number_is_one_finding() -> None:
    (finding,) = scan("邮箱13812345678@163.com")
    assert finding.kind == "email"
    assert finding.masked == "1***@163.com"


def test_an_at_sign_without_a_domain_is_not_an_email() -> None:
    assert scan("@张三 请于周五前提交材料，会议室@三楼") == []


# --- Secrecy markings and terms -----------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "label"),
    [
        ("绝密★", "涉密标识：绝密"),
        ("机密★一年", "涉密标识：机密"),
        ("秘密★1年", "涉密标识：秘密"),
        ("机密★长期", "涉密标识：机密"),
        ("秘密 ★ 6个月", "涉密标识：秘密"),
        ("密级：机密", "涉密标识：机密"),
        ("密级:绝密★10年", "涉密标识：绝密"),
    ],
)
def test_secrecy_markings_block_publication(written: str, label: str) -> None:
    (finding,) = scan(f"{written}\n关于某项工作的通知")
    assert finding.kind == "term"
    assert finding.text == written
    assert finding.severity == "block"
    assert finding.label == label
    assert finding.masked == "■" * len(written)


def test_a_secrecy_level_in_prose_is_only_a_warning() -> None:
    (finding,) = scan("涉及党和国家秘密的事项不予公开。")
    assert (finding.text, finding.severity, finding.label) == ("秘密", "warn", "涉密标识：秘密")


def test_a_secret_ballot_is_ordinary_language_and_not_reported() -> None:
    assert scan("选举采用无记名投票、秘密写票的方式，设秘密写票处。") == []
    assert scan("实行秘密投票。") == []


@pytest.mark.parametrize(
    "term", ["内部资料", "内部文件", "注意保存", "不得外传", "内部参考", "工作秘密", "敏感信息"]
)
def test_internal_markings_are_warnings(term: str) -> None:
    (finding,) = scan(f"本材料为{term}。")
    assert (finding.text, finding.severity) == (term, "warn")
    assert finding.label.endswith(f"：{term}")


def test_the_longest_term_wins() -> None:
    assert kinds("仅供领导参阅") == [("term", "仅供领导参阅")]
    assert [f.label for f in scan("属于工作秘密")] == ["内部标识：工作秘密"]


def test_it_reports_the_deployments_own_terms() -> None:
    findings = scan("明州港扩建项目的 Project X 方案", extra_terms=["明州港扩建", "project x", " "])
    assert [(f.text, f.label, f.severity) for f in findings] == [
        ("明州港扩建", "自定义敏感词：明州港扩建", "warn"),
        ("Project X", "自定义敏感词：project x", "warn"),
    ]
    assert scan("明州港扩建") == []


def test_a_deployment_term_that_is_built_in_keeps_the_built_in_label() -> None:
    assert [f.label for f in scan("内部资料", extra_terms=["内部资料"])] == ["内部标识：内部资料"]


def test_a_deployment_term_outranks_an_ordinary_word_exemption() -> None:
    assert [f.label for f in scan("秘密投票", extra_terms=["秘密投票"])] == [
        "自定义敏感词：秘密投票"
    ]


# --- Offsets in the original text ---------------------------------------------------------


def test_full_width_digits_are_found_with_offsets_in_the_original_text() -> None:
    text = "手机：１３８１２３４５６７８。"
    (finding,) = scan(text)
    assert (finding.start, finding.end) == (3, 14)
    assert finding.text == "１３８１２３４５６７８"
    assert finding.masked == "138****5678"


def test_offsets_stay_right_after_characters_that_expand_under_nfkc() -> None:
    text = "面积120㎡，⑽项，℡：13812345678，身份证" + fullwidth(VALID_ID)
    findings = scan(text)
    assert [f.kind for f in findings] == ["mobile", "id_card"]
    for f in findings:
        assert text[f.start : f.end] == f.text
    assert findings[1].text == fullwidth(VALID_ID)


def test_an_ideographic_space_inside_a_number_counts_as_a_space() -> None:
    text = "手机：138　1234　5678"
    (finding,) = scan(text)
    assert finding.text == "138　1234　5678"


# --- Redaction ----------------------------------------------------------------------------

ROSTER = (
    f"张三，身份证号{VALID_ID}，手机13812345678，工资卡{CARD_16}，"
    "邮箱zhangsan@example.com，办公电话010-62345678。本材料为内部资料。"
)


def test_it_finds_everything_in_a_roster_in_order() -> None:
    findings = scan(ROSTER)
    assert [f.kind for f in findings] == [
        "id_card",
        "mobile",
        "bank_card",
        "email",
        "landline",
        "term",
    ]
    assert findings == sorted(findings, key=lambda f: f.start)


def test_redacting_one_finding_leaves_the_others_untouched() -> None:
    findings = scan(ROSTER)
    mobile = next(f for f in findings if f.kind == "mobile")
    redacted = redact(ROSTER, [mobile])
    assert redacted == ROSTER.replace("13812345678", "138****5678")
    assert VALID_ID in redacted and CARD_16 in redacted


def test_redacting_everything_removes_every_sensitive_value() -> None:
    redacted = redact(ROSTER, scan(ROSTER))
    for value in [VALID_ID, "13812345678", CARD_16, "zhangsan@", "62345678", "内部资料"]:
        assert value not in redacted
    assert redacted.startswith("张三，身份证号110105********")
    assert scan(redacted) == []


def test_redacting_nothing_returns_the_text_unchanged() -> None:
    assert redact(ROSTER, []) == ROSTER


def test_redacting_after_the_text_changed_raises() -> None:
    findings = scan(ROSTER)
    edited = "（修改稿）" + ROSTER
    with pytest.raises(FindingMismatch):
        redact(edited, findings)
    with pytest.raises(ValueError, match="正文已更改"):
        redact(ROSTER[:20], findings)


def test_redacting_overlapping_findings_raises() -> None:
    a = Finding("term", 0, 4, "内部资料", "内部标识：内部资料", "warn", "■■■■")
    b = Finding("term", 2, 4, "资料", "自定义敏感词：资料", "warn", "■■")
    with pytest.raises(FindingMismatch):
        redact("内部资料", [a, b])


def test_the_same_finding_given_twice_is_redacted_once() -> None:
    (finding,) = scan("内部资料")
    assert redact("内部资料", [finding, finding]) == "■■■■"


def test_summary_counts_findings_per_label_in_order_of_appearance() -> None:
    text = "13812345678、13912345678，机密★1年，涉及秘密，内部资料"
    assert summary(scan(text)) == {
        "手机号码": 2,
        "涉密标识：机密": 1,
        "涉密标识：秘密": 1,
        "内部标识：内部资料": 1,
    }
    assert summary([]) == {}


# --- Properties ---------------------------------------------------------------------------

ids = st.builds(
    lambda region, day, seq, upper: (str.upper if upper else str.lower)(
        make_id(region, day.strftime("%Y%m%d"), f"{seq:03d}")
    ),
    st.sampled_from(["110105", "310104", "440305", "510104", "620102", "650102", "820000"]),
    st.dates(datetime.date(1900, 1, 1), datetime.date(2020, 12, 31)),
    st.integers(0, 999),
    st.booleans(),
)


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    number = draw(st.sampled_from("3456789").map(lambda d: f"1{d}")) + draw(
        st.text("0123456789", min_size=9, max_size=9)
    )
    style = draw(st.sampled_from(["{n}", "+86 {n}", "+86{n}", "0086 {n}", "{a} {b} {c}"]))
    return style.format(n=number, a=number[:3], b=number[3:7], c=number[7:])


cards = st.builds(
    lambda prefix, body: make_card(prefix + body),
    st.sampled_from(["62", "4", "5", "3"]),
    st.text("0123456789", min_size=14, max_size=16),
)
landlines = st.builds(
    lambda area, first, rest, style: style.format(a=area, n=f"{first}{rest:07d}"),
    st.sampled_from(["010", "021", "029"]),
    st.sampled_from("23456789"),
    st.integers(0, 10**7 - 1),
    st.sampled_from(["{a}-{n}", "({a}){n}", "{a} {n}", "（{a}）{n}"]),
)
emails = st.builds(
    lambda user, domain: f"{user}@{domain}",
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12).filter(
        lambda u: u[0].isalpha()
    ),
    st.sampled_from(["qq.com", "163.com", "example.org.cn"]),
)
sensitive = st.one_of(ids, mobiles(), cards, landlines, emails).flatmap(
    lambda v: st.sampled_from([v, fullwidth(v)])
)
prose = st.sampled_from(
    [
        "根据党务公开条例，现将有关情况公示如下：",
        "公示期为2025年3月1日至3月7日。",
        "京发〔2018〕12号",
        "共计13.5万元",
        "采用秘密写票",
        "内部资料",
        "机密★一年",
        "涉及国家秘密",
        "面积120㎡……",
        "⑽",
        "联系电话",
        "2018年",
        "＠",
        "密级：",
    ]
)
separators = st.sampled_from([" ", "-", "，", "\n", "　", "", "1", "X", "★", "@", ".", "8"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(sensitive, prose, separators), max_size=25))
def test_findings_are_sorted_never_overlap_and_point_at_their_text(parts: list[str]) -> None:
    text = "".join(parts)
    findings = scan(text)
    for f in findings:
        assert 0 <= f.start < f.end <= len(text)
        assert text[f.start : f.end] == f.text
    for a, b in itertools.pairwise(findings):
        assert a.end <= b.start
    expected = text
    for f in reversed(findings):
        expected = expected[: f.start] + f.masked + expected[f.end :]
        # ... and each one alone can be redacted, leaving the rest as it was
        assert redact(text, [f]) == text[: f.start] + f.masked + text[f.end :]
    assert redact(text, findings) == expected
    assert redact(text, []) == text


def digit_runs(text: str) -> list[str]:
    ascii_text = text.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ｘＸ"})
    return re.findall(r"[0-9Xx]+", ascii_text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(prose, sensitive), min_size=1, max_size=8))
def test_redacting_every_finding_leaves_no_sensitive_value(pairs: list[tuple[str, str]]) -> None:
    # Each value stands apart from the next (a comma between), as people write them.
    text = "，".join(f"{p}，{v}" for p, v in pairs)
    redacted = redact(text, scan(text))
    runs = digit_runs(redacted)
    for _, value in pairs:
        assert value not in redacted
        digits = "".join(digit_runs(value))
        if "@" not in value and "＠" not in value:
            assert not any(digits in run for run in runs)
