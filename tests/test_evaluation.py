"""`assistant eval` measures every answerer: the model path (scripted OpenAI-compatible server) and
the extractive one, from the typed trace."""

from __future__ import annotations

import gzip
import json

import pytest

from assistant.cli.main import main
from assistant.errors import InputError
from assistant.evaluation.losses import losses
from assistant.evaluation.metrics import summarise
from assistant.evaluation.report import write_report
from assistant.evaluation.run import _articles_file, evaluate, run_eval
from assistant.evaluation.split import gold_doc_ids, halves, select, unit_of
from assistant.records import Trace
from tests.conftest import ROOT, SAMPLE_DIR, SAMPLE_ID
from tests.fake_openai import FakeOpenAI, reply

PLAIN_SYSTEM = (
    "Answer the question using only the text. Reply with the answer only, in a few words. If the text does not "
    "say, reply exactly: NOT_IN_TEXT"
)

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
    asked_plainly = [b for b in server.chat_requests if b["messages"][0]["content"] == PLAIN_SYSTEM]
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


# ---- fit half and report half, --oracle, the plain recipe's messages (issue 23)

EVAL = ROOT / "eval"
PUBLIC = ["coqa_cnn_dev", "hotpotqa_dev100", "squad_v2_normans"]
# a second document that shares the question's words, so a question about it also finds the Ecuador article
HARBOUR = (
    "The harbour of Portoviejo reopened on Monday after a storm. The port authority said the U.S. announced "
    "no assistance for the repairs. Repairs cost 2.1 million dollars, paid by the city."
)


def _jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _two_documents(tmp_path):
    """A dataset of two documents (the sample article and the harbour), two questions about each."""
    docs = [
        {"doc_id": SAMPLE_ID, "title": "Ecuador", "text": TEXT},
        {"doc_id": "harbour", "title": "Harbour", "text": HARBOUR},
    ]
    rows = _rows() + [
        {
            "id": f"h{n}",
            "doc_id": "harbour",
            "question": question,
            "history": [],
            "answers": [answer],
            "evidence": [],
            "evidence_spans": [],
            "answerable": True,
        }
        for n, (question, answer) in enumerate(
            [
                ("How much did the repairs of the harbour cost?", "2.1 million dollars"),
                ("When did it reopen?", "Monday"),
            ]
        )
    ]
    dataset = tmp_path / "two.jsonl"
    _jsonl(dataset, rows)
    _jsonl(tmp_path / "two.docs.jsonl", docs)
    return dataset, rows


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_set_is_split_by_document_into_two_halves_that_cover_it(name):
    path = EVAL / f"{name}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    committed = json.loads((EVAL / "splits.json").read_text(encoding="utf-8"))["sets"][name]
    units = [unit_of(r) for r in rows]
    rule = halves(units)
    assert {k: committed[k] for k in ("fit", "report")} == rule == halves(reversed(units))  # deterministic
    fit, source = select(rows, "fit", path)
    report, _ = select(rows, "report", path)
    assert source == "eval/splits.json" and fit and report
    assert sorted(r["id"] for r in fit + report) == sorted(r["id"] for r in rows)  # every question, once
    assert not {unit_of(r) for r in fit} & {unit_of(r) for r in report}  # no document in both halves
    if name == "squad_v2_normans":
        # one article with questions: a paragraph is the unit, and it is where each question's evidence lies
        text = json.loads((EVAL / f"{name}.docs.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
        for row in rows:
            for span in row["evidence_spans"]:
                assert text[: span["start"]].count("\n\n") == row["paragraph_index"]
        assert len(set(units)) == 39
    else:
        assert not {d for r in fit for d in gold_doc_ids(r)} & {d for r in report for d in gold_doc_ids(r)}
    if name == "coqa_cnn_dev":
        assert len(committed["fit"]) == len(committed["report"]) == 5


def test_half_asks_only_the_questions_of_that_half_and_the_result_says_which(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_ANSWERER", "extractive")
    dataset, rows = _two_documents(tmp_path)
    split = halves(unit_of(r) for r in rows)
    assert len(split["fit"]) == len(split["report"]) == 1  # no splits.json beside it: the rule splits it
    out = tmp_path / "docs"
    asked = {}
    for half in ("fit", "report"):
        assert run_eval(str(dataset), out=str(out), answerer="extractive", half=half) == 0
        payload = json.loads((out / "results" / f"two-extractive-{half}.json").read_text())
        assert payload["half"] == half and payload["split"].startswith("rule") and not payload["oracle"]
        asked[half] = [r["id"] for r in payload["records"]]
        assert asked[half] == [r["id"] for r in rows if unit_of(r) in split[half]]
    assert sorted(asked["fit"] + asked["report"]) == sorted(r["id"] for r in rows)
    with pytest.raises(InputError, match="no half 'middle'"):
        run_eval(str(dataset), out=str(out), answerer="extractive", half="middle")
    # the command line: the oracle run of the fit half lands beside the normal one, and the pair gives the losses
    argv = ["eval", str(dataset), "--answerer", "extractive", "--half", "fit", "--oracle", "--out", str(out)]
    assert main(argv) == 0
    payload = json.loads((out / "results" / "two-extractive-oracle-fit.json").read_text())
    assert payload["oracle"] and [r["id"] for r in payload["records"]] == asked["fit"]
    assert payload["losses"]["retrieval_loss"] is not None and payload["losses"]["reading_loss"] is None


def test_oracle_answers_with_the_gold_documents_only(make_bot, tmp_path):
    dataset, rows = _two_documents(tmp_path)
    bot = make_bot()
    bot.ingest([_articles_file(tmp_path / "two.docs.jsonl", tmp_path)])
    harbour = [r for r in rows if r["doc_id"] == "harbour"]

    def articles(oracle: bool) -> list[set[str]]:
        sink = tmp_path / f"traces-{oracle}.jsonl"
        with sink.open("w", encoding="utf-8") as out:
            evaluate(bot, harbour, out, oracle=oracle)
        found = []
        for line in sink.read_text().splitlines():
            trace = json.loads(line)["trace"]
            found.append({h["article_id"] for part in ("passages", "sentences", "shown") for h in trace[part]})
        return found

    assert any(SAMPLE_ID in ids for ids in articles(oracle=False))  # the whole index: the other article comes up
    assert all(ids == {"harbour"} for ids in articles(oracle=True))  # the gold document only


def test_the_plain_recipe_is_system_then_text_then_the_conversation_then_the_question(make_bot, articles_dir, server):
    bot = make_bot(
        openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0, condense="conversation"
    )
    bot.ingest([articles_dir])
    row = {**_rows()[0], "history": [["Which country is it about?", "Ecuador"]]}
    title = bot.articles()[0].title  # as the index has it (an eval run indexes the dataset's own titles)
    documents = {SAMPLE_ID: {"doc_id": SAMPLE_ID, "title": title, "text": TEXT}}
    for oracle in (False, True):
        server.requests.clear()
        server.script(reply("$13.5 million"), reply("$13.5 million"))
        result = evaluate(bot, [row], plain=True, oracle=oracle, documents=documents)
        ours, plain = server.chat_requests
        layout = [(m["role"], m["content"]) for m in plain["messages"]]
        assert [role for role, _ in layout] == ["system", "user", "user", "assistant", "user"]
        system, text, *turns, question = (content for _, content in layout)
        assert system == PLAIN_SYSTEM and turns == ["Which country is it about?", "Ecuador"]
        assert question == row["question"] and result["plain"]["metrics"]["answer_contains"] == 1.0
        if oracle:  # the gold document's text
            assert text == f"Article: {title}\n{TEXT.strip()}" and result["plain"]["text"].startswith("the gold")
        else:  # what our reader was shown, as it was shown
            assert text.startswith(f"Article: {title}\n") and MONEY in text
            assert text in ours["messages"][-1]["content"]


def test_the_losses_add_up_to_the_gap_between_the_gold_text_ceiling_and_the_normal_run():
    normal = {"metrics": {"answer_contains": 0.5, "reading_contains": 0.6}}
    oracle = {
        "metrics": {"answer_contains": 0.7, "reading_contains": 0.8},
        "plain": {"metrics": {"answer_contains": 0.9}},
    }
    found = losses(normal, oracle)
    assert found["retrieval_loss"] == 0.2 and found["reading_loss"] == 0.1 and found["decision_loss"] == 0.1
    assert found["decision_loss_normal"] == 0.1
    total = found["retrieval_loss"] + found["reading_loss"] + found["decision_loss"]
    assert total == pytest.approx(0.9 - 0.5)
    assert losses(normal, None)["retrieval_loss"] is None and losses(None, oracle)["reading_loss"] == 0.1


def test_the_report_shows_each_half_normal_and_oracle_side_by_side_with_the_losses(tmp_path):
    def result(half: str, oracle: bool, contains: float, reading: float) -> dict:
        metrics = {"questions": 4, "answer_contains": contains, "reading_contains": reading}
        return {
            "dataset": "coqa_cnn_dev",
            "backend": "local model",
            "answerer": "local",
            "half": half,
            "oracle": oracle,
            "run_seconds": 61.0,
            "metrics": metrics,
            **({"plain": {"metrics": {"answer_contains": 0.9}}} if oracle else {}),
        }

    (tmp_path / "results").mkdir()
    runs = [("fit", False, 0.5, 0.6), ("fit", True, 0.7, 0.8), ("report", False, 0.25, 0.5)]  # no report oracle
    for half, oracle, contains, reading in runs:
        name = f"coqa_cnn_dev-local{'-oracle' if oracle else ''}-{half}.json"
        (tmp_path / "results" / name).write_text(json.dumps(result(half, oracle, contains, reading)))
    (tmp_path / "evaluation.md").write_text(
        "# E\n\n<!-- results:start -->\n<!-- results:end -->\n<!-- halves:start -->\nold\n<!-- halves:end -->\n"
    )
    text = write_report(tmp_path).read_text()
    assert "| metric | fit | fit, oracle | report | report, oracle |" in text
    assert "| answer_contains | 0.500 | 0.700 | 0.250 | – |" in text
    assert "| plain recipe: answer_contains | – | 0.900 | – | – |" in text
    assert "| retrieval loss (oracle − normal) | +0.200 | – |" in text
    assert "| reading loss (gold-text plain − oracle reading) | +0.100 | – |" in text
    assert "| decision loss, normal run | +0.100 | +0.250 |" in text
    assert "| run time | 61 s | 61 s | 61 s | – |" in text
    assert "\nold\n" not in text and "### coqa_cnn_dev — local model\n" in text
    assert "<!-- results:start -->\n\n<!-- results:end -->" in text  # the halves stay out of the full tables


def test_replaying_recorded_readings_with_the_same_rules_decides_as_the_run_did(
    make_bot, articles_dir, server, tmp_path
):
    """`evaluation.replay` judges an earlier run's model readings again (attribution and decision only): with
    the rules unchanged it must decide exactly as the run did; with a bar moved, the change shows."""
    from dataclasses import replace as with_

    from assistant.embeddings import CachedEmbedder
    from assistant.evaluation.replay import replay

    bot = make_bot(openai_base_url=server.url, openai_api_key="test", chat_model="fake", max_retries=0)
    bot.ingest([articles_dir])
    server.script(reply("$13.5 million"), reply("France won it."))
    traces = tmp_path / "traces.jsonl"
    with traces.open("w", encoding="utf-8") as sink:
        evaluate(bot, _rows(), traces=sink)
    dataset = tmp_path / "tiny.jsonl"
    dataset.write_text("\n".join(json.dumps(r) for r in _rows()) + "\n", encoding="utf-8")
    checker = CachedEmbedder(bot.embedder)
    again = replay(traces, dataset, checker, bot.thresholds)
    assert again["readings"] == 2
    assert [(r["before"]["answered"], r["before"]["rule"]) for r in again["records"]] == [
        (r["after"]["answered"], r["after"]["rule"]) for r in again["records"]
    ]
    assert again["after"] == again["before"] and again["after"]["answer_contains"] == 1.0
    strict = replay(traces, dataset, checker, with_(bot.thresholds, model_relevance=5.0))  # no answer passes
    assert strict["after"]["answered_answerable"] == 0.0 and strict["before"]["answered_answerable"] == 1.0
    packed = tmp_path / "traces.jsonl.gz"  # the recorded runs in docs/ are kept compressed
    packed.write_bytes(gzip.compress(traces.read_bytes()))
    assert replay(packed, dataset, checker, bot.thresholds)["records"] == again["records"]
