"""The model check at each bar on the recorded readings (`sweep.py`'s output beside this file): per set, answers
holding the gold (c), answerable questions answered (ans), unanswerable refused (ref), wrong answers (w); "right" is
c + ref over the three sets. Run: python analyse.py fit|report [PREFIX] (PREFIX "promptB-": the second prompt)."""
import gzip, json, sys
from pathlib import Path
D = Path(__file__).resolve().parent
PRE = sys.argv[2] if len(sys.argv) > 2 else ""
def load(name):
    p = D / f"{PRE}{name}.json.gz"
    return json.loads(gzip.open(p, "rt").read()) if p.exists() else None
def figures(recs, bar, var="pA", gate=None):
    ans = [r for r in recs if r["answerable"]]; un = [r for r in recs if not r["answerable"]]
    def kept(r):
        if not r["answered"]: return False
        p = r.get(var)
        if p is None: return True
        if gate == "one" and r["articles"] != 1: return True
        return p >= bar
    c = sum(1 for r in ans if kept(r) and r["contains"]); a = sum(1 for r in ans if kept(r))
    ref = sum(1 for r in un if not kept(r))
    wrong = sum(1 for r in ans if kept(r) and not r["contains"]) + sum(1 for r in un if kept(r))
    return dict(n=len(recs), contains=c, answered=a, nans=len(ans), refused=ref, nun=len(un), wrong=wrong, right=c+ref)
halves = sys.argv[1:2] or ["fit"]
bars = [0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]
for half in halves:
    for var in ("pA", "pB"):
        for gate in (None, "one"):
            print(f"== {half} {var} gate={gate}")
            for b in bars:
                row = []
                tot_right = tot_wrong = 0
                for s in ("squad", "coqa", "hotpot"):
                    recs = load(f"{s}-{half}")
                    if recs is None: continue
                    f = figures(recs, b, var, gate)
                    tot_right += f["right"]; tot_wrong += f["wrong"]
                    row.append(f"{s}: c{f['contains']}/{f['nans']} ans{f['answered']} ref{f['refused']}/{f['nun']} w{f['wrong']}")
                print(f"bar {b:.2f} | right {tot_right} wrong {tot_wrong} | " + " | ".join(row))
