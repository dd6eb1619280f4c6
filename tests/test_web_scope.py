"""The web chat's scope: pick one article (or all) to ask about, in a real browser (see test_web_browser.py)."""

from __future__ import annotations

import pytest

from tests.test_web_browser import LIGHTHOUSE, app_url, ask, browser, expect, page, shot, shots  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser]
SAMPLE_TITLE = "Ecuador gangs terrorist designation"


def choose(page, label: str) -> None:  # noqa: F811 (the fixture)
    page.locator("#aa-scope input").click()
    page.get_by_role("option", name=label).click()


def test_scope_to_one_article_shows_in_the_chat_and_opens_it(page):  # noqa: F811 (the fixture)
    expect(page.locator("#aa-scope-line")).to_contain_text("Asking about all 1 articles")
    choose(page, f"{SAMPLE_TITLE} (ecuador-gangs-terrorist-designation)")
    expect(page.locator("#aa-scope-line")).to_contain_text(f"Asking about {SAMPLE_TITLE} only")
    expect(page.locator("#aa-source .aa-doc-title")).to_have_text(SAMPLE_TITLE)
    expect(page.locator("#aa-source .aa-doc-meta")).to_contain_text("the whole article")

    answer = ask(page, "What is this article about?")
    expect(page.locator("#aa-chat [data-testid=user]").last).to_contain_text(f"about: {SAMPLE_TITLE}")
    expect(answer).to_contain_text("Los Lobos and Los Choneros")
    count = answer.locator("a.aa-cite").count()
    assert 3 <= count <= 5
    shot(page, "10-summary-scoped.png")

    page.locator("#aa-scope-all").click()
    expect(page.locator("#aa-scope-line")).to_contain_text("Asking about all 1 articles")


def test_an_uploaded_article_becomes_the_scope_with_a_way_back(page, tmp_path):  # noqa: F811 (the fixture)
    path = tmp_path / "port-elin-lighthouse.txt"
    path.write_text(LIGHTHOUSE, encoding="utf-8")
    page.locator("#aa-upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#aa-scope-line")).to_contain_text(
        "Asking about Port Elin lighthouse reopens after restoration only"
    )
    expect(page.locator("#aa-source .aa-doc-title")).to_have_text("Port Elin lighthouse reopens after restoration")
    answer = ask(page, "Summarize the article")
    expect(answer).to_contain_text("2.4 million euros")
    titles = answer.locator(".aa-cite-title").all_inner_texts()
    assert titles and set(titles) == {"Port Elin lighthouse reopens after restoration"}

    page.locator("#aa-scope-all").click()
    expect(page.locator("#aa-scope-line")).to_contain_text("Asking about all 2 articles")
    answer = ask(page, "Which gangs will be designated as terrorist organizations?")
    expect(answer).to_contain_text("Los Lobos and Los Choneros")
    shot(page, "11-upload-scope.png")

    page.locator("#aa-remove input").click()
    page.get_by_role("option", name="Port Elin lighthouse reopens after restoration (port-elin-lighthouse)").click()
    page.locator("#aa-remove-btn").click()
    expect(page.locator("#aa-articles")).not_to_contain_text("Port Elin lighthouse")
