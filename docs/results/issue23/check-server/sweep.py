"""For every recorded model reading of a half: the decision replayed with today's rules; for the answered ones (of a
question asked on its own, as the product checks) the model check's yes-probability, asked of a check server
(logits_all) with (A) the first kept claim's sentences, as the product asks, and (B) every kept claim's sentences.

Run: python sweep.py TRACES.jsonl.gz eval/SET.jsonl OUT.json (ASSISTANT_PROMPTS_DIR: another check prompt)."""
import json, sys, time
from pathlib import Path
from assistant.answering.attribution.citing import compose
from assistant.answering.build import build_thresholds
from assistant.embeddings import CachedEmbedder, OnnxMiniLM
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.model_check import Checker
from assistant.evaluation.replay import rejudged
from assistant.settings import Settings

traces, dataset, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
settings = Settings.from_env()
thr = build_thresholds(settings)
emb = CachedEmbedder(OnnxMiniLM())
recs = []
import tempfile
with tempfile.TemporaryDirectory() as st, Checker(Path(st), settings) as checker:
    for line, row, judged in rejudged(traces, dataset, emb, thr):
        query, shown, rd, _, d = judged
        gold = row.get("answers") or []
        text = compose(d.kept, shown, verbatim=False)[0] if d.answered else ""
        rec = {"id": row["id"], "q": query.standalone, "answerable": bool(row.get("answerable", True)),
               "answered": d.answered, "rule": d.rule, "contains": d.answered and contains_answer(text, gold),
               "read_contains": contains_answer(rd.answer, gold), "followup": bool(query.context),
               "articles": len({shown[i].sentence.article_id for c in d.kept for i in c.sentences}) if d.answered else 0}
        if d.answered and d.kept and not query.context:
            answer = " ".join(c.text for c in d.kept)
            a_idx = list(d.kept[0].sentences)
            b_idx = sorted({i for c in d.kept for i in c.sentences})
            t = time.perf_counter()
            rec["pA"] = checker.ask(" ".join(shown[i].sentence.text for i in a_idx), query.standalone, answer)
            rec["pB"] = rec["pA"] if b_idx == sorted(a_idx) else checker.ask(" ".join(shown[i].sentence.text for i in b_idx), query.standalone, answer)
            rec["s"] = time.perf_counter() - t
            rec["answer"] = answer
        recs.append(rec)
        print(len(recs), rec.get("pA"), rec.get("pB"), rec["contains"], flush=True)
out.write_text(json.dumps(recs, indent=0))
