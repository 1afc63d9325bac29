"""Search against plain substring matching on random Chinese texts.

Texts come from a few characters, so that 2–4 character terms hit often, with punctuation,
spaces and Latin pieces in between so that phrases meet gaps. For every drawn term the
search must find exactly the visible items whose text contains it, on both databases.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dwgk.disclosures.models import Disclosure
from dwgk.search.backend import get_backend
from dwgk.search.text import normalize
from tests.test_search import make_item

ALPHABET = "党费换届选举公示党费换届" + "，。 、" + "a1"
texts = st.text(alphabet=ALPHABET, min_size=0, max_size=40)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    docs=st.lists(st.tuples(texts, st.booleans()), min_size=1, max_size=8),
    data=st.data(),
)
def test_search_finds_exactly_the_visible_items_containing_the_term(dw: Any, docs, data):
    Disclosure.objects.all().delete()  # the fixture's world lives on between examples
    items = [
        make_item(dw, f"t{n}", f"<p>{text}</p>", society=society, n=n)
        for n, (text, society) in enumerate(docs)
    ]
    source = data.draw(st.sampled_from(docs))[0]
    size = data.draw(st.integers(2, 4))
    start = data.draw(st.integers(0, max(0, len(source) - size)))
    term = normalize(source[start : start + size]) or "党费"
    if len(term) < 2 or not all(ch in "党费换届选举公示" for ch in term):
        term = data.draw(st.sampled_from(["党费", "换届", "换届选举", "费换届", "公示党费"]))
    for user, sees_party in ((dw.bob, True), (dw.charlie, False)):
        expected = {
            item.pk
            for item, (text, society) in zip(items, docs, strict=True)
            if (society or sees_party) and term in normalize(text)
        }
        page = get_backend().search(user, term, limit=100)
        assert {r.disclosure_id for r in page.results} == expected, (term, docs)
        assert get_backend().count(user, term) == len(expected)
