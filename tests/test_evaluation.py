"""`assistant eval` measures every answerer: the model path (scripted OpenAI-compatible server) and
the extractive one, from the typed trace."""

from __future__ import annotations

import json

import pytest

from assistant.errors import InputError
from assistant.evaluation.metrics import summarise
from assistant.evaluation.report import write_report
from assistant.evaluation.run import evaluate, run_eval
from assistant.records import Trace
from tests.conftest import SAMPLE_DIR, SAMPLE_ID
from tests.fake_openai import FakeOpenAI, reply

TEXT = (SAMPLE_DIR / f"{SAMPLE_ID}.txt").read_text(encoding="utf-8")
MONEY = "To aid Ecuador in its fight against drug trafficking, the U.S. announced $13.5 million"


def _rows() -> list[dict]:
    start = TEXT.index(MONEY)
    end = TEXT.index(".", TEXT.index("drone technology")) + 1
    return [
        {
            "id": "q1",
            "doc_id": SAMPLE_ID,
            "question": "How much security assistance did the U.S. announce?",
            "history": [],
            "answers": ["$13.5 million"],
            "evidence": [TEXT[start:end]],
            "evidence_spans": [{"doc_id": SAMPLE_ID, "start": start, "end": end}],
            "answerable": True,
        },
        {
            "id": "q2",
            "doc_id": SAMPLE_ID,
            "question": "Who won the 2018 FIFA World Cup?",
            "history": [],
            "answers": [],
            "evidence": [],
            "evidence_spans": [],
            "answerable": False,
        },
    ]


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


def test_evaluate_measures_the_model_path(make_bot, articles_dir, server):
    bot = make_bot(openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0)
    bot.ingest([articles_dir])
    server.script(reply("$13.5 million"), reply("France won it."))
    result = evaluate(bot, _rows())
    m = result["metrics"]
    assert m["answered_answerable"] == 1.0 and m["answer_contains"] == 1.0 and m["citation_precision"] == 1.0
    assert m["refusal_recall"] == 1.0  # "France won it." stands in no sentence: refused in code
    first, second = result["records"]
    assert first["method"] == "model" and first["answered"] and not second["answered"]
    assert second["method"] == "model" and second["rule"] == "not in the text"
    assert "plain" not in result


def test_evaluate_with_plain_scores_the_same_model_asked_plainly(make_bot, articles_dir, server):
    """The floor: the same text asked plainly; its answers are taken as they are, so "France won it." counts
    as an answer to the unanswerable question, and it cites nothing."""
    bot = make_bot(openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0)
    bot.ingest([articles_dir])
    server.script(
        reply("$13.5 million"), reply("It was $13.5 million."), reply("France won it."), reply("France won it.")
    )
    result = evaluate(bot, _rows(), plain=True)
    plain = result["plain"]
    assert set(plain["metrics"]) == set(result["metrics"]) and "NOT_IN_TEXT" in plain["recipe"]
    assert plain["metrics"]["answer_contains"] == 1.0 and plain["metrics"]["refusal_recall"] == 0.0
    assert plain["metrics"]["citation_precision"] is None and result["metrics"]["refusal_recall"] == 1.0
    asked_plainly = [b for b in server.chat_requests if "or say NOT_IN_TEXT" in b["messages"][-1]["content"]]
    assert len(asked_plainly) == 2 and len(server.chat_requests) == 4


def test_plain_needs_a_chat_model(tmp_path):
    dataset = tmp_path / "tiny.jsonl"
    dataset.write_text("\n".join(json.dumps(r) for r in _rows()) + "\n", encoding="utf-8")
    (tmp_path / "tiny.docs.jsonl").write_text(
        json.dumps({"doc_id": SAMPLE_ID, "title": "Ecuador", "text": TEXT}) + "\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="--answerer local"):
        run_eval(str(dataset), out=str(tmp_path / "docs"), answerer="extractive", plain=True)


def test_run_eval_writes_results_for_the_extractive_answerer(tmp_path, monkeypatch):
    dataset = tmp_path / "tiny.jsonl"
    dataset.write_text("\n".join(json.dumps(r) for r in _rows()) + "\n", encoding="utf-8")
    (tmp_path / "tiny.docs.jsonl").write_text(
        json.dumps({"doc_id": SAMPLE_ID, "title": "Ecuador", "text": TEXT}) + "\n", encoding="utf-8"
    )
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ASSISTANT_ANSWERER", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # would choose the model path ...
    out = tmp_path / "docs"
    traces = tmp_path / "traces.jsonl"
    # ... but --answerer decides
    assert run_eval(str(dataset), out=str(out), answerer="extractive", traces=str(traces)) == 0
    payload = json.loads((out / "results" / "tiny-extractive.json").read_text())
    assert payload["answerer"] == "extractive" and payload["metrics"]["questions"] == 2
    assert payload["records"][0]["answered"] and payload["records"][0]["method"] == "extractive"
    lines = [json.loads(line) for line in traces.read_text().splitlines()]  # one full trace per question
    assert [line["id"] for line in lines] == [r["id"] for r in _rows()]
    assert Trace.from_dict(lines[0]["trace"]).decision.method == "extractive" and lines[0]["trace"]["sentences"]
    assert payload["thresholds"]["extractive_relevance"] == payload["threshold"] == 0.8


def test_the_report_says_which_local_model_targets_are_met_beside_extractive_on_the_same_questions(tmp_path):
    def result(answerer: str, records: list[dict]) -> dict:
        return {
            "dataset": "hotpotqa_dev100",
            "backend": answerer,
            "answerer": answerer,
            "records": records,
            "metrics": summarise(records),
        }

    def record(n: int, contains: bool) -> dict:
        return {
            "id": f"q{n}",
            "answerable": True,
            "answered": True,
            "contains": contains,
            "f1": 0.0,
            "recall_at_k": True,
            "cited_ok": [True],
            "evidence_cited": [True],
            "latency_ms": 1000.0 * n,
        }

    (tmp_path / "results").mkdir()
    local = result("local", [record(1, True), record(2, False)])  # 0.50 < 0.60; precision 1.00
    extractive = result("extractive", [record(1, False), record(2, False), record(3, True)])  # q3 not asked locally
    (tmp_path / "results" / "hotpotqa_dev100-local.json").write_text(json.dumps(local))
    (tmp_path / "results" / "hotpotqa_dev100-extractive.json").write_text(json.dumps(extractive))
    (tmp_path / "evaluation.md").write_text("# E\n\n<!-- local-targets:start -->\nold\n<!-- local-targets:end -->\n")
    text = write_report(tmp_path).read_text()
    assert "| `hotpotqa_dev100` (2 q) | gold answer in text ≥ 0.45 | 0.50 (met) | 0.00 |" in text
    assert "| `hotpotqa_dev100` (2 q) | citation precision ≥ 0.85 | 1.00 (met) | 1.00 |" in text
    assert "vs plain" not in text  # no plain run: no floor to compare with
    local["plain"] = {"recipe": "asked plainly", "metrics": summarise([record(1, True), record(2, True)])}
    (tmp_path / "results" / "hotpotqa_dev100-local.json").write_text(json.dumps(local))
    text = write_report(tmp_path).read_text()
    assert (
        "| `hotpotqa_dev100` (2 q) | gold answer in text vs plain ≥ plain 1.00 − 0.03 | 0.50 (missed by 0.47) |" in text
    )
    assert "\nold\n" not in text


def test_the_baseline_runs_with_the_eval_extra(tmp_path, embedder):
    from assistant.evaluation.baseline import run_baseline

    docs = tmp_path / "tiny.docs.jsonl"
    docs.write_text(json.dumps({"doc_id": SAMPLE_ID, "title": "Ecuador", "text": TEXT}) + "\n", encoding="utf-8")
    result = run_baseline(embedder, docs, _rows(), tmp_path)
    assert result["recipe"].startswith("RecursiveCharacterTextSplitter(1000, 200)")
    assert result["metrics"]["answer_contains"] == 1.0  # the top 1,000-character chunk holds "$13.5 million"


def test_the_baseline_without_the_eval_extra_says_how_to_install_it(monkeypatch):
    """langchain-text-splitters is the evaluation's dependency only (the `eval` extra), not the app's."""
    import importlib
    import sys

    from assistant.errors import ConfigError

    monkeypatch.setitem(sys.modules, "langchain_text_splitters", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "assistant.evaluation.baseline", raising=False)
    with pytest.raises(ConfigError, match=r"install the eval extra: pip install 'article-assistant\[eval\]'"):
        importlib.import_module("assistant.evaluation.baseline")
