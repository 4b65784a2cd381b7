"""LlamaIndex faces of the retriever and the answer engine, so paperchat composes with the rest
of LlamaIndex:

- :func:`paper_retriever`: the hybrid retriever as a ``BaseRetriever``;
- :func:`evidence_postprocessor`: a ``BaseNodePostprocessor`` that keeps the papers whose
  sentences answer the question and attaches the evidence sentences to each node;
- :func:`veto_postprocessor`: drops the papers the question rules out (stating the opposite of
  the finding asked for, the other side of an attack / defence question, a name no abstract uses)
  and says why in the surviving nodes' metadata;
- :func:`route_engine`: one ``CustomQueryEngine`` per route of the answer engine ("answer",
  "list"), whose responses are our verified, cited answers (the :class:`~rag.types.answers.Answer` in
  ``response.metadata["answer"]``, citations in ``metadata["citations"]``, one source node per
  retrieved paper);
- :func:`router_query_engine`: the routes under a LlamaIndex ``RouterQueryEngine`` whose
  selector is paperchat's own routing rule (no model call), so it answers exactly as
  :meth:`rag.engine.AnswerEngine.ask` does; ``paperchat eval --answer-systems ours-llamaindex``
  runs the product through it;
- :func:`query_engine`: the whole engine as one query engine (the router's routes in one step).
"""

from __future__ import annotations

from typing import Any

from rag.answer.evidence import select_evidence
from rag.answer.vetoes import apply_vetoes
from rag.engine import AnswerEngine
from rag.question.read import read_text
from rag.settings_sections import EvidenceThresholds
from rag.types.papers import Filters, Hit, Mode


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


def _postprocessor(name: str, engine: AnswerEngine, thresholds: EvidenceThresholds | None, step):
    """A ``BaseNodePostprocessor`` named ``name`` whose work is ``step(nodes, evidence, query)``,
    where ``evidence`` is :func:`~rag.answer.evidence.select_evidence` over the nodes' papers."""
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from pydantic import PrivateAttr

    class Postprocessor(BaseNodePostprocessor):
        _engine: Any = PrivateAttr()
        _th: Any = PrivateAttr()

        def __init__(self) -> None:
            super().__init__()
            self._engine = engine
            self._th = thresholds or engine.settings.evidence

        @classmethod
        def class_name(cls) -> str:
            return name

        def _postprocess_nodes(self, nodes, query_bundle=None):
            if query_bundle is None:
                return nodes
            papers = self._engine.retriever.papers
            hits = [Hit(paper=papers[n.node.node_id], score=n.score or 0.0, rank=i, best_chunk="", dense_score=None)
                    for i, n in enumerate(nodes, start=1) if n.node.node_id in papers]
            q = read_text(query_bundle.query_str)
            return step(nodes, select_evidence(q, hits, self._engine.idf, self._th), q)

    return Postprocessor()


def evidence_postprocessor(engine: AnswerEngine, thresholds: EvidenceThresholds | None = None):
    """Node postprocessor: drop papers without evidence; put their best sentences in metadata."""

    def keep_evidence(nodes, ev, _question):
        by_id = {n.node.node_id: n for n in nodes}
        out = []
        for pe in ev.relevant:
            n = by_id[pe.hit.paper.paper_id]
            n.node.metadata["evidence"] = [s.text for s in pe.sentences[:2]]
            n.node.metadata["evidence_reason"] = pe.reason
            n.score = pe.score
            out.append(n)
        return out

    return _postprocessor("PaperchatEvidencePostprocessor", engine, thresholds, keep_evidence)


def veto_postprocessor(engine: AnswerEngine, thresholds: EvidenceThresholds | None = None):
    """Node postprocessor: drop the papers the question rules out (``rag.answer.vetoes``); the
    notes saying why go into every surviving node's ``metadata["vetoes"]``."""

    def drop_ruled_out(nodes, ev, question):
        for pe in ev.papers:
            pe.relevant = True  # judge only what the vetoes say: relevance is the evidence step's
        notes = apply_vetoes(question, ev.papers, engine.idf, engine.settings)
        kept = {pe.hit.paper.paper_id for pe in ev.papers if pe.relevant}
        out = [n for n in nodes if n.node.node_id in kept]
        for n in out:
            n.node.metadata["vetoes"] = list(notes)
        return out

    return _postprocessor("PaperchatVetoPostprocessor", engine, thresholds, drop_ruled_out)


def _response(a):
    from llama_index.core.base.response.schema import Response

    nodes = [_node(s.paper_id, s.title, s.abstract, s.score, {"date": s.date, "upvotes": s.upvotes, "cited": s.cited})
             for s in a.sources]
    return Response(response=a.text, source_nodes=nodes,
                    metadata={"answer": a, "citations": [c.to_dict() for c in a.citations], "refused": a.refused,
                              "backend": a.backend, "route": a.route, "notes": a.notes,
                              "excluded": [e.to_dict() for e in a.excluded]})


ROUTES = {
    "answer": "Questions about what papers say, find or propose: answered with quotes and a checked summary.",
    "list": "Which papers have a property (\"which papers skip warmup?\"): every paper found, each quoted.",
}


def route_engine(engine: AnswerEngine, route: str, k: int | None = None, filters: Filters | None = None):
    """One route of the answer engine as a LlamaIndex query engine (no conversation: a question
    is answered on its own)."""
    from llama_index.core.query_engine import CustomQueryEngine
    from pydantic import PrivateAttr

    from rag.answer.stream import fold

    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; choose from {', '.join(ROUTES)}")

    class PaperchatRouteEngine(CustomQueryEngine):
        _engine: Any = PrivateAttr()

        def __init__(self) -> None:
            super().__init__()
            self._engine = engine

        def custom_query(self, query_str: str):
            q = " ".join(query_str.split())
            return _response(fold(self._engine.run(read_text(q, route), k=k, filters=filters)))

    return PaperchatRouteEngine()


def router_query_engine(engine: AnswerEngine, k: int | None = None, filters: Filters | None = None):
    """The routes under a ``RouterQueryEngine``; the selector is paperchat's routing rule
    (:meth:`~rag.engine.AnswerEngine.route`), so no model is asked to route and the answers are
    the engine's own."""
    from llama_index.core.base.base_selector import BaseSelector, SelectorResult, SingleSelection
    from llama_index.core.llms.mock import MockLLM
    from llama_index.core.query_engine import RouterQueryEngine
    from llama_index.core.tools import QueryEngineTool, ToolMetadata

    names = list(ROUTES)

    class PaperchatSelector(BaseSelector):
        """Routes by paperchat's own rule; it has no prompt to show or change."""

        def _get_prompts(self) -> dict:
            return {}

        def _update_prompts(self, prompts) -> None:
            return None

        def _select(self, choices, query) -> SelectorResult:
            routed = engine.route(query.query_str)
            return SelectorResult(selections=[SingleSelection(index=names.index(routed.route),
                                                              reason=f"paperchat routes it to {routed.route!r}")])

        async def _aselect(self, choices, query) -> SelectorResult:
            return self._select(choices, query)

    tools = [QueryEngineTool(query_engine=route_engine(engine, name, k, filters),
                             metadata=ToolMetadata(name=name, description=ROUTES[name])) for name in names]
    # the LLM is never called: one route is selected, so nothing is summarised across routes
    return RouterQueryEngine(selector=PaperchatSelector(), query_engine_tools=tools, llm=MockLLM())


def query_engine(engine: AnswerEngine, k: int | None = None, filters: Filters | None = None):
    """A LlamaIndex query engine answering with paperchat's verified citations."""
    from llama_index.core.query_engine import CustomQueryEngine
    from pydantic import PrivateAttr

    class PaperchatQueryEngine(CustomQueryEngine):
        _engine: Any = PrivateAttr()

        def __init__(self) -> None:
            super().__init__()
            self._engine = engine

        def custom_query(self, query_str: str):
            return _response(self._engine.ask(query_str, k=k, filters=filters))

    return PaperchatQueryEngine()
