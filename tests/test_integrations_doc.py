"""docs/integrations.md's examples, run as they are written: each ```python block of the page, executed against a
server started here on a free port (its address in place of the page's http://127.0.0.1:7860) and an index of the
sample article in the working folder (the page's `index`)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.web.app import build_app
from assistant.web.server import launch, launch_options
from tests.conftest import ROOT, SAMPLE_DIR
from tests.helpers import free_port

PAGE = ROOT / "docs" / "integrations.md"
PAGE_SERVER = "http://127.0.0.1:7860"
LOBOS = "He announced the U.S. would designate two of Ecuador's largest criminal gangs, Los Lobos and Los Choneros"


def examples() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(encoding="utf-8"), flags=re.S | re.M)


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("doc")
    settings = Settings.from_env(
        env={"ASSISTANT_ANSWERER": "extractive"},
        index_dir=str(root / "index"),
        articles_dir=str(root / "articles"),
        mcp=True,
    )
    bot = Assistant(settings=settings, embedder=embedder)
    assert bot.ingest([SAMPLE_DIR]).added == 1
    demo = build_app(bot)
    url = launch(demo, {**launch_options(settings, port=free_port()), "quiet": True}).rstrip("/")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("NO_PROXY", "no_proxy"):
            mp.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
        mp.chdir(root)  # the page's `Assistant(index_dir="index")` opens this index
        yield url
    demo.close()


def run(code: str, url: str) -> str:
    """The example's output; the page's server address is the one place it is changed."""
    assert PAGE_SERVER in code or 'index_dir="index"' in code
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace(PAGE_SERVER, url), str(PAGE), "exec"), {"__name__": "__main__"})
    return out.getvalue()


def test_the_page_has_one_example_for_each_way_in():
    found = examples()
    assert len(found) == 3
    assert 'api_name="/answer"' in found[0] and "streamable_http_client" in found[1] and "as_retriever" in found[2]


def test_answer_endpoint_example(server):
    printed = [line for line in run(examples()[0], server).splitlines() if not line.startswith("Loaded as API")]
    assert printed[0].startswith("True To aid Ecuador") and "$13.5 million" in printed[0]
    assert printed[1].startswith("ecuador-gangs-terrorist-designation 10 1605 1775 None None To aid Ecuador")


def test_mcp_example(server):
    printed = run(examples()[1], server).splitlines()
    assert printed[0] == "tools: ['add_article_by_url', 'answer', 'list_articles', 'search_sentences']"
    assert printed[1].startswith(LOBOS)
    assert printed[2] == f"  [ecuador-gangs-terrorist-designation 290:432] {LOBOS}, as foreign terrorist organizations."


def test_langchain_example(server):
    printed = run(examples()[2], server)
    assert "[ecuador-gangs-terrorist-designation #10] To aid Ecuador in its fight" in printed  # the retrieved context
    assert "Question: How much security assistance did the U.S. announce?" in printed
    assert f"{LOBOS}, as foreign terrorist organizations. [1]" in printed  # the runnable's answer, as text
    lines = printed.splitlines()
    assert "$6 million allocated for drone technology. [1]" in lines[-2]  # streamed
    assert lines[-1] == "cited: [('ecuador-gangs-terrorist-designation', 1605, 1775)]"  # then the Answer


def test_page_names_what_exists():
    text = PAGE.read_text(encoding="utf-8")
    assert Path(ROOT / "tests" / "test_langchain.py").is_file() and "tests/test_langchain.py" in text
    for tool in ("answer", "search_sentences", "list_articles", "add_article_by_url"):
        assert f"| `{tool}` |" in text
