"""The reader asked again (issue 23, 2026-12-07, afternoon): for each recorded model reading of a half, its prompt
read once more greedily and N times sampled at TEMP (seeds 1000.., top-p 0.95: llama.cpp's default) from an answer
server like the product's (the prompt read from its cache after the first), with the reading as recorded.
Run: python sample.py TRACES.jsonl eval/SET.jsonl OUT.json [N] [TEMP]  (then gzip OUT into SET-HALF.json.gz)"""
import json, re, sys, tempfile, time, urllib.request
from dataclasses import replace
from pathlib import Path
from assistant.settings import Settings
from assistant.llm.local.llama_server import LlamaServer, local_server
from assistant.evaluation.rows import read_rows
from assistant.evaluation.metrics import contains_answer

traces, dataset, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
N = int(sys.argv[4]) if len(sys.argv) > 4 else 4
TEMP = float(sys.argv[5]) if len(sys.argv) > 5 else 0.8
rows = {r["id"]: r for r in read_rows(dataset)}
SPLIT = re.compile(r"(?:^|\n\n)\[(system|user|assistant)\]\n")

def messages(prompt):
    parts = SPLIT.split(prompt)
    return [{"role": parts[i], "content": parts[i + 1]} for i in range(1, len(parts) - 1, 2)]

def ask(url, msgs, temp, seed):
    body = {"model": "local", "messages": msgs, "max_tokens": 96, "temperature": temp, "seed": seed, "top_p": 0.95}
    req = urllib.request.Request(f"{url}/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.load(r)["choices"][0]["message"]["content"].strip()

settings = Settings.from_env()
recs = []
with tempfile.TemporaryDirectory() as st:
    product = local_server(settings)
    server = LlamaServer(replace(product.config, log_path=Path(st) / "answer.log", state_dir=Path(st), keep_alive=0))
    url = server.ensure_running()
    try:
        for line in open(traces):
            d = json.loads(line); t = d.get("trace") or {}; row = rows.get(d["id"])
            rd = t.get("reading") or {}
            if row is None or rd.get("reader") in (None, "extractive", "model summary") or rd.get("failure"):
                continue
            msgs = messages(rd.get("prompt") or t.get("prompt") or "")
            t0 = time.perf_counter()
            greedy = ask(url, msgs, 0, 0)
            t1 = time.perf_counter()
            samples = [ask(url, msgs, TEMP, 1000 + k) for k in range(N)]
            t2 = time.perf_counter()
            gold = row.get("answers") or []
            recs.append({"id": d["id"], "greedy": greedy, "recorded": rd.get("answer"), "samples": samples,
                         "answerable": bool(row.get("answerable", True)), "gold": gold,
                         "samples_contain": [contains_answer(s, gold) for s in samples],
                         "s_greedy": t1 - t0, "s_samples": t2 - t1})
            print(len(recs), round(t1 - t0, 1), round(t2 - t1, 1), greedy[:40], "|", [s[:25] for s in samples], flush=True)
    finally:
        server.stop()
Path(out).write_text(json.dumps(recs, indent=0))
