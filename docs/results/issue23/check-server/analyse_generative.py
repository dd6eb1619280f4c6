"""The generative check (`sweep_generative.py`: the plain recipe asked with only the answer's cited sentences;
NOT_IN_TEXT refuses) beside the yes-probability check at 0.30, on the fit halves' answers the word rules let
through. Run: python analyse_generative.py fit"""
import json, gzip, sys
from pathlib import Path
D = Path(__file__).resolve().parent
half = sys.argv[1] if len(sys.argv) > 1 else "fit"
def show(name, refuse):
    tot = 0
    out = []
    for s in ("squad","coqa","hotpot"):
        g = json.loads(gzip.open(D / f'generative-{s}-{half}.json.gz', 'rt').read())
        a = {r['id']: r for r in json.loads(gzip.open(D / f'{s}-{half}.json.gz', 'rt').read())}
        lost = sum(1 for r in g if r['answerable'] and r['contains'] and refuse(r, a.get(r['id'])))
        wrong = sum(1 for r in g if r['answerable'] and not r['contains'] and refuse(r, a.get(r['id'])))
        un = sum(1 for r in g if not r['answerable'] and refuse(r, a.get(r['id'])))
        tot += un - lost
        out.append(f"{s}: lost {lost} wrong-refused {wrong} unans-refused {un}")
    print(f"{name:40s} net right {tot:+d} | " + " | ".join(out))
p = lambda a: (a or {}).get('pA')
show("check 0.30", lambda r, a: p(a) is not None and p(a) < 0.30)
show("gen first sentence", lambda r, a: r['refused'])
show("gen all cited", lambda r, a: r['refused_all'])
show("gen first, one article", lambda r, a: r['refused'] and r['articles'] == 1)
show("gen all cited, one article", lambda r, a: r['refused_all'] and r['articles'] == 1)
show("gen all, one article OR check .30", lambda r, a: (r['refused_all'] and r['articles'] == 1) or (p(a) is not None and p(a) < 0.30))
show("gen first, one article OR check .30", lambda r, a: (r['refused'] and r['articles'] == 1) or (p(a) is not None and p(a) < 0.30))
