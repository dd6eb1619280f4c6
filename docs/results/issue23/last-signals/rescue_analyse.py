"""What the check would bring back if a high yes-probability overturned a word rule's refusal (rescue.py's output
beside this file, fit halves): per set and bar, the refusals it would answer, the gold answers among them, the
unanswerable questions and the wrong answers. Run: python rescue_analyse.py"""
import gzip, json
from pathlib import Path
HERE = Path(__file__).resolve().parent
for s in ("squad", "coqa", "hotpot"):
    recs = json.loads(gzip.open(HERE / f"rescue-{s}-fit.json.gz", "rt").read())
    for bar in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        res = [x for x in recs if x["p"] is not None and x["p"] >= bar]
        print(s, bar, "answered", len(res), "gold", sum(1 for x in res if x["answerable"] and x["contains"]),
              "unanswerable", sum(1 for x in res if not x["answerable"]),
              "wrong", sum(1 for x in res if x["answerable"] and not x["contains"]))
