"""The reading most agreed on among the greedy one and the four sampled (../read-again/*.json.gz): does choosing it
hold the gold more often than the greedy reading? Run: python vote.py"""
import json, gzip, sys
from assistant.answering.decision.agreement import agreement_with
from assistant.evaluation.metrics import contains_answer
from pathlib import Path
D=str(Path(__file__).resolve().parent.parent / 'read-again')+'/'
for half in ('fit','report'):
  for s in ('squad','coqa','hotpot'):
    recs=json.loads(gzip.open(D+f'{s}-{half}.json.gz','rt').read())
    n=g=v=vm=0; changed=[]
    for r in recs:
        if not r['answerable'] or not r.get('samples'): continue
        q=r.get('q') or r.get('question') or ''
        cands=[r['greedy']]+r['samples']
        def score(i):
            return sum(agreement_with(cands[i], q, cands[j]) for j in range(len(cands)) if j!=i)/(len(cands)-1)
        sc=[score(i) for i in range(len(cands))]
        best=max(range(len(cands)), key=lambda i:(round(sc[i],6), i==0))
        n+=1; gc=contains_answer(r['greedy'], r['gold']); bc=contains_answer(cands[best], r['gold'])
        g+=gc; v+=bc
        if gc!=bc: changed.append((gc,bc,r['greedy'][:50],cands[best][:50]))
    print(half,s,'answerable with samples',n,'greedy contains',g,'voted contains',v)
    for c in changed[:6]: print('   ',c)
