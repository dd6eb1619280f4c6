"""Scoring for `assistant eval`: evidence overlap, answer containment and token F1, refusal counts."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

from assistant.evaluation.rows import Figures, Scored

_PUNCT = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


K = 5  # evidence recall counts the top K retrieved sentences


def norm_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = norm_answer(prediction).split(), norm_answer(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or not common:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains_answer(prediction: str, golds: Iterable[str]) -> bool:
    pred = f" {norm_answer(prediction)} "
    return any(norm_answer(g) and f" {norm_answer(g)} " in pred for g in golds)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def overlaps(sentence: str, evidence: str, min_share: float = 0.6) -> bool:
    """Gold evidence was cut by another splitter: match by word overlap, not equality."""
    a, b = _tokens(sentence), _tokens(evidence)
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= min_share


def hits_evidence(items: Sequence[tuple[str, str]], evidence: Sequence[tuple[str, str]]) -> list[bool]:
    """For each (doc_id, text) item: does it overlap some gold (doc_id, text) evidence?"""
    return [any(doc == gdoc and overlaps(text, gtext) for gdoc, gtext in evidence) for doc, text in items]


def evidence_covered(items: Sequence[tuple[str, str]], evidence: Sequence[tuple[str, str]]) -> list[bool]:
    """For each gold evidence sentence: is it overlapped by some item?"""
    return [any(doc == gdoc and overlaps(text, gtext) for doc, text in items) for gdoc, gtext in evidence]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def tradeoff(confidences: Sequence[tuple[float | None, bool]], steps: int = 41) -> list[dict[str, float | None]]:
    """Refusal bar sweep: (confidence the decision step weighed, answerable?) -> rates per bar. A confidence of
    None is an answer refused by an earlier rule, which no bar brings back."""
    finite = [c for c, _ in confidences if c is not None]
    if not finite:
        return []
    lo, hi = min(finite), max(finite)
    pos = [c for c, a in confidences if a]
    neg = [c for c, a in confidences if not a]
    rows = []
    for i in range(steps):
        t = lo + (hi - lo) * i / (steps - 1)
        rows.append(
            {
                "threshold": round(t, 4),
                "answered_answerable": round(sum(c is not None and c >= t for c in pos) / len(pos), 4) if pos else None,
                "refused_unanswerable": round(sum(c is None or c < t for c in neg) / len(neg), 4) if neg else None,
            }
        )
    return rows


def summarise(records: Sequence[Scored]) -> Figures:
    pos = [r for r in records if r["answerable"]]
    neg = [r for r in records if not r["answerable"]]
    answered_pos = [r for r in pos if r["answered"]]
    refused = [r for r in records if not r["answered"]]
    cited = [ok for r in answered_pos for ok in r["cited_ok"]]
    latencies = [r["latency_ms"] for r in records]
    return {
        "questions": len(records),
        "answerable": len(pos),
        "unanswerable": len(neg),
        f"evidence_recall@{K}": mean([float(r["recall_at_k"]) for r in pos if r["recall_at_k"] is not None]),
        "answered_answerable": mean([float(r["answered"]) for r in pos]),
        "answer_contains": mean([float(r["contains"]) for r in pos]),
        "answer_f1": mean([r["f1"] for r in pos]),
        "reading_contains": mean([float(read) for r in pos if (read := r.get("read_contains")) is not None]),
        "citation_precision": mean([float(ok) for ok in cited]),
        "top_citation_gold": mean([float(r["cited_ok"][0]) for r in answered_pos if r["cited_ok"]]),
        "citation_recall": mean(
            [mean([float(x) for x in r["evidence_cited"]]) or 0.0 for r in answered_pos if r["evidence_cited"]]
        ),
        "refusal_precision": (sum(not r["answerable"] for r in refused) / len(refused)) if refused else None,
        "refusal_recall": mean([float(not r["answered"]) for r in neg]),
        "latency_p50_ms": round(percentile(latencies, 0.5), 2),
        "latency_p95_ms": round(percentile(latencies, 0.95), 2),
    }
