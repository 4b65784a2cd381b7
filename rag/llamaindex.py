"""LlamaIndex faces of the retriever and the answer engine, so paperchat composes with the rest
of LlamaIndex:

- :func:`paper_retriever`: the hybrid retriever as a ``BaseRetriever``;
- :func:`evidence_postprocessor`: a ``BaseNodePostprocessor`` that keeps the papers whose
  sentences answer the question and attaches the evidence sentences to each node;
- :func:`query_engine`: a ``CustomQueryEngine`` whose responses are our verified, cited answers
  (citations in ``response.metadata["citations"]``, one source node per retrieved paper).
"""

from __future__ import annotations

from typing import Any

from rag.answer import AnswerEngine
from rag.evidence import select_evidence
from rag.settings import EvidenceThresholds
from rag.types import Filters, Hit, Mode


def _node(paper_id: str, title: str, abstract: str, score: float, meta: dict[str, Any]):
    from llama_index.core.schema import NodeWithScore, TextNode

    meta = {"title": title, **{k: v for k, v in meta.items() if v is not None}}
    node = TextNode(id_=paper_id, text=abstract, metadata=meta,
                    excluded_llm_metadata_keys=[k for k in meta if k != "title"],
                    excluded_embed_metadata_keys=[k for k in meta if k != "title"])
    return NodeWithScore(node=node, score=score)


def paper_retriever(retriever, k: int | None = None, filters: Filters | None = None,
                    mode: Mode = "hybrid"):
    """The hybrid retriever as a LlamaIndex ``BaseRetriever`` (one node per paper, abstract as text)."""
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

    class PaperRetriever(BaseRetriever):
        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            res = retriever.search(query_bundle.query_str, k=k, filters=filters, mode=mode)
            nodes = []
            for hit in res.hits:
                p = hit.paper
                meta = {key: v for key, v in p.to_dict().items() if v is not None and key != "abstract"}
                meta["best_chunk"] = hit.best_chunk
                node = TextNode(id_=p.paper_id, text=p.abstract, metadata=meta,
                                excluded_llm_metadata_keys=[x for x in meta if x != "title"],
                                excluded_embed_metadata_keys=[x for x in meta if x != "title"])
                nodes.append(NodeWithScore(node=node, score=hit.score))
            return nodes

    return PaperRetriever()


def evidence_postprocessor(engine: AnswerEngine, thresholds: EvidenceThresholds | None = None):
    """Node postprocessor: drop papers without evidence; put their best sentences in metadata."""
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from pydantic import PrivateAttr

    class EvidencePostprocessor(BaseNodePostprocessor):
        _engine: Any = PrivateAttr()
        _th: Any = PrivateAttr()

        def __init__(self) -> None:
            super().__init__()
            self._engine = engine
            self._th = thresholds or engine.settings.evidence

        @classmethod
        def class_name(cls) -> str:
            return "PaperchatEvidencePostprocessor"

        def _postprocess_nodes(self, nodes, query_bundle=None):
            if query_bundle is None:
                return nodes
            papers = self._engine.retriever.papers
            hits = [Hit(paper=papers[n.node.node_id], score=n.score or 0.0, rank=i, best_chunk="",
                             dense_score=None)
                    for i, n in enumerate(nodes, start=1) if n.node.node_id in papers]
            ev = select_evidence(query_bundle.query_str, hits, self._engine.idf, self._th)
            by_id = {n.node.node_id: n for n in nodes}
            out = []
            for pe in ev.relevant:
                n = by_id[pe.hit.paper.paper_id]
                n.node.metadata["evidence"] = [s.text for s in pe.sentences[:2]]
                n.node.metadata["evidence_reason"] = pe.reason
                n.score = pe.score
                out.append(n)
            return out

    return EvidencePostprocessor()


def query_engine(engine: AnswerEngine, k: int | None = None, filters: Filters | None = None):
    """A LlamaIndex query engine answering with paperchat's verified citations."""
    from llama_index.core.base.response.schema import Response
    from llama_index.core.query_engine import CustomQueryEngine
    from pydantic import PrivateAttr

    class PaperchatQueryEngine(CustomQueryEngine):
        _engine: Any = PrivateAttr()

        def __init__(self) -> None:
            super().__init__()
            self._engine = engine

        def custom_query(self, query_str: str) -> Response:
            a = self._engine.ask(query_str, k=k, filters=filters)
            nodes = [_node(s.paper_id, s.title, s.abstract, s.score,
                           {"date": s.date, "upvotes": s.upvotes, "cited": s.cited}) for s in a.sources]
            return Response(response=a.text, source_nodes=nodes,
                            metadata={"citations": [c.to_dict() for c in a.citations], "refused": a.refused,
                                      "backend": a.backend, "route": a.route, "notes": a.notes})

    return PaperchatQueryEngine()
