"""News pages by URL (issue 19). Run: .venv/bin/python -m benchmarks.bench_news [--write]

20 pages written here (not collected from the web): the 10 CNN stories of `eval/coqa_cnn_dev.docs.jsonl`
(Apache-2.0) each set in two of five site layouts (a classic news site, a blog, a magazine, a wire
service, a local paper), every layout with its own navigation, cookie banner, share bar, related links,
newsletter box, comments or footer. They are served from 127.0.0.1 and added with `Assistant.ingest(URL)`.
Measures, per page and in all: the share of the story's sentences that reach the index, the share of the
layout's boilerplate lines that reach it, and fetch-and-index time on this machine.
Prints the figures; --write writes docs/results/news.json and the "news" section of docs/news.md.
"""

from __future__ import annotations

import argparse
import html
import http.server
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from assistant.indexing.parse.loaders import normalise  # noqa: E402
from assistant.indexing.parse.sentences import split_sentences  # noqa: E402
from assistant.indexing.parse.web_sources import url_id  # noqa: E402
from assistant.records import Article  # noqa: E402
from benchmarks.common import write_section  # noqa: E402

LAYOUTS = {
    "news site": {
        "top": [
            "We use cookies to personalise content and ads. Accept all cookies",
            "Home News World Business Sport Culture Weather",
            "Breaking: markets close higher after a volatile day",
        ],
        "bottom": [
            "Share this story on Facebook Twitter Email",
            "Related stories: Five things to know this week",
            "Sign up for our daily newsletter to get the top stories every morning.",
            "© 2026 Daily Herald. All rights reserved. Terms of use. Privacy policy.",
        ],
    },
    "blog": {
        "top": ["Skip to content", "Menu About Archive Contact Subscribe"],
        "bottom": [
            "Posted in World News | Tagged politics, courts | 14 comments",
            "Leave a reply. Your email address will not be published.",
            "Recent posts: Notes from the road, Why I moved the blog",
            "Powered by a blogging platform. Theme by someone.",
        ],
    },
    "magazine": {
        "top": [
            "Subscribe now and get 12 issues for the price of 6",
            "Politics Ideas Science Culture Podcasts",
        ],
        "bottom": [
            "Most read: The quiet revolution in city planning",
            "More from this author: An interview with the minister",
            "Get our weekly briefing in your inbox. Sign up today.",
            "Advertisement",
            "The Monthly Review is published by Review Media Ltd.",
        ],
    },
    "wire service": {
        "top": ["Wire Top stories Markets Technology", "Reporting by staff; editing by the desk"],
        "bottom": [
            "Our standards: The Trust Principles.",
            "Read next: Central bank holds rates steady",
            "All quotes delayed a minimum of 15 minutes.",
        ],
    },
    "local paper": {
        "top": [
            "Log in Register",
            "Weather: 12°C, light rain",
            "Obituaries Classifieds Events Jobs",
        ],
        "bottom": [
            "Comments (3): Great story! Posted by reader42",
            "Have a story? Contact the newsroom at news@localpaper.example",
            "Trending now: Road closures this weekend",
            "Local Paper is part of the County Media Group.",
        ],
    },
}


KINDS = {  # the class names sites give such boxes (a box whose class says nothing is measured too: --plain-boxes)
    "share": "share-tools",
    "related": "related-stories",
    "newsletter": "newsletter-signup",
    "sign up": "newsletter-signup",
    "comment": "comments",
    "reply": "comment-respond",
    "posted in": "entry-meta",
    "advert": "advertisement",
    "most read": "most-read",
    "more from": "related-stories",
    "read next": "read-next",
    "standards": "footer-links",
    "trending": "trending",
    "story?": "contact-box",
}


def box_class(line: str, named: bool) -> str:
    if not named:
        return "box"
    low = line.lower()
    return next((css for key, css in KINDS.items() if key in low), "box")


def page(story: dict, layout: str, n: int, named: bool = True) -> tuple[str, list[str], list[str]]:
    """(the page's HTML, the story's paragraphs, the layout's boilerplate lines)."""
    text = normalise(story["text"])
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    sentences = [x.text for x in split_sentences(Article(f"s{n}", "", text, ""))]
    title = sentences[0][:80].rstrip(" ,.;") if sentences else f"Story {n}"
    parts = LAYOUTS[layout]
    slug = f"story-{n:02d}"
    # Boilerplate where sites put it, not only in <header>/<footer>: plain <div>s around the article, and two boxes
    # (a share bar, a related link, a newsletter box ...) inside the article, after its second paragraph.
    top = "".join(f'<div class="top-{i}">{html.escape(line)}</div>' for i, line in enumerate(parts["top"]))
    inside, outside = parts["bottom"][:2], parts["bottom"][2:]
    boxes = "".join(f'<div class="{box_class(line, named)}"><p>{html.escape(line)}</p></div>' for line in inside)
    paras = [f"<p>{html.escape(p)}</p>" for p in paragraphs]
    body = "".join(paras[:2]) + boxes + "".join(paras[2:])
    bottom = "".join(f'<div class="{box_class(line, named)}">{html.escape(line)}</div>' for line in outside)
    doc = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | {layout}</title>'
        f'<link rel="canonical" href="https://{layout.replace(" ", "")}.example.org/2026/12/{slug}">'
        f'<meta property="og:site_name" content="{layout.title()}">'
        f'<meta property="article:published_time" content="2026-12-0{1 + n % 5}T09:00:00Z"></head>'
        f'<body>{top}<div class="page"><div class="story"><h1>{html.escape(title)}</h1>'
        f'<p class="byline">By Staff Writer</p>{body}</div>{bottom}</div></body></html>'
    )
    return doc, sentences, parts["top"] + parts["bottom"]


def words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--plain-boxes", action="store_true", help="boxes whose class names say nothing")
    args = parser.parse_args()
    stories = [json.loads(line) for line in (ROOT / "eval" / "coqa_cnn_dev.docs.jsonl").open(encoding="utf-8")]
    routes: dict[str, bytes] = {}
    truth: dict[str, tuple[str, list[str], list[str]]] = {}
    names = list(LAYOUTS)
    for n in range(20):
        layout = names[n % len(names)]
        doc, sentences, boilerplate = page(stories[n % len(stories)], layout, n, named=not args.plain_boxes)
        routes[f"/p{n}"] = doc.encode("utf-8")
        truth[f"/p{n}"] = (layout, sentences, boilerplate)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = routes.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    rows = []
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    with tempfile.TemporaryDirectory() as tmp:
        bot = Assistant(
            settings=Settings.from_env(
                env={"ASSISTANT_ANSWERER": "extractive"}, index_dir=str(Path(tmp) / "index"), allow_private_urls=True
            )
        )
        bot.ingest([ROOT / "articles"])  # the embedder loaded and the index opened before timing
        for path, (layout, sentences, boilerplate) in truth.items():
            started = time.perf_counter()
            report = bot.ingest([f"{base}{path}"])
            seconds = time.perf_counter() - started
            assert report.added == 1, report.rejected
            # the canonical address names another host than 127.0.0.1: the page is stored under its own address
            [info] = [a for a in bot.articles() if a.id == url_id(f"{base}{path}")]
            stored = bot.article(info.id)
            indexed = words(" ".join(s.text for s in split_sentences(Article(info.id, "", stored.text, ""))))
            kept = sum(1 for s in sentences if words(s) and words(s) in indexed)
            leaked = [b for b in boilerplate if words(b) in indexed]
            rows.append(
                {
                    "page": path,
                    "layout": layout,
                    "sentences": len(sentences),
                    "kept": kept,
                    "boilerplate": len(boilerplate),
                    "leaked": leaked,
                    "seconds": seconds,
                    "published": info.published,
                    "site": info.site,
                }
            )
            print(f"{path} {layout:13} kept {kept}/{len(sentences)} leaked {len(leaked)} {seconds:.2f} s", flush=True)
    server.shutdown()
    total_sentences = sum(r["sentences"] for r in rows)
    total_boiler = sum(r["boilerplate"] for r in rows)
    result = {
        "machine": f"{os.cpu_count()} cores, no GPU, {platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "load": load,
        "pages": len(rows),
        "sentences_kept": sum(r["kept"] for r in rows) / total_sentences,
        "boilerplate_leaked": sum(len(r["leaked"]) for r in rows) / total_boiler,
        "seconds_p50": statistics.median(r["seconds"] for r in rows),
        "seconds_max": max(r["seconds"] for r in rows),
        "with_date": sum(1 for r in rows if r["published"]) / len(rows),
        "boxes": "class names that say nothing" if args.plain_boxes else "the class names sites give them",
        "rows": rows,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    if args.write and not args.plain_boxes:
        (ROOT / "docs" / "results" / "news.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        write_section(ROOT / "docs" / "news.md", "news", render(result), "News pages and feeds")


def render(r: dict) -> str:
    lines = [
        f"Measured {r['date']} on {r['machine']}, load average {r['load']} (`benchmarks/bench_news.py`).",
        "",
        "| measure | result |",
        "|---|---|",
        f"| pages (5 layouts, 4 pages each; boxes with {r['boxes']}) | {r['pages']} |",
        f"| the story's sentences that reach the index | {r['sentences_kept']:.1%} |",
        f"| the layout's boilerplate lines that reach the index | {r['boilerplate_leaked']:.1%} |",
        f"| pages whose date is stored | {r['with_date']:.0%} |",
        f"| fetch and index one page, p50 / max | {r['seconds_p50']:.2f} s / {r['seconds_max']:.2f} s |",
        "",
        "| layout | sentences kept | boilerplate lines that leaked |",
        "|---|---|---|",
    ]
    for layout in LAYOUTS:
        rows = [x for x in r["rows"] if x["layout"] == layout]
        kept = sum(x["kept"] for x in rows)
        total = sum(x["sentences"] for x in rows)
        leaked = sorted({line for x in rows for line in x["leaked"]})
        lines.append(f"| {layout} | {kept}/{total} | {'; '.join(leaked) or 'none'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
