"""News pages (issue 19): a saved page's own text only, its metadata on every citation."""

from __future__ import annotations

from pathlib import Path

from tests.contract import assert_answer_contract

PAGES = Path(__file__).parent / "data" / "pages"
URL = "https://courier.example.org/news/2026/11/harbour-reopens"


def test_a_saved_page_is_answered_from_its_article_and_cites_its_address_and_date(make_bot):
    bot = make_bot()
    report = bot.ingest([PAGES / "courier-harbour.html"])
    assert report.added == 1 and not report.rejected
    [info] = bot.articles()
    assert (info.url, info.published, info.site, info.author) == (URL, "2026-11-30", "Coastline Courier", "Ana Ruiz")

    ans = bot.answer("When did the harbour of Port Lyle reopen?")
    assert_answer_contract(bot, ans)
    assert ans.answered and "reopened on Monday" in ans.citations[0].text
    assert {(c.url, c.published) for c in ans.citations} == {(URL, "2026-11-30")}

    for question in ("Do you use cookies?", "How do I get the latest headlines?"):  # the banner and the footer
        refused = bot.answer(question)
        assert not refused.answered and not refused.citations, refused.text

    dated = bot.answer("When was this reported?")
    assert dated.answered and "2026-11-30" in dated.text


def test_an_article_without_a_page_cites_no_address(bot):
    ans = bot.answer("Which gangs will the U.S. designate as terrorist organizations?")
    assert ans.answered and all(c.url is None and c.published is None for c in ans.citations)
