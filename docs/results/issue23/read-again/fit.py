"""Right outcomes (gold answers + unanswerable questions refused) and wrong answers per half, with the model check at
0.30 and the reader asked again (`decision.agreement`) at each bar, from sample.py's output beside this file and the
check sweep's (`../check-server/SET-HALF.json.gz`: the decision replayed with today's rules, the check's p).
Run: python fit.py fit|report"""
import json, gzip, sys
from pathlib import Path
D = Path(__file__).resolve().parent
from assistant.answering.decision.agreement import agreement_with
half = sys.argv[1] if len(sys.argv) > 1 else "fit"
ONLY_ALONE = "--alone" in sys.argv  # the reader asked again only for a question asked on its own
sets = [s for s in ("squad", "coqa", "hotpot")]
data = {}
for s in sets:
    W = json.loads(gzip.open(D.parent / "check-server" / f"{s}-{half}.json.gz", "rt").read())
    if not (D / f"{s}-{half}.json.gz").exists():
        continue
    S = {r["id"]: r for r in json.loads(gzip.open(D / f"{s}-{half}.json.gz", "rt").read())}
    for w in W:
        sm = S.get(w["id"])
        # the reader's own answer, as the product compares: the recorded reading
        w["agree"] = (sum(agreement_with(sm["recorded"] or sm["greedy"], w["q"], x) for x in sm["samples"]) / len(sm["samples"])) if sm else None
    data[s] = W
def figs(W, bar, check=0.30):
    ans = [r for r in W if r["answerable"]]; un = [r for r in W if not r["answerable"]]
    def kept(r):
        if not r["answered"]: return False
        if r.get("pA") is not None and r["pA"] < check: return False
        if r["agree"] is not None and r["agree"] < bar and not (ONLY_ALONE and r.get("followup")): return False
        return True
    c = sum(1 for r in ans if kept(r) and r["contains"]); ref = sum(1 for r in un if not kept(r)); a = sum(1 for r in ans if kept(r))
    w = sum(1 for r in ans if kept(r) and not r["contains"]) + sum(1 for r in un if kept(r))
    return c, ref, a, w, len(ans), len(un)
for bar in (0, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0):
    tot_r = tot_w = 0; row = []
    for s, W in data.items():
        c, ref, a, w, na, nu = figs(W, bar)
        tot_r += c + ref; tot_w += w
        row.append(f"{s}: c{c}/{na} ans{a} ref{ref}/{nu} w{w}")
    print(f"bar {bar:.2f} right {tot_r} wrong {tot_w} | " + " | ".join(row))
