"""Articles named by title: the second hop of a question that goes through two articles.

"The arena where the Lewiston Maineiacs played can seat how many people?": the question finds the team's
article, which names the arena; the seats are in the arena's own article, which shares no word with the
question and so is seldom found by it. When an article of the index is titled with a name that the question
or the first article found writes out (`TitleIndex.named_in`), that article is a candidate to be shown whole
beside the first (`Retriever` scores the candidates for the question and picks the best; `context.choose`
shows it).

A title is matched as a name: word for word with its capitals ("Alien" is not "alien"), a trailing
qualifier in brackets dropped ("Alien (film)" is named by "Alien"). Only titles of at most `MAX_WORDS`
words are names: a news headline is a sentence and stands verbatim in no other article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from assistant.answering.terms import plain

MAX_WORDS = 8  # a longer title is a headline, not a name
_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")  # "Alien (film)": the bracket says which Alien


def words(text: str) -> tuple[str, ...]:
    """The words of `text`, capitals kept, accents (`terms.plain`) and punctuation dropped."""
    return tuple(plain(w) for w in _WORD.findall(text))


def title_key(title: str) -> tuple[str, ...] | None:
    """The words that name the article titled `title`, or None when the title is no name (empty, too long,
    or not starting with a capital or a digit)."""
    key = words(_QUALIFIER.sub("", title))
    if not key or len(key) > MAX_WORDS or not (key[0][0].isupper() or key[0][0].isdigit()):
        return None
    return key


class TitleIndex:
    """The index's articles by the names their titles are; built with the lexical index, never changed."""

    def __init__(self, titles: Iterable[tuple[str, str]] = ()):
        """`titles`: (article id, title) pairs."""
        by_key: dict[tuple[str, ...], list[str]] = {}
        for article_id, title in titles:
            key = title_key(title)
            if key is not None:
                by_key.setdefault(key, []).append(article_id)
        self._by_key: Mapping[tuple[str, ...], tuple[str, ...]] = MappingProxyType(
            {k: tuple(v) for k, v in by_key.items()}
        )
        self._longest = max((len(k) for k in by_key), default=0)

    def __len__(self) -> int:
        return len(self._by_key)

    def named_in(self, text: str) -> list[str]:
        """The articles whose titles `text` writes out, in the order it first names them; where titles overlap
        ("New York" in "New York City"), the longest name found at a word wins."""
        found: dict[str, None] = {}
        if not self._longest:
            return []
        seq = words(text)
        i = 0
        while i < len(seq):
            for n in range(min(self._longest, len(seq) - i), 0, -1):
                ids = self._by_key.get(seq[i : i + n])
                if ids:
                    found.update(dict.fromkeys(ids))
                    i += n
                    break
            else:
                i += 1
        return list(found)
