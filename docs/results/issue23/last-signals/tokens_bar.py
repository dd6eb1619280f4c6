"""The least token probability of the reader's answer as a refusal bar after the check (0.30), on a half's recorded
readings: right outcomes (gold answers + unanswerable refused) and wrong answers per bar. Run: python tokens_bar.py fit|report"""
import json,gzip,math,sys
from pathlib import Path
HERE=Path(__file__).resolve().parent
CS=HERE.parent/'check-server'
half=sys.argv[1]; sets=sys.argv[2:] or ['squad','coqa','hotpot']
def feats(rec):
    toks=[t for t in rec['tokens'] if t[0].strip() not in ('', '.', '<|im_end|>')]
    if not toks: return None
    lps=[t[1] for t in toks]; return {"min_p": math.exp(min(lps))}
for bar in (0, 0.2, 0.25, 0.3):
    R=W=0; parts=[]
    for s in sets:
        p=HERE/f'tokens-{s}-{half}.json.gz'
        if not p.exists(): continue
        tok={r['id']:r for r in json.loads(gzip.open(p,'rt').read())}
        sw=json.loads(gzip.open(CS/f'{s}-{half}.json.gz','rt').read())
        c=ref=w=a=0; nans=sum(r['answerable'] for r in sw); nun=len(sw)-nans
        for r in sw:
            kept = r['answered'] and (r.get('pA') is None or r['pA']>=0.3)
            if kept and r['id'] in tok and not r['followup']:
                ft=feats(tok[r['id']])
                if ft and ft['min_p']<bar: kept=False
            if r['answerable'] and kept: a+=1
            if r['answerable'] and kept and r['contains']: c+=1
            if not r['answerable'] and not kept: ref+=1
            if kept and not (r['answerable'] and r['contains']): w+=1
        R+=c+ref; W+=w; parts.append(f"{s} gold {c}/{nans} answered {a}/{nans} refused {ref}/{nun} wrong {w}")
    print(f'min_p bar {bar}: right {R} wrong {W} | ' + ' | '.join(parts))
