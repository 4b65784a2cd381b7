"""Document frequencies of the answer-side terms (``rag.text.analysis.terms``), saved once per generation.

Why: the evidence, citation and list code weigh terms by IDF over the indexed papers. That table
was built in every process at its first answer by reading and analysing every paper (seconds at
10k papers, minutes at 1M). The BM25 index's own document frequencies cannot stand in: BM25 uses
``index_tokens`` (other stopwords, no joined word pairs). So ingest writes the table beside the
generation's other files, and an update adjusts it by the removed and added papers only.

Files (directory ``idf/`` of the generation): ``terms.npy`` (sorted utf-8 bytes), ``df.npy``
(papers containing each term), ``meta.json`` (the number of papers).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.text.analysis import Idf, terms
from rag.types.papers import Paper

FORMAT = 1


def paper_text(p: Paper) -> str:
    """The text a paper's IDF terms come from (the one definition: as the retriever always had)."""
    return f"{p.title}. {p.abstract}"


def count(papers: Iterable[Paper]) -> tuple[Counter[str], int]:
    """(term -> papers containing it, number of papers)."""
    df: Counter[str] = Counter()
    n = 0
    for p in papers:
        n += 1
        df.update(set(terms(paper_text(p))))
    return df, n


class DocFreq:
    """A saved document-frequency table: sorted term bytes and their counts."""

    def __init__(self, vocab: np.ndarray, df: np.ndarray, n: int) -> None:
        self.vocab, self.df, self.n = vocab, df, n

    @classmethod
    def from_counts(cls, df: Counter[str], n: int) -> DocFreq:
        items = sorted((t.encode("utf-8"), c) for t, c in df.items() if c > 0)
        width = max((len(t) for t, _ in items), default=1)
        return cls(np.array([t for t, _ in items], dtype=f"S{width}"),
                   np.array([c for _, c in items], dtype=np.int64), n)

    @classmethod
    def build(cls, papers: Iterable[Paper]) -> DocFreq:
        return cls.from_counts(*count(papers))

    def updated(self, removed: Sequence[Paper], added: Sequence[Paper]) -> DocFreq:
        """The table after ``removed`` papers left and ``added`` ones came (a changed paper is
        both): the same as a rebuild over the resulting papers, at the cost of the change."""
        plus, n_plus = count(added)
        minus, n_minus = count(removed)
        delta = Counter(plus)
        delta.subtract(minus)
        delta = Counter({t: c for t, c in delta.items() if c})
        if not delta:
            return DocFreq(np.asarray(self.vocab), np.asarray(self.df), self.n + n_plus - n_minus)
        keys = sorted(t.encode("utf-8") for t in delta)
        width = max(self.vocab.dtype.itemsize, max(len(k) for k in keys))
        dv = np.array(keys, dtype=f"S{width}")
        dc = np.array([delta[k.decode("utf-8")] for k in keys], dtype=np.int64)
        old = np.asarray(self.vocab).astype(f"S{width}")
        vocab = np.union1d(old, dv)
        df = np.zeros(vocab.shape[0], dtype=np.int64)
        df[np.searchsorted(vocab, old)] += np.asarray(self.df)
        df[np.searchsorted(vocab, dv)] += dc
        if (df < 0).any():
            raise ValueError("document frequencies went negative: removed papers were not counted")
        keep = df > 0
        return DocFreq(vocab[keep], df[keep], self.n + n_plus - n_minus)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "terms.npy", self.vocab, allow_pickle=False)
        np.save(path / "df.npy", self.df, allow_pickle=False)
        (path / "meta.json").write_text(json.dumps({"format": FORMAT, "n": self.n}), "utf-8")

    @classmethod
    def load(cls, path: Path) -> DocFreq:
        """Memory-mapped; OSError / ValueError when missing or of another format."""
        meta = json.loads((path / "meta.json").read_text("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: document frequencies of another format")
        vocab = np.load(path / "terms.npy", mmap_mode="r", allow_pickle=False)
        df = np.load(path / "df.npy", mmap_mode="r", allow_pickle=False)
        if vocab.shape != df.shape:
            raise ValueError(f"{path}: damaged document frequencies")
        return cls(vocab, df, int(meta["n"]))

    def get(self, term: str, default: int = 0) -> int:
        b = term.encode("utf-8")
        if not self.vocab.shape[0] or len(b) > self.vocab.dtype.itemsize:
            return default
        i = int(np.searchsorted(self.vocab, b))
        if i < self.vocab.shape[0] and self.vocab[i] == b:
            return int(self.df[i])
        return default

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) > 0

    def idf(self) -> Idf:
        return SavedIdf(self)


class SavedIdf(Idf):
    """:class:`rag.text.analysis.Idf` over a saved table (same formula, same values), looked up on demand."""

    def __init__(self, table: DocFreq) -> None:  # noqa: D107 - no corpus pass: that is the point
        self.n = max(table.n, 1)
        self._df = _Cached(table)


class _Cached:
    """``.get`` / ``in`` over a table with a per-term cache (an answer asks for the same terms often)."""

    def __init__(self, table: DocFreq) -> None:
        self.get = lru_cache(maxsize=65536)(table.get)

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) > 0
