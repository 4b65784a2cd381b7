"""Shared fixtures: a throwaway home for every test, the real bundled embedder, real seed data.

Nothing here fakes a component. The embedder is the bundled int8 MiniLM, the store is a real
embedded Chroma in a temp directory, and the corpus is the seed files in ``data/seeds``.

Cost model: loading the embedder takes about a second, so it is built once per session and shared.
Embedding the whole seed corpus takes about a minute on two cores, so the seed index is built once
per session (``seed_index``) and only read by the tests that use it; tests that write to an index
build a small one (``small_corpus``, 20 papers, a few seconds) in their own home.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import SEED_FILES, paper_record, write_jsonl

from rag.corpus import CorpusLoad, Paper, load_corpus
from rag.embed import Embedder, embedder_from
from rag.index import IngestReport
from rag.paperchat import Paperchat
from rag.settings import Settings, load_settings
from rag.text import Idf

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


# fixtures that embed the whole seed corpus or load the bundled LLM: a test using one is slow
_SLOW_FIXTURES = frozenset({"seed_index", "qwen", "qwen_gguf"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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
