"""The web chat in a real browser: Debian's chromium driven by Playwright, against `python app.py`.

Each step saves a screenshot to a temporary folder; `bash scripts/screenshots` (which sets
REFRESH_SCREENSHOTS=1) saves them to docs/screenshots/ instead. Waits are bounded and event-driven: the
bot-message count grows, no answer is still streaming, every status tracker is hidden, then
Playwright's retrying `expect`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_DIR
from tests.helpers import free_port

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: apt-get install chromium"),
]
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
DOCS_SHOTS = ROOT / "docs" / "screenshots"
BOT = "#aa-chat [data-testid=bot]"
QUESTION = "#aa-question textarea"
SETTLED = """n => document.querySelectorAll('#aa-chat [data-testid=bot]').length > n
  && !document.querySelector('#aa-chat .aa-streaming')
  && [...document.querySelectorAll('[data-testid=status-tracker]')]
       .every(e => e.classList.contains('hide') || e.offsetParent === null)"""
IDLE = """() => [...document.querySelectorAll('[data-testid=status-tracker]')]
  .every(e => e.classList.contains('hide') || e.offsetParent === null)"""

ANIMATIONS_DONE = """() => document.getAnimations().every(a => a.playState !== 'running'
  || !a.effect || a.effect.getTiming().duration > 1500)"""  # long ones: a toast's countdown bar, spinners

LIGHTHOUSE = """Port Elin lighthouse reopens after restoration
The Port Elin lighthouse reopened to visitors on Saturday after a two-year restoration.
The restoration of the lighthouse cost 2.4 million euros, paid mostly by the regional heritage fund.
Engineers replaced the lantern with an LED array that is visible for 22 nautical miles.
The keeper's cottage now houses a small museum about the shipwrecks of the northern coast.
"""
EVIL = "<img src=x onerror=alert(1)>"
HARBOUR = f"""{EVIL} Harbour notes
The harbour council wrote {EVIL} in the minutes of its spring meeting.
A clerk found <script>alert(2)</script> pasted into the ferry timetable file.
The ferry to Vell Island runs twice a day in summer.
"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """`python app.py` on 127.0.0.1 with an empty index in tmp: it indexes the sample on first start."""
    root = tmp_path_factory.mktemp("web")
    shutil.copytree(SAMPLE_DIR, root / "articles")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ASSISTANT_"))}
    env.update(
        ASSISTANT_INDEX_DIR=str(root / "index"),
        ASSISTANT_ARTICLES_DIR=str(root / "articles"),
        ASSISTANT_ANSWERER="extractive",  # the page is under test, not the model: instant, deterministic answers
        ASSISTANT_MAX_FILE_MB="1",  # an upload over the limit stays small
        GRADIO_ANALYTICS_ENABLED="False",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = (root / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port)],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the app did not start: {(root / 'app.log').read_text()[-2000:]}")
            time.sleep(0.25)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: a temporary folder, or the docs' folder when asked to refresh it."""
    if os.environ.get("REFRESH_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SHOTS
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser, app_url, shots):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.shots = shots
    page.dialogs = []  # an XSS that ran would show up here

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(30_000)
    page.goto(app_url)
    expect(page.locator("#aa-chat")).to_be_visible()
    page.wait_for_function(IDLE)
    yield page
    assert page.dialogs == [], f"a dialog opened: {page.dialogs}"
    context.close()


def shot(page, name: str, keep_toasts: bool = False) -> None:
    if not keep_toasts:  # an info toast would cover the source pane's title
        for close in page.locator("[data-testid=toast-close]").all():
            close.click()
        expect(page.locator("[data-testid=toast-body]")).to_have_count(0)
    page.wait_for_function(ANIMATIONS_DONE)  # toasts fly in, updated components fade in
    page.screenshot(path=str(page.shots / name))


def ask(page, question: str):
    before = page.locator(BOT).count()
    page.locator(QUESTION).fill(question)
    page.locator(QUESTION).press("Enter")
    page.wait_for_function(SETTLED, arg=before)
    return page.locator(BOT).nth(before)


def test_ask_cite_and_trace(page):
    shot(page, "01-first-visit.png")
    answer = ask(page, "How much security assistance did the U.S. announce?")
    expect(answer.locator("a.aa-marker")).to_have_text("[1]")
    expect(answer).to_contain_text("$13.5 million")
    shot(page, "02-answer.png")

    cite = answer.locator("a.aa-cite").first
    cited = cite.locator(".aa-cite-text").inner_text().strip("“”")
    cite.click()
    mark = page.locator("#aa-source mark.aa-hl")
    expect(mark).to_have_text(cited)
    expect(mark).to_be_in_viewport()
    expect(page.locator("#aa-source .aa-doc-title")).to_have_text("Ecuador gangs terrorist designation")
    shot(page, "03-citation.png")

    page.locator("#aa-source").evaluate("e => e.querySelector('.aa-doc-title').scrollIntoView()")
    answer.locator("a.aa-marker").first.click()  # the marker opens the same sentence
    expect(mark).to_have_text(cited)
    expect(mark).to_be_in_viewport()

    page.get_by_text("How this answer was found (trace)").click()
    trace = page.locator("#aa-trace")
    expect(trace).to_contain_text("Standalone question: How much security assistance did the U.S. announce?")
    expect(trace).to_contain_text("Retrieved passages")
    trace.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "04-trace.png")


def test_a_conversation_keeps_every_turn_though_each_sends_only_its_own(page):
    """The server sends each turn alone (chat.py); the page joins them into the chat it shows, once each."""
    questions = [
        "How much security assistance did the U.S. announce?",
        "Which gangs will be designated as terrorist organizations?",
        "How much security assistance did the U.S. announce?",  # the same question again is a turn of its own
    ]
    ask(page, questions[0])
    page.get_by_text("How this answer was found (trace)").click()  # open: the next answers bring their traces
    trace = page.locator("#aa-trace")
    expect(trace).to_contain_text(f"Standalone question: {questions[0]}")
    for question in questions[1:]:
        ask(page, question)
        expect(trace).to_contain_text(f"Standalone question: {question}")
    users = page.locator("#aa-chat [data-testid=user]")
    expect(users).to_have_count(3)
    assert [u.inner_text().strip() for u in users.all()] == questions
    expect(page.locator(BOT)).to_have_count(3)
    expect(page.locator(BOT).nth(0)).to_contain_text("$13.5 million")
    expect(page.locator(BOT).nth(1)).to_contain_text("Los Lobos")
    expect(page.locator(BOT).nth(2)).to_contain_text("$13.5 million")


def test_question_the_articles_cannot_answer(page):
    answer = ask(page, "What is the boiling point of mercury in kelvin?")
    expect(answer.locator(".aa-notfound-h")).to_have_text("The articles don't say")
    expect(answer.locator("a.aa-marker, .aa-sources")).to_have_count(0)
    shot(page, "05-dont-say.png")


def test_empty_question_shows_an_error(page):
    page.locator("#aa-send").click()
    toast = page.locator("[data-testid=toast-body]")
    expect(toast).to_contain_text("The question is empty")
    expect(page.locator(BOT)).to_have_count(0)
    shot(page, "06-empty-question.png", keep_toasts=True)


def test_upload_then_ask_about_it(page, tmp_path):
    path = tmp_path / "port-elin-lighthouse.txt"
    path.write_text(LIGHTHOUSE, encoding="utf-8")
    broken = tmp_path / "broken notes.txt"
    broken.write_bytes(b"Caf\xe9 \xff\xfe not UTF-8 at all")
    binary = tmp_path / "image.md"
    binary.write_bytes(bytes(range(256)) * 4)
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 240_000)  # 1.2 MB: over the 1 MB limit, and the others are still indexed
    page.locator("#aa-upload input[type=file]").set_input_files([str(path), str(broken), str(binary), str(big)])
    expect(page.locator("#aa-articles")).to_contain_text("Port Elin lighthouse reopens after restoration")
    expect(page.locator("#aa-ingest")).to_contain_text("1 added")
    expect(page.locator("#aa-ingest")).to_contain_text(
        "big.txt: file is 1.2 MB, over the 1 MB limit (ASSISTANT_MAX_FILE_MB, 1 MB = 1,000,000 bytes)"
    )
    expect(page.locator("#aa-ingest")).to_contain_text("broken notes.txt: not UTF-8 text")
    expect(page.locator("#aa-ingest")).to_contain_text("image.md: binary file")
    expect(page.locator("[data-testid=toast-body]", has_text="broken notes.txt was not added")).to_be_visible()
    page.wait_for_function(IDLE)
    shot(page, "07-upload.png", keep_toasts=True)

    answer = ask(page, "How many euros did the restoration cost?")
    expect(answer).to_contain_text("2.4 million euros")
    expect(answer.locator(".aa-cite-title").first).to_have_text("Port Elin lighthouse reopens after restoration")
    answer.locator("a.aa-cite").first.click()
    expect(page.locator("#aa-source mark.aa-hl")).to_contain_text("2.4 million euros")
    shot(page, "08-upload-answer.png")

    page.locator("#aa-remove input").click()
    page.get_by_role("option", name="Port Elin lighthouse reopens after restoration (port-elin-lighthouse)").click()
    page.locator("#aa-remove-btn").click()
    expect(page.locator("#aa-articles")).not_to_contain_text("Port Elin lighthouse")
    expect(page.locator("#aa-articles")).to_contain_text("Ecuador gangs terrorist designation")


def test_html_in_articles_and_questions_is_shown_as_text(page, tmp_path):
    path = tmp_path / "harbour-notes.txt"
    path.write_text(HARBOUR, encoding="utf-8")
    page.locator("#aa-upload input[type=file]").set_input_files(str(path))
    expect(page.locator("#aa-articles")).to_contain_text(f"{EVIL} Harbour notes")
    page.wait_for_function(IDLE)

    question = "<script>alert(3)</script> What did the harbour council write in the minutes of its spring meeting?"
    answer = ask(page, question)
    expect(page.locator("#aa-chat [data-testid=user]").last).to_contain_text(question)
    expect(answer).to_contain_text(f"The harbour council wrote {EVIL} in the minutes")
    answer.locator("a.aa-cite").first.click()
    expect(page.locator("#aa-source mark.aa-hl")).to_contain_text(EVIL)
    shot(page, "09-html-as-text.png")

    injected = page.evaluate("""() => ({
      imgs: document.querySelectorAll('img[src="x"]').length,
      scripts: [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(')).length,
    })""")
    assert injected == {"imgs": 0, "scripts": 0}
    assert page.dialogs == []
