"""The probes' questions asked of the product (ASSISTANT_ANSWERER=local; the reader asked again off or on as the code
stands), and each answered one's prompt sampled 4 times at 0.8 (seeds 1000..) from the shared answer server.
Run: ASSISTANT_ANSWERER=local python probe_sample.py ../probes/probeN-questions.json ... OUT.json"""
import json, sys, tempfile, time, re
from pathlib import Path
from assistant import Assistant
from assistant.settings import Settings
from assistant.llm.local.llama_server import local_server
import urllib.request
SPLIT = re.compile(r"(?:^|\n\n)\[(system|user|assistant)\]\n")
def messages(prompt):
    parts = SPLIT.split(prompt)
    return [{"role": parts[i], "content": parts[i + 1]} for i in range(1, len(parts) - 1, 2)]
def ask(url, msgs, temp, seed):
    body = {"model": "local", "messages": msgs, "max_tokens": 96, "temperature": temp, "seed": seed, "top_p": 0.95}
    req = urllib.request.Request(f"{url}/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.load(r)["choices"][0]["message"]["content"].strip()
out = Path(sys.argv[-1]); rows = []
with tempfile.TemporaryDirectory() as tmp:
    bot = Assistant(index_dir=tmp)
    bot.ingest([str(Path(__file__).resolve().parents[4] / "articles")])
    bot.warm_up()
    url = local_server(Settings.from_env()).ensure_running()
    def run(q, history, expect, probe):
        a = bot.answer(q, history=history); tr = a.trace
        ok = (a.answered and any(e.lower() in a.text.lower() for e in expect)) if expect else (not a.answered)
        rec = dict(probe=probe, q=q, expect=expect, ok=ok, answered=a.answered, text=a.text, reading=tr.reading.answer if tr and tr.reading else None,
                   check=next((n for n in tr.notes if n.startswith("model check")), None), rule=tr.decision.rule)
        if a.answered and tr.reading and tr.reading.prompt:
            msgs = messages(tr.reading.prompt)
            t = time.perf_counter(); rec["samples"] = [ask(url, msgs, 0.8, 1000 + k) for k in range(4)]; rec["s"] = time.perf_counter() - t
        rows.append(rec); print(probe, ok, q, "->", rec["reading"], "|", rec.get("samples"), flush=True)
        return a
    for pf in sys.argv[1:-1]:
        qs = json.load(open(pf)); probe = Path(pf).stem
        for q, e in qs["single"]: run(q, None, e, probe)
        for conv in qs["conversations"]:
            h = []
            for q, e in conv:
                a = run(q, list(h), e, probe); h.append((q, a.text))
        for q in qs["unanswerable"]: run(q, None, None, probe)
json.dump(rows, open(out, "w"), indent=1)
