"""What the engine relies on, as types: a retriever, a model backend and a vector store. The
concrete classes (:class:`rag.retrieve.hybrid.HybridRetriever`, :class:`rag.llm.backend.LLMBackend`,
:class:`rag.storage.chroma.ChromaStore`) implement them; another implementation (a store over Qdrant or
pgvector, a model behind another protocol) implements the same members, and the engine reads
them directly instead of probing for them. ``tests/unit/test_protocols.py`` checks that the concrete
classes have every member.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from rag.embed.bundled import Embedder
    from rag.settings import Settings
    from rag.storage.chroma import Active
    from rag.text.analysis import Idf
    from rag.types.papers import Filters, Mode, Paper, SearchResult


class Retriever(Protocol):
    """Finds papers for a question; owns the corpus view the engine reads (papers, IDF)."""

    settings: Settings
    papers: Mapping[str, Paper]
    embedder: Embedder  # the query embedder: the engine compares sentences by meaning with it
    derived_path: Path | None  # where per-generation caches (sentence vectors) may be kept

    @property
    def idf(self) -> Idf: ...

    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               mode: Mode = "hybrid", depth: int | None = None) -> SearchResult: ...


class LLM(Protocol):
    """A model backend. ``capable_judge``: trusted to judge list candidates (a large hosted or
    served model, not the bundled 0.5B one); ``supports_schema``: can answer constrained to a
    JSON schema. Both are declared by the backend's registry entry and read by the list judges."""

    name: str
    capable_judge: bool | None
    supports_schema: bool | None

    def slot(self, wait_s: float) -> AbstractContextManager[bool]:
        """Hold one of the backend's request slots; the context yields False when none freed up
        within ``wait_s``."""
        ...

    def load(self) -> Any:
        """Make the model ready (a local model loads here, seconds, before any timed call)."""
        ...

    def stream(self, messages: Any, max_tokens: int | None = None, temperature: float = 0.0) -> Iterator[str]: ...

    def complete_json(self, messages: Any, json_schema: Mapping[str, Any], max_tokens: int | None = None) -> Any: ...


class Store(Protocol):
    """A vector store of chunks in named collections (generations), with a pointer to the live
    one. Every method names the collection it touches."""

    where: str  # the store in words, for messages ("embedded Chroma at ...")

    def active(self) -> Active | None: ...

    def set_active(self, active: Active) -> None: ...

    def generation_name(self, generation: int) -> str: ...

    def generations(self) -> list[str]: ...

    def collection(self, name: str, *, create: bool = False, embedder: str = "") -> Any: ...

    def embedder_of(self, name: str) -> str: ...

    def drop(self, name: str) -> None: ...

    def add(self, name: str, ids: list[str], embeddings: np.ndarray, documents: list[str],
            metadatas: list[dict]) -> None: ...

    def max_batch(self) -> int: ...

    def ids(self, name: str) -> set[str]: ...

    def get(self, name: str, ids: list[str], *, embeddings: bool = False) -> dict: ...

    def iter_all(self, name: str, where: dict | None = None) -> Iterator[tuple[str, str, dict]]: ...

    def delete(self, name: str, ids: list[str]) -> None: ...

    def count(self, name: str) -> int: ...

    def query(self, name: str, vector: np.ndarray, n: int, where: dict | None = None, *,
              documents: bool = True, metadatas: bool = True, at_most: int | None = None,
              ids: Sequence[str] | None = None) -> list[tuple[str, float, str, dict]]: ...

    def load_papers(self, active: Active) -> list[Paper]: ...

    def chunk_ids_by_paper(self, name: str) -> dict[str, list[str]]: ...
