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


# --- pages and feeds by URL, from an HTTP server on 127.0.0.1 ------------------------------------------------------

import http.server  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from assistant.errors import InputError  # noqa: E402
from assistant.indexing.sources.fetch import check_url  # noqa: E402

STORY2 = """<html><head><title>Ferry timetable changes</title>
<link rel="canonical" href="{base}/news/2026/12/ferry-timetable">
<meta property="article:published_time" content="2026-12-01"></head><body>
<nav><a href="/">Home</a></nav><article><h1>Ferry timetable changes</h1>
<p>The winter ferry timetable to Lyle Island begins on Tuesday with one crossing a day.</p>
<p>The ferry operator said the morning crossing would leave at 8 o'clock.</p></article>
<footer>Sign up for our newsletter to get the latest headlines every morning.</footer></body></html>"""


def feed(*paths: str) -> str:
    items = "".join(f"<item><title>{p}</title><link>{{base}}{p}</link></item>" for p in paths)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Courier</title>{items}</channel></rss>'


class Site:
    """What the test server serves: path -> (status, content type, body, seconds to wait first)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes, float]] = {}
        self.base = ""
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)

    def put(self, path: str, body: str | bytes, ctype: str = "text/html; charset=utf-8", status: int = 200, wait=0.0):
        data = body.replace("{base}", self.base).encode() if isinstance(body, str) else body
        self.routes[path] = (status, ctype, data, wait)


def harbour() -> str:
    return (PAGES / "courier-harbour.html").read_text("utf-8").replace("https://courier.example.org", "{base}")


def story_id(path: str) -> str:
    return "127.0.0.1" + path.replace("/", "-")


@pytest.fixture
def site():
    pages = Site()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/story")
                self.end_headers()
                return
            status, ctype, body, wait = pages.routes.get(self.path, (404, "text/plain", b"not found", 0.0))
            time.sleep(wait)
            etag = f'"{hash(body)}"'
            pages.requests.append((self.path, self.headers.get("If-None-Match")))
            if status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("ETag", etag)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    pages.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pages.put("/story", harbour())  # both name their canonical address on the same host
    pages.put("/story2", STORY2)
    yield pages
    server.shutdown()
    thread.join(10)


@pytest.fixture
def web_bot(make_bot, settings):
    return make_bot(allow_private_urls=True, request_timeout=2.0)


def test_a_page_by_url_is_indexed_once_under_its_canonical_address_on_the_same_host(web_bot, site):
    report = web_bot.ingest([f"{site.base}/story"])
    assert report.added == 1 and not report.rejected
    [info] = web_bot.articles()
    canonical = f"{site.base}/news/2026/11/harbour-reopens"
    assert info.id == story_id("/news/2026/11/harbour-reopens") and info.url == canonical
    assert info.source == f"{site.base}/story"  # where it was read from
    again = web_bot.ingest([f"{site.base}/moved"])  # a redirect to the same page: unchanged, nothing written
    assert again.unchanged == 1 and again.added == again.updated == 0
    ans = web_bot.answer("Who inspected the main quay?")
    assert ans.answered and ans.citations[0].url == canonical and "Divers" in ans.citations[0].text


def test_a_feed_adds_every_item_and_a_failing_item_does_not_stop_the_others(web_bot, site):
    site.put("/feed.xml", feed("/story", "/story2", "/gone"), "application/rss+xml")
    report = web_bot.ingest([f"{site.base}/feed.xml"])
    assert report.added == 2
    assert [(r.path, "HTTP 404" in r.reason) for r in report.rejected] == [(f"{site.base}/gone", True)]
    assert {a.id for a in web_bot.articles()} == {
        story_id("/news/2026/11/harbour-reopens"),
        story_id("/news/2026/12/ferry-timetable"),
    }
    ans = web_bot.answer("When does the winter ferry timetable begin?")
    assert ans.answered and ans.citations[0].published == "2026-12-01"
    assert "newsletter" not in " ".join(c.text for c in ans.citations)


@pytest.mark.parametrize(
    ("path", "body", "ctype", "wait", "words"),
    [
        ("/big", "<p>" + "Long text. " * 200_000 + "</p>", "text/html", 0.0, "over the"),
        ("/slow", "<p>Late.</p>", "text/html", 4.0, "did not answer within 2 s"),
        ("/photo.png", b"\x89PNG\r\n", "image/png", 0.0, "is image/png, not a web page or a feed"),
        ("/broken", "oops", "text/html", 0.0, "answered HTTP 500"),
        ("/menu", "<html><body><nav><a href='/'>Home</a></nav></body></html>", "text/html", 0.0, "no article text"),
    ],
)
def test_bad_pages_are_rejected_with_the_reason_and_nothing_indexed_is_lost(
    make_bot, site, path, body, ctype, wait, words
):
    web_bot = make_bot(allow_private_urls=True, request_timeout=2.0, max_file_mb=1.0)
    web_bot.ingest([f"{site.base}/story"])
    site.put(path, body, ctype, status=500 if path == "/broken" else 200, wait=wait)
    report = web_bot.ingest([f"{site.base}{path}"])
    assert report.added == 0 and len(report.rejected) == 1 and words in report.rejected[0].reason
    assert [a.id for a in web_bot.articles()] == [story_id("/news/2026/11/harbour-reopens")]


def test_private_addresses_and_other_schemes_are_refused_by_default(make_bot, site):
    bot = make_bot()  # ASSISTANT_ALLOW_PRIVATE_URLS unset
    report = bot.ingest([f"{site.base}/story"])
    assert report.added == 0 and "127.0.0.1, a private or reserved address" in report.rejected[0].reason
    assert "ASSISTANT_ALLOW_PRIVATE_URLS=1" in report.rejected[0].reason
    for url, words in [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/x", "only http and https"),
        ("http://169.254.169.254/latest/meta-data", "private or reserved"),
        ("http://[::1]:8080/", "private or reserved"),
    ]:
        with pytest.raises(InputError, match=words):
            check_url(url, allow_private=False)
    assert not bot.articles()


def test_a_folder_rebuild_keeps_the_pages_added_by_url(web_bot, site, tmp_path):
    web_bot.ingest([f"{site.base}/story"])
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "note.txt").write_text("Note\nThe council met on Monday.", "utf-8")
    report = web_bot.rebuild(folder)
    assert report.added == 1 and report.removed == 0
    assert len(web_bot.articles()) == 2


def test_watch_feed_adds_new_items_polls_conditionally_and_goes_on_past_a_failing_feed(web_bot, site, capsys):
    from assistant.indexing.watch.feeds import FeedWatcher
    from assistant.indexing.watch.watch import watch

    site.put("/feed.xml", feed("/story"), "application/rss+xml")
    feeds = FeedWatcher(
        [f"{site.base}/broken.xml", f"{site.base}/feed.xml"], max_bytes=10**6, timeout=2.0, allow_private=True
    )
    reports = []
    rounds = iter(range(100))

    def next_round(_seconds: float) -> None:  # between polls the feed gains an item, once
        if next(rounds) == 0:
            site.put("/feed.xml", feed("/story2", "/story"), "application/rss+xml")

    watch(web_bot, None, 1.0, reports.append, max_rounds=3, sleep=next_round, feeds=feeds, every=0.0)
    assert [r.added for r in reports] == [1, 1]  # the story, then the new item only
    assert {a.id for a in web_bot.articles()} == {
        story_id("/news/2026/11/harbour-reopens"),
        story_id("/news/2026/12/ferry-timetable"),
    }
    feed_requests = [inm for path, inm in site.requests if path == "/feed.xml"]
    assert feed_requests[0] is None and feed_requests[-1] is not None  # later polls are conditional: 304
    assert [path for path, _ in site.requests].count("/story") == 1  # a known item is not fetched again
    out = capsys.readouterr().out
    assert out.count(f"error: feed {site.base}/broken.xml") == 3 and "tried again next time" in out


def test_the_web_chat_adds_a_page_by_url_and_its_source_pane_links_to_it(web_bot, site):
    from assistant.web import render
    from assistant.web.articles import ArticleHandlers
    from tests.test_web_handlers import Recorder

    toasts = Recorder()
    library = ArticleHandlers(web_bot, toasts)
    table, _, panel, box = library.add_url(f"  {site.base}/story ")
    assert "Harbour reopens after storm" in table and box == "" and "1 added" in panel["value"]
    assert toasts.infos and not toasts.warnings
    pane = render.source_view(web_bot.article(story_id("/news/2026/11/harbour-reopens")), 1)
    assert (
        f'href="{site.base}/news/2026/11/harbour-reopens"' in pane
        and "Coastline Courier" in pane
        and "2026-11-30" in pane
    )
    _, _, _, kept = library.add_url("courier.example.org/story")  # no scheme: a warning, the box kept as typed
    assert kept is not None and "https://" in toasts.warnings[-1]
    _, _, panel, kept = library.add_url(f"{site.base}/missing")
    assert "HTTP 404" in panel["value"] and kept == f"{site.base}/missing"


def test_a_page_address_that_is_not_http_is_never_a_link_in_the_source_pane():
    from assistant.records import StoredArticle
    from assistant.web import render

    article = StoredArticle("a", "T", "Rain fell.", "", "javascript:alert(1)", None, None, ())
    assert "href" not in render.source_view(article, None) and "javascript" not in render.source_view(article, None)


def test_a_changed_page_replaces_its_records_and_the_trace_names_the_sources(web_bot, site):
    assert web_bot.ingest([f"{site.base}/story"]).added == 1
    site.put("/story", harbour().replace("twice a day", "three times a day"))
    report = web_bot.ingest([f"{site.base}/story"])
    assert report.updated == 1 and report.added == 0 and len(web_bot.articles()) == 1
    ans = web_bot.answer("How often will ferries to Lyle Island run?")
    assert ans.answered and "three times a day" in ans.citations[0].text
    canonical = f"{site.base}/news/2026/11/harbour-reopens"
    assert [(s.url, s.published) for s in ans.trace.sources] == [(canonical, "2026-11-30")]
    assert ans.trace.to_dict()["sources"][0]["url"] == canonical


def test_assistant_ingest_url_on_the_command_line(site, tmp_path, monkeypatch, capsys):
    import json

    from assistant.cli.main import main

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ASSISTANT_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_ANSWERER", "extractive")
    assert main(["ingest", f"{site.base}/story"]) == 4  # refused: 127.0.0.1 is private by default
    assert "private or reserved address" in capsys.readouterr().out
    monkeypatch.setenv("ASSISTANT_ALLOW_PRIVATE_URLS", "1")
    assert main(["ingest", f"{site.base}/story"]) == 0
    assert main(["ask", "--json", "Who inspected the main quay?"]) == 0
    out = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert out["citations"][0]["url"] == f"{site.base}/news/2026/11/harbour-reopens"
    assert out["citations"][0]["published"] == "2026-11-30"
