"""For every recorded reading of a question asked on its own that a soft word rule refused (question names missing,
does not address the question, answer apart): the model check's yes-probability for the claims that stand, to see
whether a high one could overturn the refusal. Run: python rescue.py TRACES.jsonl eval/SET.jsonl OUT.json
TRACES: a recorded run: ../<set>-local-<half>.traces.jsonl.gz (HotpotQA:
../second-hop/hotpotqa_dev100-local-<half>.traces.jsonl.gz)."""
import json, sys, tempfile
from pathlib import Path
from assistant.answering.attribution.citing import compose
from assistant.answering.build import build_thresholds
from assistant.answering.decision.decide import _stands
from assistant.embeddings import CachedEmbedder, OnnxMiniLM
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.model_check import Checker
from assistant.evaluation.replay import rejudged
from assistant.settings import Settings
SOFT = {"question names missing", "does not address the question", "answer apart from the question"}
traces, dataset, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
settings = Settings.from_env(); thr = build_thresholds(settings); emb = CachedEmbedder(OnnxMiniLM())
recs = []
with tempfile.TemporaryDirectory() as st, Checker(Path(st), settings) as checker:
    for line, row, judged in rejudged(traces, dataset, emb, thr):
        query, shown, rd, att, d = judged
        if d.answered or d.rule not in SOFT or query.context: continue
        kept = tuple(c for c in att.claims if _stands(c, shown, thr.coverage) is None)
        if not kept: continue
        gold = row.get("answers") or []
        text = compose(kept, shown, verbatim=False)[0]
        answer = " ".join(c.text for c in kept)
        p = checker.ask(" ".join(shown[i].sentence.text for i in kept[0].sentences), query.standalone, answer)
        rec = {"id": row["id"], "q": query.standalone, "answerable": bool(row.get("answerable", True)), "rule": d.rule,
               "contains": contains_answer(text, gold), "p": p, "answer": answer}
        recs.append(rec); print(rec["rule"], round(p or -1, 3), rec["answerable"], rec["contains"], answer[:50], flush=True)
out.write_text(json.dumps(recs, indent=0))
