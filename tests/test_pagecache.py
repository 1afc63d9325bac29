"""The server-side cache of anonymous public pages (dwgk.public.pagecache): a second
anonymous visit is answered from the cache with one query; every change to what may be
shown — a step of an item in this process, a change committed by another process, a
successful POST — makes the cached pages stale at once; signed-in people, visitors with a
session and answers other than 200 never touch it; a cached form carries tokens made for
each visitor.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from dwgk.disclosures import actions
from dwgk.disclosures.models import Disclosure
from dwgk.feedback.forms import issue_token, token_problem
from dwgk.feedback.models import Opinion
from dwgk.lib.context_processors import LARGE_TYPE_COOKIE
from dwgk.public import pagecache
from dwgk.public.models import PageStamp
from tests.cast import make_member
from tests.disclosure_cast import draft, through_review

HOME = reverse("public:home")
TITLE = "2027年支部工作计划"


def society_item(dw: Any, title: str = TITLE) -> Disclosure:
    item = through_review(dw, draft(dw, entry=dw.open, title=title))
    return actions.disclosure_publish(item, actor=dw.bob)


def item_url(item: Disclosure) -> str:
    return reverse("disclosures:detail", args=[item.pk])


def column_url(dw: Any) -> str:
    return reverse("public:org", args=[dw.branch1.pk])


def get(client: Client, url: str) -> tuple[str, int]:
    """The page and the number of queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode(), len(queries)


def cached_pages() -> int:
    return len(caches[pagecache.CACHE_ALIAS]._cache)  # type: ignore[attr-defined]


@pytest.mark.parametrize("page", ["home", "column", "item", "search"])
def test_a_second_anonymous_visit_is_answered_from_the_cache_with_one_query(dw, page):
    item = society_item(dw)
    url = {
        "home": HOME,
        "column": column_url(dw),
        "item": item_url(item),
        "search": reverse("public:search") + "?" + urlencode({"q": "工作计划"}),
    }[page]
    first, rendered_queries = get(Client(), url)
    second, cached_queries = get(Client(), url)
    assert TITLE in strip_tags(first)  # (search marks the words it found)
    assert rendered_queries > 1
    assert cached_queries == 1  # the page stamp
    # the same page, but for the per-answer tokens
    token = re.compile(r'name="(csrfmiddlewaretoken|token)" value="[^"]*"')
    assert token.sub("", first) == token.sub("", second)


def test_a_step_of_an_item_in_this_process_makes_cached_pages_stale_at_once(dw):
    item = society_item(dw)
    client = Client()
    assert TITLE in get(client, HOME)[0]
    assert TITLE in get(client, item_url(item))[0]
    actions.disclosure_withdraw(item, actor=dw.alice, notice="内容有误，予以撤回并更正。")
    item_page, queries = get(client, item_url(item))
    assert queries > 1  # rendered again
    assert "已撤回" in item_page and "内容有误，予以撤回并更正。" in item_page
    newly = society_item(dw, title="2027年第一季度主题党日安排")
    assert "2027年第一季度主题党日安排" in get(client, HOME)[0]
    assert newly.pk


def test_a_change_committed_by_another_process_reaches_this_one_through_the_stamp(dw):
    item = society_item(dw)
    client = Client()
    assert TITLE in get(client, item_url(item))[0]
    # Another worker process changes the item: this process's cache is not cleared ...
    Disclosure.objects.filter(pk=item.pk).update(title="2027年支部工作计划（修订）")
    page, queries = get(client, item_url(item))
    assert "（修订）" not in page and queries == 1  # ... so the old page is still served
    # ... until that process's commit raises the stamp.
    pagecache._bump_now()
    page, queries = get(client, item_url(item))
    assert "2027年支部工作计划（修订）" in page and queries > 1


def test_the_stamp_goes_up_when_a_step_commits_and_after_a_successful_post(
    dw, django_capture_on_commit_callbacks
):
    before = pagecache.current_stamp()
    with django_capture_on_commit_callbacks(execute=True):
        item = society_item(dw)
    after_step = pagecache.current_stamp()
    assert after_step > before
    data = {
        "text": "建议把工作计划的时间节点写得更具体一些。",
        "homepage": "",
        "token": issue_token(item.pk, now=time.time() - 60),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(reverse("feedback:submit", args=[item.pk]), data)
    assert response.status_code == 302
    assert Opinion.objects.filter(disclosure=item).count() == 1
    assert pagecache.current_stamp() > after_step


def test_many_steps_in_one_transaction_raise_the_stamp_once(dw, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for _ in range(3):
            pagecache.bump()
    assert callbacks.count(pagecache._bump_now) == 1


def test_a_raise_dropped_with_its_savepoint_is_registered_again(
    dw, django_capture_on_commit_callbacks
):
    before = pagecache.current_stamp()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                pagecache.bump()
                raise RuntimeError("step failed")
        except RuntimeError:
            pass
        pagecache.bump()  # the raise above went with its savepoint: this one counts
    assert pagecache.current_stamp() == before + 1


def test_a_refused_post_leaves_the_stamp_alone(dw, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        society_item(dw)
    stamp = pagecache.current_stamp()
    client = Client()
    client.force_login(dw.charlie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("disclosures:submit", args=[999999]))
    assert response.status_code == 404
    assert pagecache.current_stamp() == stamp


def test_signed_in_people_are_never_served_or_stored(dw):
    item = society_item(dw)
    get(Client(), item_url(item))
    stored = cached_pages()
    dave = make_member("dave", dw.branch1, name="戴夫")
    client = Client()
    client.force_login(dave)
    page, queries = get(client, item_url(item))
    assert "戴夫" in page  # their own navigation bar, not the anonymous page
    assert queries > 1
    get(client, HOME)
    assert cached_pages() == stored


def test_a_visitor_with_a_session_or_a_message_is_rendered_for(dw, settings):
    item = society_item(dw)
    get(Client(), item_url(item))
    for cookie in (settings.SESSION_COOKIE_NAME, "messages"):
        client = Client()
        client.cookies[cookie] = "x"
        assert get(client, item_url(item))[1] > 1


def test_only_200_answers_are_stored(dw):
    hidden = draft(dw, title="尚未提出的草稿")
    client = Client()
    for _ in range(2):
        assert client.get(item_url(hidden)).status_code == 404
    assert client.get(reverse("public:org", args=[999999])).status_code == 404
    assert cached_pages() == 0


def test_not_yet_published_items_are_not_in_the_cached_pages(dw):
    society_item(dw)
    waiting = through_review(dw, draft(dw, entry=dw.open, title="已审核待发布的事项"))
    client = Client()
    for url in (HOME, column_url(dw), HOME, column_url(dw)):
        assert "已审核待发布的事项" not in get(client, url)[0]
    assert client.get(item_url(waiting)).status_code == 404


def test_large_type_is_cached_apart(dw):
    society_item(dw)
    plain = Client()
    large = Client()
    large.cookies[LARGE_TYPE_COOKIE] = "1"
    plain_page = get(plain, HOME)[0]
    large_page, queries = get(large, HOME)
    assert queries > 1  # not the plain page
    assert large_page != plain_page
    assert get(large, HOME)[1] == 1
    assert get(plain, HOME) == (plain_page, 1)


def test_a_cached_opinion_form_works_for_each_visitor_with_their_own_tokens(dw):
    item = society_item(dw)
    first = Client(enforce_csrf_checks=True)
    second = Client(enforce_csrf_checks=True)
    pages = [get(first, item_url(item)), get(second, item_url(item))]
    assert pages[1][1] == 1  # the second visitor got the cached page
    field = re.compile(r'name="(csrfmiddlewaretoken|token)" value="([^"]*)"')
    values = [dict(field.findall(page)) for page, _ in pages]
    assert values[0]["csrfmiddlewaretoken"] != values[1]["csrfmiddlewaretoken"]
    token = values[1]["token"]
    assert "\x00" not in token and token_problem(token, item.pk, now=time.time() + 60) == (
        "",
        False,
    )
    # the form's timestamp is this visitor's: too fast is still too fast
    assert token_problem(token, item.pk)[0].startswith("提交过快")
    for client, value in zip((first, second), values, strict=True):
        response = client.post(
            reverse("feedback:submit", args=[item.pk]),
            {
                "csrfmiddlewaretoken": value["csrfmiddlewaretoken"],
                "token": value["token"],
                "text": "建议把工作计划的时间节点写得更具体一些。",
                "homepage": "",
            },
        )
        assert response.status_code in (200, 400)  # CSRF passed (a 403 would fail here)
        assert response.status_code != 403
    assert Opinion.objects.filter(disclosure=item).count() == 0  # both were "too fast"


def test_a_cached_answer_carries_the_headers_of_a_rendered_one(dw):
    item = society_item(dw)
    for url in (HOME, item_url(item)):
        rendered = Client().get(url)
        with CaptureQueriesContext(connection) as queries:
            cached = Client().get(url)
        assert len(queries) == 1  # answered before the session and authentication run
        assert cached.content != b"" and len(cached.content) == int(cached["Content-Length"])
        skipped = {"ETag", "Set-Cookie", "Content-Length"}  # of this answer, made anew
        assert {k: v for k, v in rendered.items() if k not in skipped} == {
            k: v for k, v in cached.items() if k not in skipped
        }
        assert cached["X-Frame-Options"] == "DENY"
        assert "Content-Security-Policy" in cached
        assert cached.has_header("ETag")


def test_a_cached_form_is_private_and_made_for_the_visitors_own_csrf_cookie(dw):
    item = society_item(dw)
    get(Client(), item_url(item))  # rendered and stored
    visitor = Client(enforce_csrf_checks=True)
    visitor.get(HOME)  # a page without a form: no CSRF cookie yet
    assert settings.CSRF_COOKIE_NAME not in visitor.cookies
    page = visitor.get(item_url(item))
    assert page["Cache-Control"] == "private, no-cache"
    cookie = visitor.cookies[settings.CSRF_COOKIE_NAME].value
    again = visitor.get(item_url(item))
    assert visitor.cookies[settings.CSRF_COOKIE_NAME].value == cookie  # theirs, kept
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', again.content.decode())
    assert token is not None
    response = visitor.post(
        reverse("feedback:submit", args=[item.pk]),
        {"csrfmiddlewaretoken": token.group(1), "text": "建议。", "homepage": "", "token": ""},
    )
    assert response.status_code != 403  # the token matches the cookie the visitor holds


def test_an_answer_that_sets_a_cookie_of_its_own_is_not_stored():
    answer = HttpResponse("<p>您好</p>")
    answer.set_cookie("seen", "1")
    assert pagecache._store(answer) is None
    answer = HttpResponse('<input name="csrfmiddlewaretoken" value="abc">')
    answer.set_cookie(settings.CSRF_COOKIE_NAME, "secret")  # the renderer's own, made anew
    stored = pagecache._store(answer)
    assert stored is not None and b"\x00csrfmiddlewaretoken\x00abc\x00" in stored[0]


def test_only_public_pages_read_the_stamp(dw):
    item = society_item(dw)
    for url, public in (
        (reverse("login"), False),
        ("/no/such/page/", False),
        (HOME, True),
        (item_url(item), True),
    ):
        with CaptureQueriesContext(connection) as queries:
            Client().get(url)
        reads = [q["sql"] for q in queries.captured_queries if "public_pagestamp" in q["sql"]]
        assert bool(reads) is public, url


def test_a_page_the_same_for_everyone_keeps_its_etag_and_one_with_tokens_does_not(dw):
    item = society_item(dw)
    rendered, cached = Client().get(HOME), Client().get(HOME)
    assert rendered["ETag"] == cached["ETag"]
    again = Client().get(HOME, HTTP_IF_NONE_MATCH=cached["ETag"])
    assert again.status_code == 304
    first, second = Client().get(item_url(item)), Client().get(item_url(item))
    assert first["ETag"] != second["ETag"]  # each answer carries its own tokens
    assert Client().get(item_url(item), HTTP_IF_NONE_MATCH=second["ETag"]).status_code == 200


def test_a_process_reads_the_stamp_at_most_once_a_second(dw, settings, monkeypatch):
    settings.PAGE_STAMP_MS = 1000
    clock = [1000.0]
    monkeypatch.setattr(pagecache, "_clock", lambda: clock[0])
    item = society_item(dw)
    client = Client()
    get(client, item_url(item))  # rendered and stored, the stamp read
    assert get(client, item_url(item))[1] == 0  # within the second: no query at all
    # Another process commits a change: this one sees it once its second is over.
    Disclosure.objects.filter(pk=item.pk).update(title="2027年支部工作计划（修订）")
    PageStamp.objects.update_or_create(
        pk=pagecache.STAMP_PK, defaults={"value": pagecache._read_stamp() + 1}
    )
    clock[0] += 0.5
    assert "（修订）" not in get(client, item_url(item))[0]
    clock[0] += 0.6
    page, queries = get(client, item_url(item))
    assert "2027年支部工作计划（修订）" in page and queries > 1


def test_the_process_that_makes_a_change_sees_it_at_once_whatever_the_interval(
    dw, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PAGE_STAMP_MS = 1000
    monkeypatch.setattr(pagecache, "_clock", lambda: 1000.0)  # time stands still
    item = society_item(dw)
    client = Client()
    get(client, item_url(item))
    assert get(client, item_url(item))[1] == 0
    with django_capture_on_commit_callbacks(execute=True):
        actions.disclosure_withdraw(item, actor=dw.alice, notice="内容有误，予以撤回并更正。")
    item_page, queries = get(client, item_url(item))
    assert queries > 1 and "内容有误，予以撤回并更正。" in item_page
