from __future__ import annotations

from dwgk.disclosures import actions
from dwgk.disclosures.models import Disclosure
from dwgk.inbox.models import Task
from tests.disclosure_cast import OPINIONS, draft, published


def test_the_happy_path_publishes_to_the_branch(dw):
    item = published(dw)
    assert item.status == Disclosure.Status.PUBLISHED
    assert item.published_at is not None
    assert item.index_no == f"{dw.branch1.code}/{item.published_at.year}-00001"
    visible = Disclosure.objects.visible_to(dw.cast.charlie)
    assert item not in visible
    assert item in Disclosure.objects.visible_to(dw.cast.bob)


def test_review_task_goes_to_the_reviewer(dw):
    item = actions.disclosure_submit(draft(dw), actor=dw.bob)
    tasks = Task.objects.open().for_user(dw.rita)
    assert [t.kind for t in tasks] == ["review"]
    item = actions.disclosure_start_review(item, actor=dw.rita)
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    assert [t.kind for t in Task.objects.open().for_user(dw.cast.alice)] == ["approve"]


def test_the_body_keeps_structure_and_loses_script_styles_and_handlers(dw):
    item = draft(
        dw,
        body='<p onclick="steal()" style="color:red">党费<script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">链接</a><img src=x onerror=alert(1)>'
        "<table><tr><td>1,280元</td></tr></table>",
    )
    assert "script" not in item.body and "onclick" not in item.body
    assert "style" not in item.body and "javascript" not in item.body and "<img" not in item.body
    assert "<p>党费</p>" in item.body and "<td>1,280元</td>" in item.body


def test_text_typed_without_markup_keeps_its_lines_as_paragraphs(dw):
    item = draft(dw, body="第一段：收缴党费 1,280 元\n\n第二段：a < b & c")
    assert item.body == "<p>第一段：收缴党费 1,280 元</p><p>第二段：a &lt; b &amp; c</p>"


def test_the_reviewer_sees_each_finding_in_plain_words_around_it(dw):
    item = draft(
        dw, body="<p>联系电话 13905741234</p><ol><li>身份证号 330203199203151237</li></ol>"
    )
    rows = {f["label"]: f for f in actions.prescreen_item(item)}
    assert rows["手机号码"]["before"] == "联系电话"
    assert rows["手机号码"]["after"] == "身份证号 3302031"
    assert rows["居民身份证号码"]["masked"] == "330203********1237"
    assert all("<" not in f["before"] + f["after"] for f in rows.values())
