"""A probe of the sample article as a new user would ask (our own questions, each set written before its first run).

Run (from the repository, the local model installed):
    ASSISTANT_ANSWERER=local PYTHONPATH=. python docs/results/issue23/probes/run_probe.py QUESTIONS.json OUT.json
Right: an answerable question answered with one of its expected words in the text; an unanswerable one refused.
"""
import json, sys, tempfile, time
from pathlib import Path
from assistant import Assistant
qs = json.load(open(sys.argv[1]))
out = Path(sys.argv[2]); rows = []
with tempfile.TemporaryDirectory() as tmp:
    bot = Assistant(index_dir=tmp)
    bot.ingest([str(Path(__file__).resolve().parents[4] / 'articles')])
    bot.warm_up()
    def ask(q, history, expect):
        t = time.perf_counter(); a = bot.answer(q, history=history); dt = time.perf_counter() - t
        tr = a.trace
        ok = (a.answered and any(e.lower() in a.text.lower() for e in expect)) if expect else (not a.answered)
        rows.append(dict(q=q, expect=expect, ok=ok, answered=a.answered, text=a.text, seconds=round(dt, 2),
                         reading=(tr.reading.answer if tr and tr.reading else None),
                         rule=(tr.decision.rule if tr else None), reason=(tr.decision.reason if tr else None),
                         check=next((n for n in (tr.notes if tr else []) if n.startswith('model check')), None),
                         again=next((n for n in (tr.notes if tr else []) if n.startswith('read again')), None)))
        print(('OK  ' if ok else 'BAD ') + q, '->', a.text[:150].replace('\n', ' '), '|', rows[-1]['reason'], flush=True)
        return a
    for q, e in qs['single']: ask(q, None, e)
    for conv in qs['conversations']:
        h = []
        for q, e in conv:
            a = ask(q, list(h), e); h.append((q, a.text))
    for q in qs['unanswerable']: ask(q, None, None)
ans = [r for r in rows if r['expect']]; un = [r for r in rows if not r['expect']]
summary = dict(right=round(sum(r['ok'] for r in rows) / len(rows), 3), answerable_right=f"{sum(r['ok'] for r in ans)}/{len(ans)}",
               refused=f"{sum(r['ok'] for r in un)}/{len(un)}", p95_s=sorted(r['seconds'] for r in rows)[int(0.95 * len(rows)) - 1])
print(summary)
json.dump(dict(summary=summary, rows=rows), open(out, 'w'), indent=1)
