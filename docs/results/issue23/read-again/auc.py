"""ROC AUC of agreement (sample.py's output) for right answers against wrong ones, beside the model check's.
Run: python auc.py squad-fit coqa-fit hotpot-fit"""
import json, gzip, re, sys, numpy as np
from pathlib import Path
D = Path(__file__).resolve().parent
from assistant.answering.terms import terms
def auc(x,y):
    x=np.array(x,float); y=np.array(y,bool); pos=x[y]; neg=x[~y]
    if not len(pos) or not len(neg): return float("nan")
    return (np.sum(pos[:,None]>neg[None,:])+0.5*np.sum(pos[:,None]==neg[None,:]))/(len(pos)*len(neg))
def norm(s): return [w for w in re.sub(r"[^\w\s]"," ",s.lower()).split() if w not in ("a","an","the")]
def f1(a,b):
    a,b=norm(a),norm(b)
    if not a or not b: return 0.0
    common=sum(min(a.count(w),b.count(w)) for w in set(a))
    if not common: return 0.0
    p=common/len(a); r=common/len(b); return 2*p*r/(p+r)
def newcov(s,g,q):
    qt=set(terms(q)); gt=[t for t in set(terms(g)) if t not in qt]
    if not gt: return 1.0
    st=set(terms(s)); return sum(1 for t in gt if t in st)/len(gt)
sets=sys.argv[1:] or ["squad-fit"]
for name in sets:
    S={r["id"]:r for r in json.loads(gzip.open(D / f"{name}.json.gz","rt").read())}
    W={r["id"]:r for r in json.loads(gzip.open(D.parent / "check-server" / f"{name}.json.gz","rt").read())}
    rows=[]
    for i,w in W.items():
        if i not in S or not w["answered"]: continue
        s=S[i]; g=s["recorded"] or s["greedy"]
        ag_f1=np.mean([f1(x,g)>=0.5 for x in s["samples"]])
        ag_cov=np.mean([newcov(x,g,w["q"]) for x in s["samples"]])
        ag_cov5=np.mean([newcov(x,g,w["q"])>=0.5 for x in s["samples"]])
        rows.append(dict(id=i,right=w["answerable"] and w["contains"],pA=w.get("pA"),f1=ag_f1,cov=ag_cov,cov5=ag_cov5,same=float(s["greedy"]==s["recorded"]),answerable=w["answerable"],contains=w["contains"]))
    y=[r["right"] for r in rows]
    print(name,len(rows),"right",sum(y),"greedy==recorded",sum(r["same"] for r in rows))
    for f in ("f1","cov","cov5"):
        print(" ",f,"AUC",round(auc([r[f] for r in rows],y),3), "dist right",np.round(np.percentile([r[f] for r in rows if r["right"]],[10,25,50]),2),"wrong",np.round(np.percentile([r[f] for r in rows if not r["right"]],[10,25,50,75]),2))
    wp=[r for r in rows if r["pA"] is not None]
    print("  pA AUC",round(auc([r["pA"] for r in wp],[r["right"] for r in wp]),3), "pA*cov",round(auc([r["pA"]*r["cov"] for r in wp],[r["right"] for r in wp]),3),"min",round(auc([min(r["pA"],r["cov"]) for r in wp],[r["right"] for r in wp]),3))
