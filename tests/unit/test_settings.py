"""Settings: read once from flags > env > .env > defaults; every bad value is a ConfigError naming its field."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from rag.errors import ConfigError, PaperchatError
from rag.settings import Settings, load_settings


def test_home_comes_from_paperchat_home(home: Path):
    s = load_settings()
    assert s.home == home
    assert s.chroma_path == home / "chroma"
    assert s.cache_dir == home / "cache"
    assert s.chroma_host is None  # embedded Chroma unless a host is given


def test_defaults_without_any_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PAPERCHAT_HOME")
    s = Settings()
    assert s.home == Path("~/.paperchat").expanduser()
    # retrieval defaults (fusion, weights, k) are tuned on the gold set, so they are not pinned here
    assert (s.embed_model, s.chroma_host, s.chroma_port, s.llm_backend) == ("minilm", None, 8000, "auto")


def test_home_flag_expands_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings(home="~/pc").home == tmp_path / "pc"


def test_flags_beat_env_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_TOP_K", "7")
    assert load_settings().top_k == 7
    assert load_settings(top_k=3).top_k == 3
    assert load_settings(top_k=None).top_k == 7


@pytest.mark.parametrize(
    ("env", "value", "field"),
    [
        ("PAPERCHAT_CHUNK_SIZE", "5", "chunk_size"),
        ("PAPERCHAT_CHUNK_SIZE", "big", "chunk_size"),
        ("PAPERCHAT_TOP_K", "0", "top_k"),
        ("PAPERCHAT_FUSION", "max", "fusion"),
        ("PAPERCHAT_DENSE_WEIGHT", "1.5", "dense_weight"),
        ("PAPERCHAT_EMBED_MODEL", "bert", "embed_model"),
        ("PAPERCHAT_LLM_BACKEND", "gpt", "llm_backend"),
        ("PAPERCHAT_AUTH", "nopassword", "auth"),
        ("PAPERCHAT_AUTH", "user:", "auth"),
        ("PAPERCHAT_COLLECTION", "a", "collection"),
        ("PAPERCHAT_COLLECTION", "bad name!", "collection"),
        ("PAPERCHAT_LLM_TIMEOUT_S", "0", "llm_timeout_s"),
        ("CHROMA_PORT", "http", "CHROMA_PORT"),
        ("CHROMA_PORT", "70000", "CHROMA_PORT"),
    ],
)
def test_bad_env_value_is_a_config_error_naming_the_field(monkeypatch, env: str, value: str, field: str):
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    msg = str(info.value)
    assert msg.startswith("invalid settings: ")
    assert f"{field}: " in msg
    assert "\n" not in msg
    assert isinstance(info.value, PaperchatError)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        load_settings(chunk_size=1, top_k=0)
    assert "chunk_size: " in str(info.value) and "top_k: " in str(info.value)


def test_unknown_setting_is_an_error_not_ignored():
    with pytest.raises(ConfigError, match="unknown setting.*chunk_sise"):
        load_settings(chunk_sise=100)


def test_standard_chroma_names_are_honoured(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHROMA_HOST", "db.internal")
    monkeypatch.setenv("CHROMA_PORT", "9001")
    s = load_settings()
    assert (s.chroma_host, s.chroma_port) == ("db.internal", 9001)


def test_prefixed_chroma_names_are_honoured(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_CHROMA_HOST", "10.0.0.5")
    monkeypatch.setenv("PAPERCHAT_CHROMA_PORT", "8123")
    s = load_settings()
    assert (s.chroma_host, s.chroma_port) == ("10.0.0.5", 8123)


def test_standard_openai_names_are_honoured(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("OPENAI_MODEL", "gpt-test")
    s = load_settings()
    assert s.openai_api_key is not None and s.openai_api_key.get_secret_value() == "sk-test-123"
    assert "sk-test-123" not in repr(s)  # a secret, never printed
    assert s.openai_model == "gpt-test"
    assert s.resolved_backend() == "openai"

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    s = load_settings()
    assert s.openai_base_url == "http://127.0.0.1:8080/v1"
    assert s.resolved_backend() == "openai-compatible"  # a base URL wins over the key


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "local"),
        ({"OPENAI_API_KEY": ""}, "local"),  # an empty key is no key
        ({"OPENAI_API_KEY": "sk-x", "PAPERCHAT_LLM_BACKEND": "none"}, "none"),  # explicit choice wins
        ({"PAPERCHAT_OPENAI_API_KEY": "sk-x"}, "openai"),
    ],
)
def test_resolved_backend(monkeypatch: pytest.MonkeyPatch, env: dict, expected: str):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert load_settings().resolved_backend() == expected


def test_dotenv_in_the_working_directory_is_read(home: Path):
    Path(".env").write_text("PAPERCHAT_CHUNK_SIZE=64\nOPENAI_API_KEY=sk-from-dotenv\n", "utf-8")
    s = load_settings()
    assert s.chunk_size == 64
    assert s.resolved_backend() == "openai"


def test_env_beats_dotenv(monkeypatch: pytest.MonkeyPatch):
    Path(".env").write_text("PAPERCHAT_TOP_K=9\n", "utf-8")
    monkeypatch.setenv("PAPERCHAT_TOP_K", "4")
    assert load_settings().top_k == 4


def test_typo_in_dotenv_is_an_error():
    Path(".env").write_text("PAPERCHAT_CHUNK_SIZ=64\n", "utf-8")
    with pytest.raises(ConfigError, match="PAPERCHAT_CHUNK_SIZ"):
        load_settings()


def test_unrelated_keys_in_a_shared_dotenv_are_ignored():
    # a project's .env commonly holds other tools' variables; paperchat must not refuse to start
    Path(".env").write_text("DATABASE_URL=postgres://x\nPAPERCHAT_TOP_K=3\n", "utf-8")
    assert load_settings().top_k == 3


def test_config_command_masks_secrets(monkeypatch: pytest.MonkeyPatch, home: Path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("PAPERCHAT_AUTH", "alice:hunter2")
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code == 0, result.output
    assert "sk-very-secret" not in result.output and "hunter2" not in result.output
    assert "openai_api_key = ****" in result.output
    assert "auth = alice:****" in result.output
    assert f"home = {home}" in result.output
    assert "# resolved LLM backend: openai" in result.output


def test_config_command_with_a_bad_value_is_one_error_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_TOP_K", "-1")
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: invalid settings: top_k: ")
    assert result.stderr.count("\n") == 1


def test_a_misspelt_paperchat_variable_is_an_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PAPERCHAT_TOPK", "3")
    with pytest.raises(ConfigError, match="PAPERCHAT_TOPK"):
        load_settings()

