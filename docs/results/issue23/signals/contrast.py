"""The model check against answers it was not given (issue 23, 2026-12-07, afternoon): for every recorded model reading
of a half, the decision replayed with today's rules; for the answered ones (of a question asked on its own) the
check's yes-probability for the answer (pA), for up to three other names or numbers of the same sentence (p_alts) and
for "N/A" (p_na), asked of a check server as the product's. `check-server/sweep.py` with those questions added.

Run: python contrast.py TRACES.jsonl(.gz) eval/SET.jsonl OUT.json; then analyse_contrast.py in OUT's folder."""
import json, re, sys
from assistant.answering.names import runs
NUM = re.compile(r'\$?\d[\d,.]*(?:\s(?:million|billion|percent))?')
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
            sent = " ".join(shown[i].sentence.text for i in a_idx)
            rec["pA"] = checker.ask(sent, query.standalone, answer)
            aw = {w.lower().strip(".,") for w in answer.split()}
            qw = {w.lower().strip(".,?") for w in query.standalone.split()}
            cands = [" ".join(r) for r in runs(sent)] + NUM.findall(sent)
            alts = []
            for c in dict.fromkeys(cands):
                cw = {w.lower().strip(".,") for w in c.split()}
                if cw & aw or cw <= qw:
                    continue
                alts.append(c)
            alts = alts[:3]
            rec["alts"] = alts
            rec["p_alts"] = [checker.ask(sent, query.standalone, a) for a in alts]
            rec["p_na"] = checker.ask(sent, query.standalone, "N/A")
            rec["answer"] = answer
        recs.append(rec)
        print(len(recs), rec.get("pA"), rec.get("p_alts"), rec.get("p_na"), rec["contains"], flush=True)
out.write_text(json.dumps(recs, indent=0))
