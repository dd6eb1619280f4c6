"""The few-shot check prompt (fewshot_check_system.txt) against the check as shipped, on the fit halves: AUC among
the answers the rules let through, and right outcomes / wrong answers at each bar.
Run: python fewshot_analyse.py fit fewshot (the sweep: ../check-server/sweep.py with ASSISTANT_PROMPTS_DIR set to a
copy of the prompts whose check_system.txt is fewshot_check_system.txt)."""
import gzip, json, sys
from pathlib import Path
HERE = Path(__file__).resolve().parent
D = HERE.parent / "check-server"
def load(p):
    p = Path(p)
    return json.loads(gzip.open(p,"rt").read() if p.suffix==".gz" else p.read_text())
def auc(recs):
    pts=[(r["pA"], r["answerable"] and r["contains"]) for r in recs if r.get("pA") is not None]
    pos=[s for s,l in pts if l]; neg=[s for s,l in pts if not l]
    if not pos or not neg: return None
    return sum((p>n)+0.5*(p==n) for p in pos for n in neg)/(len(pos)*len(neg)), len(pos), len(neg)
def fig(recs, bar):
    def kept(r):
        if not r["answered"]: return False
        p=r.get("pA"); return True if p is None else p>=bar
    ans=[r for r in recs if r["answerable"]]; un=[r for r in recs if not r["answerable"]]
    c=sum(1 for r in ans if kept(r) and r["contains"]); ref=sum(1 for r in un if not kept(r))
    w=sum(1 for r in ans if kept(r) and not r["contains"])+sum(1 for r in un if kept(r))
    a=sum(1 for r in ans if kept(r))
    return c,ref,w,a
half=sys.argv[1]; pre=sys.argv[2]; folder=HERE
sets=("squad","coqa","hotpot")
for name,getter in (("base", lambda s: load(D/f"{s}-{half}.json.gz")), (pre, lambda s: load(folder/f"{pre}-{s}-{half}.json.gz"))):
    R={s:getter(s) for s in sets}
    print(name, "AUC", {s: auc(R[s]) for s in sets})
    for b in [0,0.1,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65,0.7]:
        tot=[fig(R[s],b) for s in sets]
        print(f" bar {b:.2f} right {sum(t[0]+t[1] for t in tot)} wrong {sum(t[2] for t in tot)} | " + " | ".join(f"{s} c{t[0]} a{t[3]} ref{t[1]} w{t[2]}" for s,t in zip(sets,tot)))
