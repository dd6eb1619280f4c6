"""ROC AUC of each feature (features.py's output) for right answers against wrong ones, per set and half.
Run (in this folder): python analyse_features.py"""
import gzip, json, numpy as np, itertools
def load(h): 
    r=[]
    for s in ("squad","coqa","hotpot"): r+= json.loads(gzip.open(f"words-{s}-{h}.json.gz", "rt").read())
    return r
def auc(x,y):
    x=np.array(x,float); y=np.array(y,bool)
    pos=x[y]; neg=x[~y]
    if len(pos)==0 or len(neg)==0: return float('nan')
    return (np.sum(pos[:,None]>neg[None,:])+0.5*np.sum(pos[:,None]==neg[None,:]))/(len(pos)*len(neg))
F=["weakest","second","low","pA","relevance","fit","qcov","qcov_all","cos_qs","cos_as","cos_qa","nsent","alen","coverage","top","qsentcov","sim"]
for h in ("fit","report"):
    R=[r for r in load(h) if not r["followup"] and r["pA"] is not None]
    y=[r["answerable"] and r["contains"] for r in R]
    print(h, len(R), sum(y))
    for s in (None,"squad","coqa","hotpot"):
        RR=[r for r in R if s is None or r["set"].startswith(s[:4])]
        yy=[r["answerable"] and r["contains"] for r in RR]
        print(" ", s or "all", len(RR), " ".join(f"{f}:{auc([r[f] for r in RR],yy):.2f}" for f in F))
