"""The reader's own token probabilities (tokens.py's output beside this file) as a signal: ROC AUC of each feature, right
against wrong, among the answers the rules and the check (0.30) let through and among all readings; for SQuAD also
answerable against unanswerable. Run: python tokens_analyse.py fit"""
import json, gzip, math, sys
from pathlib import Path
HERE = Path(__file__).resolve().parent
CS = HERE.parent / 'check-server'
def auc(pts):
    pos=[s for s,l in pts if l]; neg=[s for s,l in pts if not l]
    if not pos or not neg: return None
    return round(sum((p>n)+0.5*(p==n) for p in pos for n in neg)/(len(pos)*len(neg)),3)
def feats(rec):
    toks=[t for t in rec['tokens'] if t[0].strip() not in ('', '.', '<|im_end|>')]
    if not toks: return None
    lps=[t[1] for t in toks]
    first=rec['tokens'][0]
    alts=sorted((a[1] for a in first[2]), reverse=True)
    margin = alts[0]-alts[1] if len(alts)>1 else 0
    return {"p_first": math.exp(lps[0]), "min_p": math.exp(min(lps)), "mean_lp": sum(lps)/len(lps), "margin1": margin,
            "sum_lp": sum(lps), "min3": math.exp(min(lps[:3]))}
half = sys.argv[1] if len(sys.argv)>1 else 'fit'  # fit | report
for s in sys.argv[2:] or ('squad','coqa','hotpot'):
    p=HERE/f'tokens-{s}-{half}.json.gz'
    if not p.exists(): continue
    tok={r['id']:r for r in json.loads(gzip.open(p,'rt').read())}
    sw={r['id']:r for r in json.loads(gzip.open(CS/f'{s}-{half}.json.gz','rt').read())}
    same=sum(r['same'] for r in tok.values())
    print(f'== {s} {half}: {len(tok)} readings, {same} regenerated the same')
    # (a) the answers the rules and the check let through
    let=[i for i,r in sw.items() if r['answered'] and (r.get('pA') is None or r['pA']>=0.3) and i in tok]
    lab=lambda i: sw[i]['answerable'] and sw[i]['contains']
    F={i:feats(tok[i]) for i in tok}
    for f in ("p_first","min_p","mean_lp","margin1","sum_lp","min3"):
        a=auc([(F[i][f],lab(i)) for i in let if F[i]])
        b=auc([(F[i][f], sw[i]['answerable']) for i in sw if i in tok and F[i]]) if s=='squad' else None
        c=auc([(F[i][f], sw[i]['answerable'] and sw[i]['read_contains']) for i in sw if i in tok and F[i]])
        print(f'  {f:8s} let-through right/wrong {a}  | all readings right/wrong {c}' + (f' | answerable/unanswerable {b}' if b else ''))
    print('  check pA among let-through', auc([(sw[i]['pA'],lab(i)) for i in let if sw[i].get('pA') is not None]), 'n', len(let), 'right', sum(lab(i) for i in let))
