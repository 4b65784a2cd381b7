"""The one text analyser: tokens, stopwords, the stemmer, compounds, sentences and corpus IDF,
shared by the BM25 index, evidence selection, list judging and citation checks.

Two readings of text come out of it, on purpose and side by side here:

* **index tokens** (:func:`index_tokens`) feed BM25: scikit-learn's word pattern, Lucene's short
  English stopword list, the Snowball stemmer, and hyphenated compounds indexed both as parts and
  joined ("warm-up" -> warm, up, warmup). Question-form words are dropped from queries only.
* **content terms** (:func:`terms`) feed evidence and verification: a stricter word pattern that
  keeps decimals ("2.5"), a longer stopword list (no "paper", "method", "propose"), the same
  stemmer, and every neighbour pair joined, so "warm up" / "warm-up" / "warmup" meet.

Both use :func:`stem` and :func:`split_sentences` from here and nowhere else. The word lists they
read (stopwords, negators, quantity words) live in :mod:`rag.text.lexicon`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from rag.text.lexicon import (
    FEWER_WORDS,
    INDEX_STOPWORDS,
    INSTRUCTION,
    MORE_WORDS,
    NUMBER_QUESTION_PHRASES,
    PARTICLES,
    POLARITY_NEGATORS,
    QUERY_NOISE,
    QUESTION_WORDS,
    SENTENCE_ABBREVIATIONS,
    STOPWORDS,
)

# --- index tokens (BM25) ---------------------------------------------------------------------------
_INDEX_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's CountVectorizer pattern (bm25s's default)
_HYPHENATED = re.compile(r"\b([A-Za-z]+)-([A-Za-z]+)\b")
_PARTICLE_COMPOUND = re.compile(rf"\b([A-Za-z]+)-({'|'.join(sorted(PARTICLES))})\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_HOW_QUANTITY = frozenset(p for p in NUMBER_QUESTION_PHRASES if p.startswith("how "))

# A sentence ends at . ! ? followed by space and an upper-case letter, digit, quote or bracket,
# unless the dot belongs to a common abbreviation or an initial.
_ABBREV_END = re.compile(rf"\b{SENTENCE_ABBREVIATIONS}\.$")
_INITIAL_END = re.compile(r"\b[A-Z]\.$")
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[\"'“])")
# where a negator's reach ends: a sentence's end, or a colon before a capital ("Pre-training without
# Natural Images: Although the models ...", a quote under its paper's title)
_SCOPE_END = re.compile(r"(?<=[.!?:])\s+(?=[A-Z0-9(\[\"'“])")
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:\s?%|x|×)?")





def is_instruction_like(sentence: str) -> bool:
    """Text addressed to a model rather than a reader: never used as evidence (prompt injection)."""
    return bool(INSTRUCTION.search(sentence))


def sentence_spans(text: str) -> list[str]:
    """``text`` cut into sentences that keep their trailing whitespace, so the pieces join back to
    exactly ``text`` (what LlamaIndex's ``SentenceSplitter`` needs of a sentence tokenizer).
    Keeps "e.g." / "et al." / initials inside their sentence."""
    parts: list[str] = []
    start = 0
    for m in _SENT_END.finditer(text):
        # only the last few characters decide (linear time, even for "A. A. A. ..." crafted text)
        lo = max(start, m.start() - 24)
        if _ABBREV_END.search(text, lo, m.start()) or _INITIAL_END.search(text, lo, m.start()):
            continue  # an abbreviation or an initial, not a sentence end
        parts.append(text[start:m.end()])
        start = m.end()
    if start < len(text):
        parts.append(text[start:])
    return parts


def split_sentences(text: str) -> list[str]:
    """An abstract's sentences, whitespace-normalised; the same boundaries as :func:`sentence_spans`."""
    return [p for p in (s.strip() for s in sentence_spans(" ".join(text.split()))) if p]


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer().stemWord(word)


def expand_hyphens(text: str) -> str:
    """Hyphenated compounds both as parts and joined: "warm-up" -> "warm up warmup"."""
    return _HYPHENATED.sub(lambda m: f"{m[1]} {m[2]} {m[1]}{m[2]}", text)


def index_tokens(text: str, *, query: bool = False) -> list[str]:
    """BM25 tokens of a document (or, with ``query``, of a question: its form words dropped too)."""
    drop = INDEX_STOPWORDS | QUERY_NOISE if query else INDEX_STOPWORDS
    return [stem(t) for t in _INDEX_TOKEN.findall(expand_hyphens(text).lower()) if t not in drop]


def word_set(text: str) -> set[str]:
    """Unstemmed lower-case words (hyphenated compounds expanded), for cheap overlap counts."""
    return set(_WORD.findall(expand_hyphens(text).lower()))


def words(text: str) -> list[str]:
    """Lower-case word tokens; hyphens split ("warm-up" -> warm, up)."""
    return _TOKEN.findall(text.lower().replace("-", " "))


def terms(text: str, *, drop: frozenset[str] = STOPWORDS, joined: bool = True) -> list[str]:
    """Stemmed content terms plus (``joined``) joined neighbours, so "warm up", "warm-up" and
    "warmup" (or "pre-training" and "pretraining") share a term. Text being checked should use
    ``joined=False`` (its word pairs are not claims); text being searched keeps them."""
    ws = words(text)
    out = [stem(w) for w in ws if w not in drop and len(w) > 1]
    if not joined:
        return out
    out += [stem(a + b) for a, b in zip(ws, ws[1:], strict=False) if len(a) > 1 and len(b) > 1 and a.isalpha() and b.isalpha()]
    return out


def query_terms(question: str) -> list[str]:
    """Content terms of a question, without the words that only give it its form."""
    seen: dict[str, None] = {}
    ws = words(_PARTICLE_COMPOUND.sub(r"\1\2", question))
    for i, w in enumerate(ws):
        if w in STOPWORDS or w in QUESTION_WORDS or len(w) < 2:
            continue
        if i and f"{ws[i - 1]} {w}" in _HOW_QUANTITY:
            continue  # "how long a context": asks for a quantity; the answer need not say "long"
        seen.setdefault(stem(w), None)
    return list(seen)


def numbers(text: str) -> list[str]:
    """Numbers as written ("99.9%", "270x", "1,000"), normalised for comparison."""
    return [n.replace(" ", "").replace(",", "").replace("×", "x").lower() for n in _NUMBER.findall(text)]


class Idf:
    """Inverse document frequency of stemmed terms over the indexed papers."""

    def __init__(self, docs: Iterable[str]) -> None:
        df: Counter[str] = Counter()
        n = 0
        for doc in docs:
            n += 1
            df.update(set(terms(doc)))
        self.n = max(n, 1)
        self._df = df

    def __call__(self, term: str) -> float:
        return math.log(1 + (self.n - self._df.get(term, 0) + 0.5) / (self._df.get(term, 0) + 0.5))

    def known(self, term: str) -> bool:
        return term in self._df

    def df(self, term: str) -> int:
        """How many papers use the term."""
        return self._df.get(term, 0)


def coverage(query: list[str], text_terms: Iterable[str], idf: Idf) -> float:
    """IDF-weighted share of the query's terms that appear in the text, in [0, 1]."""
    if not query:
        return 0.0
    have = set(text_terms)
    total = sum(idf(t) for t in query)
    return sum(idf(t) for t in query if t in have) / total if total else 0.0


# --- what a claim says: names, polarity, quantity -----------------------------------------------------
_NAME_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*")  # whole words: "97MB", "GPT-4"
_POLARITY_WINDOW = 3  # words before a term that can negate or quantify it: "without any learning rate warmup"


def _is_name(token: str, first: bool) -> bool:
    """A word that names something: an acronym (CPA), CamelCase (FlashAttention), letters with
    digits (GPT-4, A100), or a capitalised word that does not start the sentence."""
    if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
        return True
    if sum(c.isupper() for c in token) >= 2 or (token[0].islower() and any(c.isupper() for c in token)):
        return True
    return token[0].isupper() and not first and token.lower() not in STOPWORDS


def names(sentence: str) -> list[str]:
    """The names a sentence uses, longest first: runs of capitalised words ("Cocktail Party
    Attack"; punctuation ends a run) and single special tokens ("CPA", "sigmaReparam", "ResNet-50")."""
    tokens = list(_NAME_TOKEN.finditer(sentence))
    out: list[str] = []
    run: list[str] = []
    for i, m in enumerate(tokens):
        tok = m.group()
        joined = i > 0 and not sentence[tokens[i - 1].end():m.start()].strip()  # only spaces between
        capital = tok[0].isupper() and tok.lower() not in STOPWORDS
        starts_run = i == 0 and capital and i + 1 < len(tokens) and _is_name(tokens[1].group(), False)
        if run and not joined:
            out.append(" ".join(run))
            run = []
        if _is_name(tok, i == 0) or starts_run or (run and capital):
            run.append(tok)
            continue
        if run:
            out.append(" ".join(run))
        run = []
    if run:
        out.append(" ".join(run))
    return sorted(dict.fromkeys(out), key=len, reverse=True)


def name_pattern(name: str) -> re.Pattern[str]:
    """``name`` as it may be written: case-insensitive, a plural -s, any spacing or hyphen between words.
    One final "s" is taken off before the plural is allowed back: "Robustness" stays "Robustness"
    (taking every final "s" left "Robustne", which no text matches)."""
    words_ = [re.escape(w[:-1] if len(w) > 3 and w.endswith("s") and not w.isupper() else w)
              for w in name.split()]
    return re.compile(r"(?<![A-Za-z0-9])" + r"(?:s|es)?[\s-]+".join(words_) + r"(?:s|es)?(?![A-Za-z0-9])",
                      re.IGNORECASE)


def missing_names(claim: str, source: str, also: Iterable[str] = ()) -> list[str]:
    """Names in ``claim`` that ``source`` does not contain as written (up to case, plural, hyphens);
    ``also``: further names the claim may use (a title's initials: "DGC")."""
    extra = {a.lower() for a in also if a}
    return [n for n in names(claim) if n.lower() not in extra and not name_pattern(n).search(source)]


def polarity(text: str) -> dict[str, set[str]]:
    """For each stemmed content term, how the text states it: "present", "absent" (a negator such as
    "without" / "removes" within a few words before it, or "<term>-free"), and "fewer" / "more"
    (a quantity word before it). A term said several ways has several entries."""
    out: dict[str, set[str]] = {}
    # a negator ends with its sentence: "... a generator sample or not. Thorough experiments ...", or
    # at a colon before a capital
    for sentence in _SCOPE_END.split(text):
        plain, freed = _free_suffixes(sentence)
        _polarity_of(words(plain), freed, out)
    return out


_FREE_SUFFIX = re.compile(r"([A-Za-z0-9]+)-free\b", re.IGNORECASE)


def _free_suffixes(sentence: str) -> tuple[str, set[int]]:
    """The sentence without its "-free" suffixes, and the word positions they stood after: in
    "guidance-free sampling" only that "guidance" is absent, not "sampling" after it, nor
    another "guidance" elsewhere in the text."""
    parts: list[str] = []
    freed: set[int] = set()
    last = 0
    for m in _FREE_SUFFIX.finditer(sentence):
        parts.append(sentence[last:m.end(1)])
        freed.add(len(words("".join(parts))) - 1)
        last = m.end()
    parts.append(sentence[last:])
    return "".join(parts), freed


def _polarity_of(ws: list[str], freed: set[int], out: dict[str, set[str]]) -> None:
    for i, w in enumerate(ws):
        if w in STOPWORDS or len(w) < 2 or w in POLARITY_NEGATORS or w in FEWER_WORDS or w in MORE_WORDS:
            continue
        before = ws[max(0, i - _POLARITY_WINDOW):i]
        ways = out.setdefault(stem(w), set())
        ways.add("absent" if any(b in POLARITY_NEGATORS for b in before) or i in freed else "present")
        if any(b in FEWER_WORDS for b in before[-2:]):
            ways.add("fewer")
        if any(b in MORE_WORDS for b in before[-2:]):
            ways.add("more")


def polarity_conflict(claim: str, source: str) -> str | None:
    """The first term the claim states the opposite way from every mention in ``source``: said
    present where the source only says absent (or the reverse), or "fewer" where the source only
    says "more" (or the reverse). None when the claim agrees with some mention of each term."""
    theirs = polarity(source)
    for term, ways in polarity(claim).items():
        have = theirs.get(term)
        if not have:
            continue  # a word the source does not use: term coverage judges that
        for a, b in (("present", "absent"), ("absent", "present"), ("fewer", "more"), ("more", "fewer")):
            if a in ways and a not in have and b in have:
                return f"the claim says {term!r} is {a} where the cited abstract says {b}"
    return None
