"""The reader's own token probabilities: each recorded reading's prompt sent again, greedy, to a llama.cpp server
with logits_all (port 8391), its generated tokens' log-probabilities recorded.
The server: python -m llama_cpp.server --model <the gguf> --model_alias local --host 127.0.0.1 --port 8391
--n_ctx 4096 --n_batch 512 --n_threads 2 --n_threads_batch 2 --logits_all True.
Run: python tokens.py TRACES.jsonl OUT.json
TRACES: a recorded run, decompressed: ../<set>-local-<half>.traces.jsonl.gz (HotpotQA:
../second-hop/hotpotqa_dev100-local-<half>.traces.jsonl.gz)."""
import json, math, re, sys, time, urllib.request
traces, out = sys.argv[1], sys.argv[2]
def messages(prompt):
    msgs=[]; role=None; buf=[]
    for line in prompt.split("\n"):
        m=re.fullmatch(r"\[(system|user|assistant)\]", line)
        if m:
            if role: msgs.append({"role":role,"content":"\n".join(buf).strip("\n")})
            role=m.group(1); buf=[]
        else: buf.append(line)
    if role: msgs.append({"role":role,"content":"\n".join(buf).strip("\n")})
    return msgs
recs=[]
for l in open(traces):
    x=json.loads(l); t=x.get('trace') or {}; rd=t.get('reading') or {}
    if rd.get('reader') in (None,'extractive','model summary') or rd.get('failure') or not t.get('prompt'): continue
    body={"model":"local","messages":messages(t['prompt']),"temperature":0,"max_tokens":96,"logprobs":True,"top_logprobs":5}
    t0=time.perf_counter()
    req=urllib.request.Request("http://127.0.0.1:8391/v1/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type":"application/json"})
    try:
        r=json.loads(urllib.request.urlopen(req, timeout=600).read())
    except Exception as e:
        print('fail', x['id'], e, flush=True); continue
    ch=r['choices'][0]; content=ch['message']['content']
    lp=[(c['token'], c['logprob'], [(a['token'],a['logprob']) for a in c.get('top_logprobs',[])]) for c in (ch.get('logprobs') or {}).get('content',[])]
    rec={"id":x['id'],"recorded":rd.get('answer',''),"again":content,"same":content.strip()==str(rd.get('answer','')).strip(),"tokens":lp,"s":time.perf_counter()-t0}
    recs.append(rec); print(len(recs), rec['same'], round(rec['s'],1), content[:50], flush=True)
json.dump(recs, open(out,'w'))
