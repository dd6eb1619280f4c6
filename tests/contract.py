"""The answer contract every answerer keeps, checked one way for all tests."""

from __future__ import annotations

import json

from assistant import Answer
from assistant.records import MARKER, Trace


def assert_answer_contract(bot, ans: Answer) -> None:
    """Markers [1..n] match the citations, each citation is a verbatim sentence at its offsets, a refusal
    cites nothing and says so, and the trace is complete and round-trips through JSON."""
    marks = sorted({int(m) for m in MARKER.findall(ans.text)})
    assert marks == list(range(1, len(ans.citations) + 1)), (ans.text, ans.citations)
    for c in ans.citations:
        article = bot.article(c.article_id)
        assert c.title and article.text[c.start : c.end] == c.text
        assert c.text in {s.text for s in article.sentences}
    if ans.answered:
        assert ans.citations
    else:
        assert ans.citations == [] and "don't say" in ans.text
    trace = ans.trace
    assert trace.answered == ans.answered and trace.answerer and trace.backend
    assert trace.decision.outcome == ("answered" if ans.answered else "refused") and trace.decision.reason
    assert Trace.from_dict(json.loads(json.dumps(trace.to_dict()))) == trace


def traces_built(monkeypatch) -> list[Trace]:
    """Every `Trace` the answering flow constructs from now on, copied as it was when constructed."""
    import copy

    from assistant.answering import flow

    built: list[Trace] = []

    def counted(*args, **kwargs):
        trace = Trace(*args, **kwargs)
        built.append(copy.deepcopy(trace))
        return trace

    monkeypatch.setattr(flow, "Trace", counted)
    return built
