"""HTML for the web chat. Every piece of article, question or answer text is `html.escape`d here.

Gradio 6's `gr.HTML` does not sanitise and `gr.Chatbot` still renders tags, so nothing reaches
either without passing through `esc`. Citations link to their sentence with an
`href="#aa-src/<article id>/<sentence index>"` (the chatbot's sanitiser keeps `href` and `class`
but drops `data-*`); `SOURCE_JS` catches clicks on those links and asks the server for the
article with that sentence highlighted.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from assistant.records import MARKER, Answer, ArticleInfo, Citation, IngestReport, JSONObject, JSONValue, StoredArticle


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _inline(text: str) -> str:
    """Escaped text on one line: a blank line would end the chatbot's HTML block and start Markdown."""
    return esc(text).replace("\r", "").replace("\n", "<br>")


def cite_href(c: Citation) -> str:
    return f"#aa-src/{quote(c.article_id, safe='')}/{int(c.sentence_index)}"


def _sentence_label(c: Citation) -> str:
    return f"{c.title}, sentence {c.sentence_index + 1}"


# ---- chat messages
def user_message(question: str, about: str | None = None) -> str:
    """The question; when it was asked about one article, that article's title under it."""
    scope = f'<div class="aa-q-scope">about: {esc(about)}</div>' if about else ""
    return f'<div class="aa-question">{_inline(question)}</div>{scope}'


def partial_answer(text: str) -> str:
    return f'<div class="aa-answer aa-streaming">{_inline(text)}<span class="aa-cursor">▍</span></div>'


def answer_message(ans: Answer) -> str:
    if not ans.answered:
        said = re.sub(r"^the articles don't say\W*", "", ans.text.strip(), flags=re.I) or ans.text
        return (
            '<div class="aa-notfound"><div class="aa-notfound-h">The articles don\'t say</div>'
            f'<div class="aa-notfound-t">{_inline(said[:1].upper() + said[1:])}</div>'
            '<div class="aa-notfound-hint">Try other words, or add an article that covers it.</div></div>'
        )
    body = _with_markers(ans.text, ans.citations)
    items = "".join(
        f'<li><a class="aa-cite" href="{cite_href(c)}" title="Show in the article">'
        f'<span class="aa-cite-n">[{n}]</span> <span class="aa-cite-title">{esc(c.title)}</span>'
        f'<span class="aa-cite-where">, sentence {c.sentence_index + 1}</span>'
        f'<span class="aa-cite-text">“{esc(c.text)}”</span></a></li>'
        for n, c in enumerate(ans.citations, 1)
    )
    sources = f'<div class="aa-sources"><div class="aa-sources-h">Sources</div><ol>{items}</ol></div>'
    return f'<div class="aa-answer">{body}</div>{sources if items else ""}'


def _with_markers(text: str, citations: Sequence[Citation]) -> str:
    """Escaped answer text whose `[n]` markers link to their sentence."""
    out, pos = [], 0
    for match in MARKER.finditer(text):
        out.append(_inline(text[pos : match.start()]))
        n = int(match.group(1))
        if 1 <= n <= len(citations):
            c = citations[n - 1]
            out.append(f'<a class="aa-marker" href="{cite_href(c)}" title="{esc(_sentence_label(c))}">[{n}]</a>')
        else:
            out.append(esc(match.group(0)))
        pos = match.end()
    out.append(_inline(text[pos:]))
    return "".join(out)


def error_message(message: str) -> str:
    return f'<div class="aa-error">No answer: {_inline(message)}</div>'


def api_text(ans: Answer) -> str:
    """What `/chat` returns: the answer with its markers, then one line per citation."""
    if not ans.citations:
        return ans.text
    lines = [ans.text, "", "Sources:"]
    lines += [f'[{n}] {_sentence_label(c)}: "{c.text}"' for n, c in enumerate(ans.citations, 1)]
    return "\n".join(lines)


# ---- source pane
SOURCE_EMPTY = (
    '<div class="aa-source-empty">Click a citation or a marker like [1] to read the sentence in its article.</div>'
)


def scope_line(title: str | None, count: int) -> str:
    """What the next question is about: one article, or all of them."""
    if title is None:
        return f'<div class="aa-scope-line">Asking about <b>all {count} articles</b>.</div>'
    return (
        f'<div class="aa-scope-line">Asking about <b>{esc(title)}</b> only. Pick "All articles" to ask '
        "about every article.</div>"
    )


def source_view(article: StoredArticle, sentence_index: int | None) -> str:
    """The article's text with every sentence in a span and the cited one (if any) in a <mark>."""
    text, pos, parts = article.text, 0, []
    for s in article.sentences:
        if s.start < pos:
            continue
        parts.append(esc(text[pos : s.start]))
        tag = "mark" if s.index == sentence_index else "span"
        cls = "aa-s aa-hl" if s.index == sentence_index else "aa-s"
        parts.append(f'<{tag} class="{cls}" data-sentence="{s.index}">{esc(text[s.start : s.end])}</{tag}>')
        pos = s.end
    parts.append(esc(text[pos:]))
    found = sentence_index is None or any(s.index == sentence_index for s in article.sentences)
    note = (
        "" if found else f'<p class="aa-error">Sentence {(sentence_index or 0) + 1} is no longer in this article.</p>'
    )
    showing = "the whole article" if sentence_index is None else f"showing sentence {sentence_index + 1}"
    url = article.url or ""
    where = (  # a page: its site and a link to it (http(s) only; escaped like everything else)
        f'<a class="aa-doc-link" href="{esc(url)}" target="_blank" rel="noopener noreferrer nofollow">'
        f"{esc(article.site or url)}</a>"
        if url.lower().startswith(("http://", "https://"))
        else esc(Path(article.source or article.id).name)
    )
    dated = f" · {esc(article.published)}" if article.published else ""
    return (
        f'<article class="aa-doc"><div class="aa-doc-head"><h3 class="aa-doc-title">{esc(article.title)}</h3>'
        f'<div class="aa-doc-meta">{where}{dated} · '
        f"{len(article.sentences)} sentences · {showing}</div></div>{note}"
        f'<div class="aa-doc-body">{"".join(parts)}</div></article>'
    )


def source_error(message: str) -> str:
    return f'<div class="aa-error">{esc(message)}</div>'


# ---- articles panel
def articles_table(infos: Iterable[ArticleInfo]) -> str:
    rows = "".join(
        f'<tr><td class="aa-art-title">{esc(a.title)}<div class="aa-art-id">{esc(a.id)}</div></td>'
        f'<td class="aa-num">{a.sentences}</td></tr>'
        for a in infos
    )
    if not rows:
        return '<div class="aa-source-empty">No articles yet: upload one below.</div>'
    return f'<table class="aa-articles"><thead><tr><th>Article</th><th>Sentences</th></tr></thead>{rows}</table>'


def backend_info(backend: str, index: str, embedding: str, why: str = "") -> str:
    reason = f' <span class="aa-why">({esc(why)})</span>' if why else ""
    return (
        f'<div class="aa-backend"><div><b>Answers:</b> {esc(backend)}{reason}</div>'
        f"<div><b>Embeddings:</b> {esc(embedding)}</div><div><b>Index:</b> <code>{esc(index)}</code></div></div>"
    )


def ingest_result(report: IngestReport, refused: Sequence[tuple[str, str]]) -> str:
    lines = [f"<div>{esc(report.summary())} ({report.seconds:.1f} s)</div>"]
    lines += [f'<div class="aa-error">{esc(name)}: {esc(reason)}</div>' for name, reason in refused]
    return '<div class="aa-ingest">' + "".join(lines) + "</div>"


# ---- trace
def trace_view(trace: JSONObject) -> str:
    if not trace:
        return '<div class="aa-source-empty">Ask a question to see how its answer was found.</div>'
    parts = [f'<div class="aa-trace"><p><b>Standalone question:</b> {esc(trace.get("standalone_question", ""))}</p>']
    decision = trace.get("decision")
    parts.append(
        f"<p><b>Backend:</b> {esc(trace.get('backend', ''))} · <b>Decision:</b> "
        f"{esc(_compact(decision))} · {esc(trace.get('latency_ms', '?'))} ms</p>"
    )
    passages = _rows(trace.get("passages"))
    if passages:
        rows = "".join(
            f"<tr><td class='aa-num'>{esc(p.get('score'))}</td><td class='aa-num'>{esc(p.get('dense'))}</td>"
            f"<td class='aa-num'>{esc(p.get('bm25'))}</td><td>{esc(p.get('title'))} "
            f"<span class='aa-art-id'>sentences {esc(_range(p.get('sentences')))}</span>"
            f"<div class='aa-passage'>{esc(p.get('text', ''))}</div></td></tr>"
            for p in passages
        )
        parts.append(
            "<p><b>Retrieved passages</b></p><table class='aa-articles'><thead><tr><th>score</th>"
            f"<th>dense</th><th>bm25</th><th>passage</th></tr></thead>{rows}</table>"
        )
    support = _rows(trace.get("support"))
    if support:
        rows = "".join(
            f"<tr><td>{esc(s.get('verdict'))}</td><td>{esc(s.get('cited'))}</td><td>{esc(s.get('sentence'))}</td></tr>"
            for s in support
        )
        parts.append(
            "<p><b>Support verdicts</b></p><table class='aa-articles'><thead><tr><th>verdict</th>"
            f"<th>cited</th><th>answer sentence</th></tr></thead>{rows}</table>"
        )
    if trace.get("prompt"):
        parts.append(f"<details><summary>Prompt sent to the model</summary><pre>{esc(trace['prompt'])}</pre></details>")
    full = json.dumps(trace, indent=1, ensure_ascii=False, default=str)
    parts.append(f"<details><summary>Full trace (JSON)</summary><pre>{esc(full)}</pre></details></div>")
    return "".join(parts)


def _rows(value: JSONValue | None) -> list[Mapping[str, JSONValue]]:
    """A list of objects in a trace (its passages, ...): those objects; none when it has no such list."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [row for row in value if isinstance(row, Mapping)]
    return []


def _compact(value: JSONValue | None) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return "" if value is None else str(value)


def _range(value: JSONValue | None) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        first, last = value
        if isinstance(first, int | float) and isinstance(last, int | float):
            return f"{first + 1}–{last + 1}"
    return str(value)


# ---- the browser side of the source pane (runs as the gr.HTML's js_on_load)
SOURCE_JS = """
const handler = async (ev) => {
  const link = ev.target && ev.target.closest ? ev.target.closest('a[href^="#aa-src/"]') : null;
  if (!link) return;
  ev.preventDefault();
  ev.stopPropagation();
  const [, art, idx] = link.getAttribute('href').split('/');
  element.setAttribute('aria-busy', 'true');
  try {
    props.value = await server.show_source([decodeURIComponent(art), Number(idx)]);
  } catch (err) {
    props.value = '<div class="aa-error">Could not open the article: is the server still running?</div>';
  }
  element.removeAttribute('aria-busy');
  for (let i = 0; i < 60; i++) {
    const mark = element.querySelector('mark.aa-hl[data-sentence="' + Number(idx) + '"]');
    if (mark) { mark.scrollIntoView({block: 'center'}); break; }
    await new Promise((r) => requestAnimationFrame(r));
  }
};
if (window.__aaSourceHandler) document.removeEventListener('click', window.__aaSourceHandler, true);
window.__aaSourceHandler = handler;
document.addEventListener('click', handler, true);
"""

# ---- the chat the page shows: the turns it was sent one by one (see chat.py), joined in the browser
LIVE_START = "() => { window.aaLive = 0; }"  # a new turn: keep every message shown so far
LIVE_MERGE = """(shown, live) => {
  shown = shown || []; live = live || [];
  const kept = shown.slice(0, shown.length - (window.aaLive || 0));
  window.aaLive = live.length;
  return [kept.concat(live)];
}"""

CSS = """
#aa-source { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg);
  padding: 12px 16px; background: var(--background-fill-primary); }
.aa-doc-head { position: sticky; top: -12px; background: var(--background-fill-primary); padding: 4px 0 6px 0;
  border-bottom: 1px solid var(--border-color-primary); z-index: 1; }
.aa-doc-title { margin: 0 0 4px 0; }
.aa-doc-meta, .aa-art-id { color: var(--body-text-color-subdued); font-size: 0.85em; }
.aa-doc-body { white-space: pre-wrap; line-height: 1.6; margin-top: 8px; }
mark.aa-hl { background: #fde68a; color: #111; border-radius: 3px; padding: 1px 2px;
  box-shadow: 0 0 0 2px #f59e0b; }
.aa-source-empty { color: var(--body-text-color-subdued); font-style: italic; padding: 8px 0; }
.gradio-container a.aa-marker { text-decoration: none; font-weight: 600; font-size: 0.8em; padding: 0 3px;
  border-radius: 4px; background: var(--color-accent-soft); color: var(--color-accent) !important;
  vertical-align: super; line-height: 1; }
.aa-sources { margin-top: 10px; border-top: 1px solid var(--border-color-primary); padding-top: 6px; }
.aa-sources-h { font-weight: 600; font-size: 0.85em; text-transform: uppercase; letter-spacing: 0.04em;
  color: var(--body-text-color-subdued); }
.aa-sources ol { list-style: none; padding-left: 0; margin: 4px 0 0 0; }
.aa-sources li { margin: 4px 0; }
a.aa-cite { display: block; text-decoration: none; color: inherit; border-radius: 6px; padding: 4px 6px;
  border: 1px solid var(--border-color-primary); }
a.aa-cite:hover, a.aa-cite:focus { background: var(--color-accent-soft); }
.aa-cite-n { font-weight: 600; }
.aa-cite-title { font-weight: 600; }
.aa-cite-where { color: var(--body-text-color-subdued); }
.aa-cite-text { display: block; font-size: 0.9em; margin-top: 2px; }
.aa-notfound { border-left: 4px solid #9ca3af; padding: 4px 10px; color: var(--body-text-color-subdued); }
.aa-notfound-h { font-weight: 600; }
.aa-notfound-hint { font-size: 0.85em; margin-top: 4px; }
.aa-error { color: #b91c1c; }
.aa-cursor { opacity: 0.6; }
.aa-q-scope { font-size: 0.8em; color: var(--body-text-color-subdued); margin-top: 2px; }
.aa-scope-line { font-size: 0.9em; padding: 2px 0; }
.gradio-container table.aa-articles { width: 100%; font-size: 0.9em; border-collapse: collapse;
  border: none !important; }
.gradio-container table.aa-articles tr { border: none !important; background: none; }
.gradio-container table.aa-articles th, .gradio-container table.aa-articles td { border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important;
  padding: 4px; text-align: left; vertical-align: top; }
td.aa-num { text-align: right; font-variant-numeric: tabular-nums; }
.aa-passage { font-size: 0.85em; color: var(--body-text-color-subdued); max-height: 6em; overflow: auto; }
.aa-trace pre { white-space: pre-wrap; font-size: 0.8em; max-height: 24em; overflow: auto; }
.aa-backend { font-size: 0.9em; }
.aa-backend code { word-break: break-all; }
"""
