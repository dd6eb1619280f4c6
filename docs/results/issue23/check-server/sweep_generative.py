"""Generative check (measured, not adopted: docs/evaluation.md): for each answer the word rules let through (question asked on its own), the plain recipe asked
with only the answer's first claim's sentences as the text; records whether it refuses (NOT_IN_TEXT) and its reply."""
import json, sys, time, tempfile, urllib.request
from pathlib import Path
from assistant.answering.reading import text as read_text
from assistant.answering.build import build_thresholds
from assistant.embeddings import CachedEmbedder, OnnxMiniLM
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.model_check import Checker
from assistant.evaluation.replay import rejudged
from assistant.settings import Settings

traces, dataset, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
settings = Settings.from_env()
thr = build_thresholds(settings)
emb = CachedEmbedder(OnnxMiniLM())
system = open(Path(settings.prompts_dir) / "plain_system.txt").read().strip()
recs = []
with tempfile.TemporaryDirectory() as st, Checker(Path(st), settings) as checker:
    for line, row, judged in rejudged(traces, dataset, emb, thr):
        query, shown, rd, _, d = judged
        if query.context:
            continue
        if not (d.answered and d.kept):
            continue
        gold = row.get("answers") or []
        from assistant.answering.attribution.citing import compose
        text = compose(d.kept, shown, verbatim=False)[0]
        sentence = " ".join(shown[i].sentence.text for i in d.kept[0].sentences)
        def ask(text):
            body = {"model": "local", "max_tokens": 16, "temperature": 0, "messages": [
                {"role": "system", "content": system}, {"role": "user", "content": text}, {"role": "user", "content": query.standalone}]}
            req = urllib.request.Request(f"{checker.url}/chat/completions", json.dumps(body).encode(), {"content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.load(r)["choices"][0]["message"]["content"]
        t = time.perf_counter()
        reply = ask(sentence)
        every = sorted({i for c in d.kept for i in c.sentences})
        all_text = " ".join(shown[i].sentence.text for i in every)
        reply_all = reply if all_text == sentence else ask(all_text)
        ca = read_text.clean(reply_all)
        cleaned = read_text.clean(reply)
        rec = {"id": row["id"], "q": query.standalone, "answerable": bool(row.get("answerable", True)),
               "contains": contains_answer(text, gold), "answer": " ".join(c.text for c in d.kept), "reply": reply,
               "refused": (not cleaned) or read_text.is_refusal(cleaned), "s": time.perf_counter() - t,
               "sentence": sentence, "all_text": all_text, "reply_all": reply_all,
               "refused_all": (not ca) or read_text.is_refusal(ca), "articles": len({shown[i].sentence.article_id for i in every})}
        recs.append(rec)
        print(len(recs), rec["refused"], rec["contains"], rec["answerable"], flush=True)
out.write_text(json.dumps(recs, indent=0))
