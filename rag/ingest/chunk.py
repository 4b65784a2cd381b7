"""Split papers into embeddable chunks with LlamaIndex's SentenceSplitter, fed the analyser's
sentence splitter (:func:`rag.text.analysis.split_sentences`) so chunks and evidence agree on sentences.

Chunk sizes are counted in the embedder's own tokens so a chunk plus its title fits the model's
window (256 for MiniLM): nothing is truncated silently. The title is part of every chunk's
embedded text, because abstracts rarely repeat the name a user asks about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from rag.text.analysis import sentence_spans
from rag.types.papers import Chunk, Paper

# A paper's chunks are bounded by its abstract (rag.ingest.fields.MAX_ABSTRACT_CHARS: ~20 chunks at
# the default size); this bound holds whatever the chunk size is set to.
MAX_CHUNKS_PER_PAPER = 64




def embed_text(title: str, passage: str) -> str:
    return f"{title}\n\n{passage}"


def chunk_id(embedder_name: str, text: str) -> str:
    return hashlib.sha1(f"{embedder_name}\x00{text}".encode()).hexdigest()[:24]


class Chunker:
    """Title-aware sentence splitting sized in embedder tokens."""

    def __init__(self, count_tokens: Callable[[str], int], embedder_name: str, chunk_size: int,
                 chunk_overlap: int) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        self._count = count_tokens
        self._embedder = embedder_name
        self._size = chunk_size
        self._overlap = min(chunk_overlap, chunk_size // 2)
        self._splitter_cls = SentenceSplitter
        self._splitters: dict[int, object] = {}

    def _splitter(self, budget: int):
        if budget not in self._splitters:
            self._splitters[budget] = self._splitter_cls(
                chunk_size=budget,
                chunk_overlap=min(self._overlap, budget // 2),
                tokenizer=lambda s: [0] * self._count(s),
                chunking_tokenizer_fn=sentence_spans,
            )
        return self._splitters[budget]

    def chunks(self, paper: Paper) -> list[Chunk]:
        # the title (plus separator and special tokens) eats into the window
        budget = max(32, self._size - self._count(paper.title) - 4)
        if self._count(paper.abstract) <= budget:
            parts = [paper.abstract]
        else:
            parts = self._splitter(budget).split_text(paper.abstract) or [paper.abstract]
        # a passage the abstract repeats is one chunk: the same text is the same id (and adds
        # nothing to retrieval), and a store refuses two records with one id
        unique = list(dict.fromkeys(parts))[:MAX_CHUNKS_PER_PAPER]
        out = []
        for i, part in enumerate(unique):
            et = embed_text(paper.title, part)
            out.append(Chunk(chunk_id=chunk_id(self._embedder, et), paper_id=paper.paper_id, index=i,
                             text=part, embed_text=et))
        return out
