"""ROC AUC of the contrast check's scores (contrast.py's output, SET-fit.json in the working folder).
Run: python analyse_contrast.py fit"""
import gzip, json, numpy as np, sys, os
def auc(x,y):
    x=np.array(x,float); y=np.array(y,bool); pos=x[y]; neg=x[~y]
    return (np.sum(pos[:,None]>neg[None,:])+0.5*np.sum(pos[:,None]==neg[None,:]))/(len(pos)*len(neg))
h=sys.argv[1] if len(sys.argv)>1 else "fit"
allr=[]
for s in ("squad","coqa","hotpot"):
    if not (os.path.exists(f"{s}-{h}.json") or os.path.exists(f"contrast-{s}-{h}.json.gz")): continue
    R=[r for r in json.load(open(f"{s}-{h}.json") if os.path.exists(f"{s}-{h}.json") else gzip.open(f"contrast-{s}-{h}.json.gz", "rt")) if r.get("pA") is not None]
    allr+=R
    for name,RR in ((s,R),):
        y=[r["answerable"] and r["contains"] for r in RR]
        pa=[r["pA"] for r in RR]
        alt=[max(r["p_alts"]) if r["p_alts"] else 0 for r in RR]
        na=[r["p_na"] for r in RR]
        has=[bool(r["p_alts"]) for r in RR]
        print(name,len(RR),"no-alts",has.count(False),"A",round(auc(pa,y),3),"A-maxalt",round(auc([a-b for a,b in zip(pa,alt)],y),3),
              "A-na",round(auc([a-b for a,b in zip(pa,na)],y),3),"A/(A+alt)",round(auc([a/(a+b) for a,b in zip(pa,alt)],y),3),
              "A-meanalt",round(auc([a-(np.mean(r['p_alts']) if r['p_alts'] else 0) for a,r in zip(pa,RR)],y),3),
              "maxalt",round(auc(alt,y),3), "na", round(auc(na,y),3))
print("combos")
for s in ("squad","coqa","hotpot","all"):
    RR=[r for r in allr if s=="all" or r["id"].startswith(s[:4]) or (s=="squad" and r["id"].startswith("squad"))]
    y=[r["answerable"] and r["contains"] for r in RR]
    pa=np.array([r["pA"] for r in RR]); na=np.array([r["p_na"] for r in RR]); alt=np.array([max(r["p_alts"]) if r["p_alts"] else 0 for r in RR])
    print(s,len(RR),"A",round(auc(pa,y),3),"A+na",round(auc(pa+na,y),3),"A+.5na",round(auc(pa+.5*na,y),3),"min(A,na)",round(auc(np.minimum(pa,na),y),3),"A+alt",round(auc(pa+alt,y),3),"A+na+alt",round(auc(pa+na+alt,y),3))
