"""Attribution: the shown sentence(s) that hold a reader's answer and address the question.

A small model reads best when it only answers ("Daniel Noboa"); the code then finds where that answer
stands. For each claim of the answer (a short answer is one claim):

1. Its *new* content terms (lemmatised, stemmed; those the question already has say nothing new) and its
   *names and numbers* are looked for in each sentence the reader was shown.
2. The sentence that holds most of them, and among those the one that reads best as the question answered
   (cosine of "question + claim" with the sentence, plus how well the sentence addresses the question),
   is cited.
3. When the claim's names are split over two sentences, or the question names someone the cited sentence
   only calls "he", a second sentence is joined when it holds what is missing and is tied to the first by a
   clear reference: it is the sentence just before one that opens with a pronoun or "the <noun>", or the
   two share a name (a two-hop answer: the film's director, then where he was born).
4. When the cited sentences leave a name of the question missing and another sentence holds the claim as fully,
   the one that leaves fewer of the question's names missing is cited instead (`_Context.recited`): the same
   title voiced by two actors, only one of them the singer the question names.
5. A claim that adds nothing to the question (a yes/no answer, or one that repeats the question) is tied
   to the sentence that best addresses the question; the decision step judges whether that is enough.

An extractive reading needs no search: its claims are the sentences themselves.

Nothing is decided here: the `Attribution` record carries the evidence (coverage, missing names,
relevance) and `decision.decide` applies the thresholds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from assistant.answering import names
from assistant.answering.attribution import support
from assistant.answering.question import kinds
from assistant.answering.retrieval.links import TitleIndex
from assistant.answering.retrieval.ranking import confidence
from assistant.answering.terms import STOPWORDS, key_terms, name_forms, terms
from assistant.answering.thresholds import DEFAULT, Thresholds
from assistant.embeddings import Embedder
from assistant.records import Attribution, Claim, Query, ScoredSentence

W_FIT = 1.0  # "question + claim" read like the sentence
W_RELEVANCE = 0.5  # the sentence addresses the question


def attribute_extractive(
    query: Query,
    shown: Sequence[ScoredSentence],
    chosen: Sequence[int],
    embedder: Embedder | None = None,
    thresholds: Thresholds = DEFAULT,
) -> Attribution:
    """An extractive reading: each chosen sentence is its own claim, verbatim. When the question names what they
    lack, the sentence of another article tied to them (`_bridge`) is read too, as a claim of its own. With an
    `embedder`, what a count question counts may stand in them under another word (`_counted`)."""
    follow_up = bool(query.context)
    relevance = [confidence(s, follow_up, thresholds) for s in shown]

    def verbatim(i: int, how: str) -> Claim:
        text = shown[i].sentence.text
        new = len(set(terms(text)) - set(terms(query.standalone)))
        return Claim(text, (i,), _keys(shown, (i,)), 1.0, (), new, relevance[i], 1.0, how)

    claims = tuple(verbatim(i, "the sentence itself") for i in chosen)
    lacking = _question_missing(query, shown, list(chosen))
    if lacking and chosen:
        comparing = all(c.new_terms == 0 for c in claims)
        bridge = _bridge(query, shown, list(chosen), lacking, relevance, comparing=comparing)
        if bridge is not None:
            claims = (*claims, verbatim(bridge, "the sentence that ties what the question names to the answer"))
            lacking = _question_missing(query, shown, [i for c in claims for i in c.sentences])
    thing, near = _counted(query, shown, [i for c in claims for i in c.sentences], embedder)
    return Attribution(claims, tuple(names.whole_names(query.standalone, lacking)), thing, near)


def attribute(
    query: Query,
    claims: Sequence[str],
    shown: Sequence[ScoredSentence],
    embedder: Embedder,
    thresholds: Thresholds = DEFAULT,
) -> Attribution:
    """The sentences each claim of a model's answer rests on."""
    if not shown:
        return Attribution(tuple(Claim(c, (), (), 0.0, (), 0, 0.0, 0.0, "nothing was shown") for c in claims), ())
    ctx = _Context(query, shown, embedder, claims, thresholds)
    out = tuple(ctx.claim(n, c) for n, c in enumerate(claims))
    lacking = _question_missing(query, shown, [i for c in out for i in c.sentences])
    if lacking:  # another sentence that holds a claim as well may be the one the question's names lead to
        out = ctx.recited(out, thresholds.question_names_other_articles)
        lacking = _question_missing(query, shown, [i for c in out for i in c.sentences])
    if out and out[0].sentences:
        naming = _naming(shown, out[0].sentences, ctx.relevance)
        if naming is not None and ctx.relevance[naming] > out[0].relevance:  # the second hop: cite the way there
            joined = _join(
                shown, out[0], naming, ctx.relevance, "the sentence of another article that names its article"
            )
            out = (joined, *out[1:])
            lacking = _question_missing(query, shown, [i for c in out for i in c.sentences])
    if lacking and out and out[0].sentences:
        bridge = _bridge(query, shown, out[0].sentences, lacking, ctx.relevance, comparing=out[0].new_terms == 0)
        if bridge is not None:  # a two-hop answer: the sentence that ties the question to the answer's is cited too
            how = "the sentence that holds what the question names, by a shared name"
            out = (_join(shown, out[0], bridge, ctx.relevance, how), *out[1:])
            lacking = _question_missing(query, shown, [i for c in out for i in c.sentences])
    if lacking and thresholds.question_names_other_articles:  # no sentence ties them: another article may hold them
        lacking = _question_missing(query, shown, [i for c in out for i in c.sentences], other_articles=True)
    answer = " ".join(c.text for c in out)
    thing, near = _counted(query, shown, [i for c in out for i in c.sentences], embedder, answer)
    apart = _answer_apart(query, shown, out) if not lacking else []
    return Attribution(
        out,
        tuple(names.whole_names(query.standalone, lacking)),
        thing,
        near,
        tuple(names.whole_names(query.standalone, apart)),
    )


def _question_terms(query: Query) -> set[str]:
    """The question's terms and its names' forms: what a claim's words are told apart from."""
    return set(terms(query.standalone)) | name_forms(query.standalone)


def _new_terms(text: str, question_terms: set[str]) -> list[str]:
    """The terms a claim adds to the question, in order, once each (not an answer word such as "yes")."""
    return [
        t
        for t in dict.fromkeys(terms(text))
        if t not in support.ANSWER_WORDS and not support.matches(t, question_terms, loose=False)
    ]


def _answer_apart(query: Query, shown: Sequence[ScoredSentence], claims: Sequence[Claim]) -> list[str]:
    """Names of the question that the sentence holding most of the answer does not reach (`_question_missing`), for
    a claim stitched from sentences of one article: one that names what the question asks about, another (not next
    to it) that holds the answer ("Who leads Tren de Aragua?" read "Venezuelan military aircraft", cited to the
    sentence about the aircraft and to the one naming the gang). Empty when every claim's answer stands with them."""
    asked = _question_terms(query)
    for claim in claims:
        if len(claim.sentences) < 2 or len({shown[i].sentence.article_id for i in claim.sentences}) > 1:
            continue
        new = set(_new_terms(claim.text, asked))
        held = {i: len(new & set(terms(shown[i].sentence.text))) for i in claim.sentences}
        most = max(held.values(), default=0)
        holders = [i for i, n in held.items() if n == most]  # the sentence(s) that hold most of the answer
        if not most or len(holders) == len(claim.sentences):
            continue
        missing = _question_missing(query, shown, holders)
        if missing:
            return missing
    return []


class _Context:
    def __init__(
        self,
        query: Query,
        shown: Sequence[ScoredSentence],
        embedder: Embedder,
        claims: Sequence[str],
        thresholds: Thresholds,
    ):
        self.query, self.shown, self.short_words = query, shown, thresholds.short_answer_words
        self.article_names = thresholds.article_names
        self.follow_up = bool(query.context)
        self.question_terms = _question_terms(query)
        self.question_names = key_terms(query.standalone)
        self.sentence_terms = [_evidence(shown, i) for i in range(len(shown))]
        own = [confidence(s, self.follow_up, thresholds) for s in shown]
        position = {(s.sentence.article_id, s.sentence.index): i for i, s in enumerate(shown)}
        # a sentence that leans on the one before it ("But a storm dispersed the fleet.") addresses the question
        # as well as that one does: they are read together
        self.before = [
            position.get((s.sentence.article_id, s.sentence.index - 1))
            if support.tied_to_previous(s.sentence.text)
            else None
            for s in shown
        ]
        self.relevance = [max(own[i], own[b]) if b is not None else own[i] for i, b in enumerate(self.before)]
        asked = [f"{query.standalone} {c}" for c in claims]
        self.asked, self.sentences = _vectors(embedder, asked, shown)
        self.rivals: dict[int, tuple[list[int], Callable[[int], Claim]]] = {}  # claim -> sentences as good, cite one

    def claim(self, n: int, text: str) -> Claim:
        new = _new_terms(text, self.question_terms)
        stated = [
            t
            for t in support.claim_terms(text, self.short_words)
            if not support.matches(t, self.question_terms, loose=False)
        ]
        fits = self.sentences @ self.asked[n]
        # a name of the claim the sentence gives by its initials ("United Nations" where it says "UN")
        held = [
            self.sentence_terms[i] | names.acronyms_held(text, self.sentence_terms[i]) for i in range(len(self.shown))
        ]
        named = {t for t in set(key_terms(text)) | name_forms(text) if t.isalpha()}
        if self.article_names:  # a name the claim takes from the title of the sentence's article
            held = [held[i] | (named & names.evidence(self.shown[i].title)) for i in range(len(self.shown))]
        if not new:
            best = max(range(len(self.shown)), key=lambda i: self.relevance[i] + W_FIT * fits[i])
            return self._claim(
                text, (best,), new, stated, fits, "adds nothing to the question: the sentence it is about", held
            )
        covers = [support.share(new, held[i]) for i in range(len(self.shown))]
        score = [
            covers[i]
            + W_FIT * float(fits[i])
            + W_RELEVANCE * self.relevance[i]
            - (0.0 if not support.missing(stated, held[i] | self._lede_names(i, named)) else 1.0)
            for i in range(len(self.shown))
        ]
        best = max(range(len(self.shown)), key=lambda i: score[i])
        chosen: tuple[int, ...] = (best,)
        how = "its words stand in the sentence"
        lacking = support.missing(stated, held[best]) or (
            support.missing(new, held[best]) if covers[best] < 1.0 else []
        )
        if not lacking:  # the sentences that hold all of it as well, best first: `recited` may cite one of them
            rivals = sorted(
                (
                    i
                    for i in range(len(self.shown))
                    if i != best and covers[i] >= covers[best] and not support.missing(stated, held[i])
                ),
                key=lambda i: -score[i],
            )
            how_other = "its words stand in this sentence too, which holds what the question names"
            self.rivals[n] = (rivals, lambda i: self._claim(text, (i,), new, stated, fits, how_other, held))
        if lacking:
            second = self._joined(best, lacking)
            if second is not None:
                chosen, how = tuple(sorted((best, second))), "its words stand in two sentences tied by a reference"
            elif self.article_names and (lede := self._lede(best, lacking, named)) is not None:
                chosen, how = (lede, best), "a name it takes from its article's first sentence, the rest from this one"
            elif (pair := self._joined_runner_up(best, score, new, stated, held)) is not None:
                chosen, how = pair, "its words stand in two sentences tied by a reference"
        return self._claim(text, chosen, new, stated, fits, how, held)

    def _joined_runner_up(
        self, best: int, score: list[float], new: list[str], stated: list[str], held: list[set[str]]
    ) -> tuple[int, int] | None:
        """When the best sentence lacks part of the claim and no sentence ties to it, the sentence that holds as much
        of the claim, joined to one tied to it that holds the rest ("... freeze the assets of those connected to these
        groups" and the sentence that names the groups, sharing a name the question does not give)."""
        for i in sorted(range(len(self.shown)), key=lambda i: -score[i]):
            if i == best or support.share(new, held[i]) < support.share(new, held[best]):
                continue
            lacking = support.missing(stated, held[i]) or support.missing(new, held[i])
            second = self._joined(i, lacking) if lacking else None
            if second is not None:
                return (min(i, second), max(i, second))
            break  # only the runner-up: farther sentences address the question less
        return None

    def recited(self, claims: tuple[Claim, ...], other_articles: bool) -> tuple[Claim, ...]:
        """The claims, each cited instead by a sentence that holds it as fully (`rivals`) when that leaves fewer
        of the question's names missing: "Sonic the Hedgehog" stands in two voice actors' articles, and only
        the one whose article ties to "A Rather Blustery Day" answers "This singer of A Rather Blustery Day
        also voiced what hedgehog?"."""
        out = list(claims)

        def missing(with_claims: list[Claim]) -> int:
            cited = [i for c in with_claims for i in c.sentences]
            return len(_question_missing(self.query, self.shown, cited, other_articles=other_articles))

        for n in range(len(out)):
            if n not in self.rivals:
                continue
            rivals, cite = self.rivals[n]
            fewest = missing(out)
            for i in rivals:
                trial = [*out[:n], cite(i), *out[n + 1 :]]
                if (count := missing(trial)) < fewest:
                    out, fewest = trial, count
                    if not count:
                        break
        return tuple(out)

    def _lede_names(self, i: int, named: set[str]) -> set[str]:
        """The claim's names that the first sentence of sentence `i`'s article holds (when that is shown)."""
        j = self._lede_index(i) if self.article_names and named else None
        return set() if j is None else {t for t in named if support.matches(t, self.sentence_terms[j])}

    def _lede_index(self, i: int) -> int | None:
        article = self.shown[i].sentence.article_id
        return next(
            (j for j, s in enumerate(self.shown) if s.sentence.article_id == article and s.sentence.index == 0), None
        )

    def _lede(self, best: int, lacking: list[str], named: set[str]) -> int | None:
        """The first sentence of `best`'s article, when it is shown and holds what `best` lacks, all of it names
        of the claim: "The Smithsonian Institution houses ..." where the sentence says "The museum houses ..." and
        the lede names it (both are cited). Any other sentence of the article was measured too: on SQuAD's fit
        half it let 6 of 53 unanswerable questions through."""
        j = self._lede_index(best)
        if j is None or j == best or not all(t in named for t in lacking):
            return None
        return j if all(support.matches(t, self.sentence_terms[j]) for t in lacking) else None

    def _claim(
        self,
        text: str,
        chosen: tuple[int, ...],
        new: list[str],
        stated: list[str],
        fits: np.ndarray,
        how: str,
        held: list[set[str]],
    ) -> Claim:
        available = set().union(*(held[i] for i in chosen))
        return Claim(
            text,
            chosen,
            _keys(self.shown, chosen),
            support.share(new, available),
            tuple(support.missing(stated, available)),
            len(new),
            max(self.relevance[i] for i in chosen),
            max(float(fits[i]) for i in chosen),
            how,
        )

    def _joined(self, first: int, lacking: list[str]) -> int | None:
        """A sentence that holds what `first` lacks and is tied to it by a clear reference."""
        s = self.shown[first].sentence
        for j, other in enumerate(self.shown):
            if j == first or not all(
                support.matches(t, self.sentence_terms[j] | self.sentence_terms[first]) for t in lacking
            ):
                continue
            o = other.sentence
            same_article = o.article_id == s.article_id
            before = same_article and o.index == s.index - 1 and support.tied_to_previous(s.text)
            after = same_article and o.index == s.index + 1 and support.tied_to_previous(o.text)
            shared = key_terms(s.text) & key_terms(o.text) - self.question_names
            if before or after or shared:
                return j
        return None


def _vectors(embedder: Embedder, asked: list[str], shown: Sequence[ScoredSentence]) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of the `asked` texts, and of the shown sentences: the stored ones retrieval read with them; only a
    sentence that came without one (a summary's, a replayed trace's) is embedded here."""
    bare = [s.sentence.text for s in shown if s.vector is None]
    texts = asked + bare
    embedded = embedder.embed(texts) if texts else ()
    vectors = np.asarray(embedded, dtype=np.float32).reshape(len(texts), embedder.dimension)
    fresh = iter(vectors[len(asked) :])
    rows = [np.asarray(s.vector, dtype=np.float32) if s.vector is not None else next(fresh) for s in shown]
    return vectors[: len(asked)], np.asarray(rows, dtype=np.float32).reshape(len(shown), embedder.dimension)


def _bridge(
    query: Query,
    shown: Sequence[ScoredSentence],
    cited: Sequence[int],
    lacking: Sequence[str],
    relevance: Sequence[float],
    comparing: bool,
) -> int | None:
    """A sentence of another article that holds names the question asks about and the cited sentences lack, and
    is tied to them: it shares a name with one of them that the question does not give (two hops: "the film's
    director ... was born in"; a title counts as a name its article's sentences carry, "Adriana Trigiani" on her
    page), or, when the answer only compares what the question names (yes or no, one of its alternatives), its
    article is about one of them ("Are Ferocactus and Silene both plants?": the sentence of the "Silene" article
    that best addresses the question). Within one article the sentences around
    the cited one are already in reach (`_question_missing`): joining farther ones there answered SQuAD's
    unanswerable questions from unrelated sentences."""
    asked = key_terms(query.standalone)
    named = {i: key_terms(s.sentence.text) - asked for i, s in enumerate(shown)}
    titles = {i: set(terms(s.title)) for i, s in enumerate(shown)}
    best: tuple[int, int, float] | None = None
    for j, other in enumerate(shown):
        if j in cited or any(other.sentence.article_id == shown[i].sentence.article_id for i in cited):
            continue
        held = sum(support.matches(t, _evidence(shown, j) | titles[j]) for t in lacking)
        if not held:
            continue
        about = comparing and any(support.matches(t, titles[j], loose=False) for t in lacking)
        shared = any((named[i] | titles[i] - asked) & (named[j] | titles[j] - asked) for i in cited)
        if (about or shared) and (best is None or (held, relevance[j]) > (best[1], best[2])):
            best = (j, held, relevance[j])
    return best[0] if best else None


def _join(shown: Sequence[ScoredSentence], claim: Claim, j: int, relevance: Sequence[float], how: str) -> Claim:
    """`claim` cited with sentence `j` too (another article's, on the way to the answer), as relevant as the
    better of the two."""
    chosen = tuple(sorted({*claim.sentences, j}))
    return replace(
        claim,
        sentences=chosen,
        cited=_keys(shown, chosen),
        relevance=max(claim.relevance, relevance[j]),
        how=f"{claim.how}; joined to {how}",
    )


def _naming(shown: Sequence[ScoredSentence], cited: Sequence[int], relevance: Sequence[float]) -> int | None:
    """The sentence of another article that names, by its title, the one article the `cited` sentences stand in
    and that best addresses the question: the first hop of a two-hop answer ("The 2011–12 VCU Rams men's
    basketball team represented Virginia Commonwealth University", for "VCU was founded in 1838"); None when
    no shown sentence names it (`links.TitleIndex`: the title as a name, word for word)."""
    own = {shown[i].sentence.article_id for i in cited}
    if len(own) != 1:
        return None
    article = own.pop()
    titled = TitleIndex([(article, shown[cited[0]].title)])
    naming = [j for j, s in enumerate(shown) if s.sentence.article_id != article and titled.named_in(s.sentence.text)]
    return max(naming, key=lambda j: relevance[j]) if naming else None


def _keys(shown: Sequence[ScoredSentence], positions: Sequence[int]) -> tuple[tuple[str, int], ...]:
    return tuple((shown[i].sentence.article_id, shown[i].sentence.index) for i in positions)


def _question_missing(
    query: Query, shown: Sequence[ScoredSentence], cited: Sequence[int], other_articles: bool = False
) -> list[str]:
    """Names and numbers of the question that the cited sentences do not hold, nor their titles, the
    sentences just before and after each (a "he" names whom; the year may stand in the next), or the
    conversation. With `other_articles`, nor the shown sentences of another article that shares a name (not one
    the question gives) with the shown sentences or the title of a cited one's article: a model that read both
    may have gone from one to the other ("the singer of A Rather Blustery Day" in one article, the hedgehog he
    voiced in another, the singer named in both)."""
    needed = key_terms(query.standalone)
    if not needed or not cited:
        return []
    reach: set[str] = set(terms(query.context)) | name_forms(query.context) | names.aliases(query.context)
    if other_articles:
        by_article: dict[str, set[str]] = {}
        for s in shown:
            known = by_article.setdefault(s.sentence.article_id, set(terms(s.title)))
            known |= key_terms(s.sentence.text)
        own = {shown[i].sentence.article_id for i in cited}
        tied = set().union(*(by_article[a] for a in own)) - needed
        for j, other in enumerate(shown):
            if other.sentence.article_id not in own and by_article[other.sentence.article_id] & tied:
                reach |= _evidence(shown, j) | names.evidence(other.title)
    for i in cited:
        s = shown[i]
        reach |= _evidence(shown, i) | names.evidence(s.title)
        for j, other in enumerate(shown):
            if other.sentence.article_id == s.sentence.article_id and abs(other.sentence.index - s.sentence.index) == 1:
                reach |= _evidence(shown, j)
    # in the question's order (a set's own order changes with each process's string hashing, and so would the reason)
    asked = query.standalone
    ordered = sorted(needed, key=lambda t: (asked.find(t) if t in asked else len(asked), t))
    return support.missing(ordered, reach | names.acronyms_held(asked, reach))


def _evidence(shown: Sequence[ScoredSentence], i: int) -> set[str]:
    """What sentence `i` holds, its names under all their forms (`names.evidence`): a part of a name stands for
    the full name that the other shown sentences of its article (and its title) give."""
    s = shown[i].sentence
    same = [o.sentence.text for o in shown if o.sentence.article_id == s.article_id and o.sentence.index != s.index]
    return names.evidence(s.text, (*same, shown[i].title))


_MOST_WORDS = 80  # a count question's thing is compared with at most this many words of its sentences


def _counted(
    query: Query, shown: Sequence[ScoredSentence], cited: Sequence[int], embedder: Embedder | None, answer: str = ""
) -> tuple[str, float]:
    """What a "how many X" question counts, and how near the cited sentences come to it: 1.0 when X (a form of
    it) stands in them, else the best cosine of X with one of their words ("troops" for "soldiers"); 0.0 without
    an embedder. ("", 1.0) when the question counts nothing or nothing is cited. When the answer's number stands
    in a cited sentence, X is compared with what that number counts there ("two of Ecuador's largest criminal
    gangs": "members" is not "gangs"), not with any word of the sentence ("organizations")."""
    thing = support.counted(query.standalone)
    if not thing or not cited:
        return "", 1.0
    held: set[str] = set().union(*(_evidence(shown, i) for i in cited))
    if all(support.matches(t, held) for t in terms(thing)):
        return thing, 1.0
    if support.counts_money_or_share(thing) and support.money_or_share(answer):  # "How many dollars": "$6 million"
        return thing, 1.0
    counting = [phrase for i in cited for phrase in support.counted_by(answer, shown[i].sentence.text)]
    if thing.lower() in kinds.PEOPLE_COUNTED and any(kinds.names_people(phrase) for phrase in counting):
        return thing, 1.0  # "How many people were killed?": "killed 11 drug-traffickers" counts people
    texts = counting or [shown[i].sentence.text for i in cited]
    words = list(
        dict.fromkeys(
            w for text in texts for w in re.findall(r"[A-Za-z][A-Za-z'-]{2,}", text) if w.lower() not in STOPWORDS
        )
    )[:_MOST_WORDS]
    if embedder is None or not words:
        return thing, 0.0
    vectors = np.asarray(embedder.embed([thing, *words]), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return thing, round(float(np.max(vectors[1:] @ vectors[0])), 4)
