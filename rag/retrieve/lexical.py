"""BM25 over title + abstract per paper, as flat numpy arrays that are saved once per index
generation and memory-mapped on open.

Why not keep bm25s in memory: at 100k papers its build took 22 s at the first open of every
serving process and its index lived in each process's heap. Here ingest builds the arrays once;
every process maps the same files (the OS page cache holds one copy), so opening is instant and
costs no heap. Scores match bm25s's default (Lucene BM25, k1=1.5, b=0.75; tested).

Layout (term-major postings, like a CSC matrix):

- ``vocab.npy``: the sorted terms (utf-8 bytes); a term's id is its position.
- ``indptr.npy``: postings of term ``t`` are ``[indptr[t], indptr[t+1])``.
- ``docs.npy`` / ``tf.npy`` / ``weight.npy``: per posting the document row, its term frequency and
  its precomputed BM25 weight (idf x tf part), so a query is a scatter-add over its terms.
- ``doc_len.npy``: tokens per document; ``meta.json``: N, average length, k1, b.

Updates (:meth:`merged`) keep the postings of unchanged documents, tokenise only new ones, and
recompute the weights: linear numpy work over the postings, no re-tokenising of the corpus.
Rows keep their numbers across updates: a removed document's row stays, empty (no postings, length
0), and new documents get rows after the last one, so the catalogue is patched, not rewritten.
BM25's N and average length count live documents only (``n_live``), so scores equal a rebuild's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from rag.text.analysis import index_tokens

K1, B = 1.5, 0.75
FORMAT = 1
_FILES = ("vocab", "indptr", "docs", "tf", "weight", "doc_len")


def paper_tokens(title: str, abstract: str) -> list[str]:
    """The BM25 tokens of one paper (the one analyser in rag.text.analysis)."""
    return index_tokens(f"{title}. {abstract}")


def _postings(token_lists: Iterable[Sequence[str]], vocab: dict[str, int], first_doc: int = 0
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(term ids, doc rows, term frequencies) sorted by (term, doc), and document lengths;
    new terms are added to ``vocab``."""
    ids: list[int] = []
    lens: list[int] = []
    for toks in token_lists:
        lens.append(len(toks))
        ids.extend([vocab.setdefault(t, len(vocab)) for t in toks])
    lengths = np.asarray(lens, dtype=np.int32)
    if not ids:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.int32), lengths
    doc_of = np.repeat(np.arange(first_doc, first_doc + len(lens), dtype=np.int64), lengths)
    span = first_doc + len(lens)
    keys, tf = np.unique(np.asarray(ids, dtype=np.int64) * span + doc_of, return_counts=True)
    return keys // span, keys % span, tf.astype(np.int32), lengths


class LexicalIndex:
    """A BM25 index over document rows 0..N-1 (the catalogue's rows)."""

    def __init__(self, arrays: dict[str, np.ndarray], n_docs: int, avg_len: float, n_live: int | None = None) -> None:
        self.vocab = arrays["vocab"]
        self.indptr = arrays["indptr"]
        self.docs = arrays["docs"]
        self.tf = arrays["tf"]
        self.weight = arrays["weight"]
        self.doc_len = arrays["doc_len"]
        self.n_docs = n_docs  # rows (removed documents' rows included, empty)
        self.n_live = n_docs if n_live is None else n_live  # documents BM25's statistics count
        self.avg_len = avg_len

    # --- building --------------------------------------------------------------------------------
    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]]) -> LexicalIndex:
        """From scratch, one token list per document row."""
        vocab: dict[str, int] = {}
        terms, docs, tf, lengths = _postings(token_lists, vocab)
        return cls._assemble(vocab, terms, docs, tf, lengths)

    def merged(self, keep: np.ndarray, new_tokens: Iterable[Sequence[str]]) -> LexicalIndex:
        """A new index: rows where ``keep`` is true as they are, the others emptied (removed),
        then the new documents in rows after the last one. ``keep`` must be false for rows
        already removed (the catalogue's dead rows): it says which documents are live.

        Postings of kept rows are reused as they are (rows keep their numbers), so an update costs
        the tokenising of the new documents plus linear work over the postings."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.n_docs,):
            raise ValueError(f"keep has {keep.shape[0]} rows, the index {self.n_docs}")
        old_terms = [t.decode("utf-8") for t in self.vocab.tolist()]
        vocab = {t: i for i, t in enumerate(old_terms)}
        terms_new, docs_new, tf_new, len_new = _postings(new_tokens, vocab, first_doc=self.n_docs)
        counts = np.diff(np.asarray(self.indptr))
        old_terms_per_posting = np.repeat(np.arange(len(old_terms), dtype=np.int64), counts)
        docs_old = np.asarray(self.docs)
        alive = keep[docs_old]
        # new rows follow every old one, so within a term the old postings precede the new
        # ones: the stable sort by term in _assemble yields (term, row) order
        terms = np.concatenate([old_terms_per_posting[alive], terms_new])
        docs = np.concatenate([docs_old[alive].astype(np.int64), docs_new])
        tf = np.concatenate([np.asarray(self.tf)[alive].astype(np.int32), tf_new])
        lengths = np.concatenate([np.where(keep, np.asarray(self.doc_len), 0), len_new])
        live = np.concatenate([keep, np.ones(len_new.shape[0], dtype=bool)])
        return self._assemble(vocab, terms, docs, tf, lengths, live)

    @classmethod
    def _assemble(cls, vocab: dict[str, int], terms: np.ndarray, docs: np.ndarray, tf: np.ndarray,
                  lengths: np.ndarray, live: np.ndarray | None = None) -> LexicalIndex:
        """Sort the vocabulary, renumber terms, drop terms no document has, compute weights.
        ``terms``/``docs`` must be sorted by row within each term id; ``live`` (all rows when
        None) are the documents N and the average length count."""
        n_docs = int(lengths.shape[0])
        n_live = n_docs if live is None else int(live.sum())
        by_id = sorted(vocab, key=vocab.__getitem__)
        df_all = np.bincount(terms, minlength=len(by_id)) if len(by_id) else np.zeros(0, dtype=np.int64)
        live = [t for t, d in zip(by_id, df_all.tolist(), strict=True) if d > 0]
        sorted_terms = sorted(live, key=lambda t: t.encode("utf-8"))
        rank = {t: i for i, t in enumerate(sorted_terms)}
        old_to_new = np.full(len(by_id), -1, dtype=np.int64)
        for t, i in vocab.items():
            if t in rank:
                old_to_new[i] = rank[t]
        new_terms = old_to_new[terms] if terms.size else terms
        # postings arrive sorted by row within each term: a stable sort by term keeps that
        # (numpy's stable sort is a timsort: near-linear on the already sorted runs of an update)
        order = np.argsort(new_terms, kind="stable")
        new_terms, docs, tf = new_terms[order], docs[order], tf[order]
        df = np.bincount(new_terms, minlength=len(sorted_terms)).astype(np.int64)
        indptr = np.zeros(len(sorted_terms) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        avg_len = float(lengths.sum() / n_live) if n_live else 0.0  # removed rows have length 0
        idf = np.log(1 + (n_live - df + 0.5) / (df + 0.5)).astype(np.float64)
        dl = lengths[docs].astype(np.float64) if docs.size else np.zeros(0)
        tff = tf.astype(np.float64)
        norm = K1 * ((1 - B) + B * dl / max(avg_len, 1e-9))
        weight = (np.repeat(idf, df) * tff / (tff + norm)).astype(np.float32)
        width = max((len(t.encode("utf-8")) for t in sorted_terms), default=1)
        arrays = {
            "vocab": np.array([t.encode("utf-8") for t in sorted_terms], dtype=f"S{width}"),
            "indptr": indptr, "docs": docs.astype(np.int32), "tf": np.minimum(tf, 65535).astype(np.uint16),
            "weight": weight, "doc_len": lengths.astype(np.int32),
        }
        return cls(arrays, n_docs, avg_len, n_live)

    # --- files -----------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write into directory ``path`` (the caller makes the directory swap atomic)."""
        path.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            np.save(path / f"{name}.npy", np.asarray(getattr(self, name)), allow_pickle=False)
        (path / "meta.json").write_text(json.dumps(
            {"format": FORMAT, "n_docs": self.n_docs, "n_live": self.n_live, "avg_len": self.avg_len,
             "k1": K1, "b": B}), "utf-8")

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """Memory-map a saved index: nothing is read until a query touches it."""
        meta = json.loads((path / "meta.json").read_text("utf-8"))
        if meta.get("format") != FORMAT or meta.get("k1") != K1 or meta.get("b") != B:
            raise ValueError(f"{path}: lexical index of another format")
        arrays = {name: np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _FILES}
        if arrays["doc_len"].shape[0] != meta["n_docs"]:
            raise ValueError(f"{path}: damaged lexical index")
        return cls(arrays, int(meta["n_docs"]), float(meta["avg_len"]), int(meta.get("n_live", meta["n_docs"])))

    # --- search ----------------------------------------------------------------------------------
    def term_ids(self, tokens: Sequence[str]) -> list[int]:
        """Ids of the tokens the index knows (repeats kept: a repeated query term counts twice)."""
        if not len(self.vocab) or not tokens:
            return []
        enc = np.array([t.encode("utf-8") for t in tokens], dtype=self.vocab.dtype)
        pos = np.searchsorted(self.vocab, enc)
        pos = np.minimum(pos, len(self.vocab) - 1)
        hit = self.vocab[pos] == enc
        return [int(p) for p, h, t in zip(pos, hit, tokens, strict=True) if h and len(t.encode("utf-8"))
                <= self.vocab.dtype.itemsize]

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for the query tokens (zeros where no term matches)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for t in self.term_ids(tokens):
            a, b = int(self.indptr[t]), int(self.indptr[t + 1])
            out[self.docs[a:b]] += self.weight[a:b]  # rows are unique within one term
        return out

    def search_rows(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` best (row, score) for ``query``, rows where ``mask`` is false excluded."""
        tokens = index_tokens(query, query=True)
        if not tokens or self.n_docs == 0 or k <= 0:
            return []
        scores = self.scores(tokens)
        if mask is not None:
            scores *= mask
        cand = np.flatnonzero(scores > 0)
        if cand.size == 0:
            return []
        if cand.size > k:
            cand = cand[np.argpartition(-scores[cand], k - 1)[:k]]
        cand = cand[np.lexsort((cand, -scores[cand]))]  # best first, ties by row
        return [(int(r), float(scores[r])) for r in cand]
