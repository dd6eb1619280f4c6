"""The model check asked as a continuation of the reader's own prompt (an experiment, not product code).

The built check (`answering/decision/model_check.py`) shows the model one sentence; on HotpotQA it refuses two-hop
answers, and its prompt evicts the reader's article text from llama.cpp's prompt cache (probe 4: p95 15 s). Here
the check is the reader's recorded prompt (system message, the shown articles, the conversation, the question),
the reading as the assistant's turn, then: does the text say that the answer to the question is X? Greedy
yes / no from the shared local server, as the product would ask it.

For every recorded model reading of a traces file, judged by the current rules (`flow.judge`), it asks the check
for each answered one and writes the figures: right answers (the shown answer holds a gold answer), answerable
questions answered, unanswerable ones refused, without the check and with a "no" refusing.

Run (from the repository, the local model installed; alone on the machine):
    [MODE=prefix] PYTHONPATH=. python docs/results/issue23/continuation-check/run.py TRACES.jsonl eval/SET.jsonl OUT.json
"""
import assistant.assistant  # noqa: F401  (import order)
import json, os, re, sys, time, urllib.request
from assistant.answering.attribution.citing import compose
from assistant.answering.flow import judge
from assistant.answering.question import kinds
from assistant.answering.thresholds import Thresholds
from assistant.embeddings import CachedEmbedder, OnnxMiniLM
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.replay import _shown
from assistant.llm.backends import connect_local
from assistant.records import Query, Reading
from assistant.settings import Settings

MODE = os.environ.get("MODE", "continue")  # "continue" or "prefix" (see `messages`)
CHECK = 'Does the text above say that the answer to the question "{question}" is "{answer}"? Reply with one word: yes or no.'


def messages(prompt: str, reading: str, question: str, answer: str) -> list[dict]:
    """MODE=continue: the reader's prompt, its reading as the assistant's turn, then the check. MODE=prefix: the
    reader's prompt with its closing question replaced by the check (the article text is the same prefix, so the
    cache keeps it; the model is not asked to judge its own turn)."""
    parts = re.split(r"^\[(system|user|assistant)\]\n", prompt, flags=re.M)
    out = [{"role": parts[k], "content": parts[k + 1].strip()} for k in range(1, len(parts) - 1, 2)]
    check = CHECK.format(question=question, answer=answer)
    if MODE == "prefix":
        last = out[-1]["content"]
        cut = last.rfind("\n\nQuestion:")
        out[-1] = {"role": "user", "content": (last[:cut] if cut > 0 else last) + "\n\n" + check}
        return out
    return out + [{"role": "assistant", "content": reading}, {"role": "user", "content": check}]


def ask(url: str, msgs: list[dict]) -> str:
    body = {"model": "local", "messages": msgs, "max_tokens": 2, "temperature": 0, "seed": 0}
    req = urllib.request.Request(f"{url}/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=180) as r:
        text = json.load(r)["choices"][0]["message"]["content"].strip().lower()
    return text.lstrip("\"'*` ").split(maxsplit=1)[0].strip(".,!:;\"'*`") if text else ""


def main(traces: str, dataset: str, out: str) -> None:
    rows = {json.loads(l)["id"]: json.loads(l) for l in open(dataset)}
    emb = CachedEmbedder(OnnxMiniLM())
    _, connect = connect_local(Settings.from_env({}))
    url = connect()
    records = []
    for line in open(traces):
        r = json.loads(line)
        t, row = r["trace"], rows[r["id"]]
        rd = t.get("reading") or {}
        if rd.get("reader") in (None, "extractive", "model summary") or rd.get("failure"):
            continue
        q = Query(t["question"], t.get("standalone_question") or t["question"], t.get("context") or "")
        shown = _shown(t, {})
        conversation = "\nEarlier conversation:\n" in str(rd.get("prompt") or t.get("prompt") or "")
        asks = kinds.asks(q.question) or kinds.asks(q.standalone)
        _, d = judge(q, Reading("local", str(rd.get("answer") or ""), refused=bool(rd.get("refused"))), shown, emb, Thresholds(), asks, conversation)
        text = compose(d.kept, shown)[0] if d.answered else ""
        said, seconds = None, 0.0
        if d.answered:
            answer = " ".join(c.text for c in d.kept)
            started = time.perf_counter()
            said = ask(url, messages(str(rd.get("prompt") or t.get("prompt")), str(rd["answer"]), q.standalone, answer))
            seconds = round(time.perf_counter() - started, 2)
        right = bool(row["answerable"]) and contains_answer(text, row["answers"]) if d.answered else False
        records.append(dict(id=r["id"], question=q.question, answerable=row["answerable"], answered=d.answered, right=right,
                            text=text, said=said, seconds=seconds, follow_up=bool(q.context), conversation=conversation))
        print(("RIGHT " if right else "wrong " if d.answered else "refus ") + str(said), "|", q.question[:90], "|", text[:60], flush=True)

    def figures(check: bool) -> dict:
        def answered(x):
            return x["answered"] and not (check and x["said"] == "no")
        ans = [x for x in records if x["answerable"]]
        un = [x for x in records if not x["answerable"]]
        return dict(
            right=round(sum(answered(x) and x["right"] for x in ans) / len(ans), 3) if ans else None,
            answered_answerable=round(sum(answered(x) for x in ans) / len(ans), 3) if ans else None,
            refused_unanswerable=round(sum(not answered(x) for x in un) / len(un), 3) if un else None,
            wrong_answers=sum(answered(x) and not x["right"] for x in records),
        )

    checked = [x["seconds"] for x in records if x["said"] is not None]
    result = dict(traces=traces, readings=len(records), without_check=figures(False), with_check=figures(True),
                  seconds_per_check=round(sum(checked) / len(checked), 2) if checked else None, records=records)
    json.dump(result, open(out, "w"), indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "records"}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
