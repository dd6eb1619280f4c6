"""Word and embedding features of every answer the rules let through (issue 23, 2026-12-07, afternoon), beside the
model check's yes-probability (check-server/SET-HALF.json.gz): the question's terms in the cited sentence, cosines,
the weakest question term's nearest word in the sentence and its neighbours, lengths.
Run: python features.py TRACES.jsonl eval/SET.jsonl check-server/SET-HALF.json.gz words-SET-HALF.json"""
import gzip, json, sys
from pathlib import Path
from assistant.answering.attribution.citing import compose
from assistant.answering.build import build_thresholds
from assistant.answering.terms import terms
from assistant.answering.attribution import support
from assistant.embeddings import CachedEmbedder, OnnxMiniLM
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.replay import rejudged
from assistant.settings import Settings
import numpy as np

traces, dataset, sweep, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
settings = Settings.from_env()
thr = build_thresholds(settings)
emb = CachedEmbedder(OnnxMiniLM())
sw = {r["id"]: r for r in json.loads(gzip.open(sweep, "rt").read())}
recs = []
def cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
for line, row, judged in rejudged(traces, dataset, emb, thr):
    query, shown, rd, att, d = judged
    if not d.answered: continue
    gold = row.get("answers") or []
    text = compose(d.kept, shown, verbatim=False)[0]
    idx = sorted({i for c in d.kept for i in c.sentences})
    first = list(d.kept[0].sentences)
    sents = " ".join(shown[i].sentence.text for i in first)
    allsents = " ".join(shown[i].sentence.text for i in idx)
    qt = set(terms(query.standalone))
    st = set(terms(sents)); at = set(terms(allsents))
    qcov = sum(1 for t in qt if support.matches(t, st, loose=True)) / max(1, len(qt))
    qcov_all = sum(1 for t in qt if support.matches(t, at, loose=True)) / max(1, len(qt))
    e = emb.embed([query.standalone, sents, " ".join(c.text for c in d.kept)])
    s = sw.get(row["id"], {})
    from assistant.answering.terms import key_terms
    names_q = key_terms(query.standalone)
    reach = set(terms(allsents)) | set(terms(" ".join(shown[j].sentence.text for j in range(len(shown)) if any(shown[j].sentence.article_id == shown[i].sentence.article_id and abs(shown[j].sentence.index - shown[i].sentence.index) <= 1 for i in idx))))
    qterms = [t for t in dict.fromkeys(terms(query.standalone)) if t not in names_q]
    words = sorted(reach)
    sims = []
    if qterms and words:
        vq = emb.embed(qterms); vw = emb.embed(words)
        vq = np.array(vq); vw = np.array(vw)
        vq = vq / np.linalg.norm(vq, axis=1, keepdims=True); vw = vw / np.linalg.norm(vw, axis=1, keepdims=True)
        m = vq @ vw.T
        for k, t in enumerate(qterms):
            sims.append(1.0 if support.matches(t, reach, loose=True) else float(m[k].max()))
    weakest = min(sims) if sims else 1.0
    second = sorted(sims)[1] if len(sims) > 1 else 1.0
    low = sum(1 for x in sims if x < 0.6)
    recs.append(dict(id=row["id"], set=str(dataset.name), answerable=bool(row.get("answerable", True)),
        contains=contains_answer(text, gold), followup=bool(query.context), pA=s.get("pA"),
        relevance=d.confidence, fit=max(c.fit for c in d.kept), qcov=qcov, qcov_all=qcov_all, nq=len(qt),
        cos_qs=cos(e[0], e[1]), cos_as=cos(e[2], e[1]), cos_qa=cos(e[0], e[2]), nsent=len(idx),
        alen=len(" ".join(c.text for c in d.kept).split()), coverage=min(c.coverage for c in d.kept),
        top=max(shown[i].score for i in idx), qsentcov=max(shown[i].coverage for i in first), sim=max(shown[i].similarity for i in first),
        q=query.standalone, weakest=weakest, second=second, low=low, qterms=qterms, sims=sims, a=" ".join(c.text for c in d.kept)))
json.dump(recs, open(out, "w"))
print(out, len(recs))
