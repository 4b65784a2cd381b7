"""Every LLM backend paperchat knows, with what it can do. Settings, the CLI's ``--backend``
choices, the web UI's picker and the engine's branches are all derived from this one table, so a
new backend is one entry here plus one adapter, not edits in seven files. Import-light on purpose:
settings validation reads it."""

from __future__ import annotations

from dataclasses import dataclass

OPENAI_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class BackendSpec:
    """One backend and its capabilities."""

    name: str
    label: str  # what a picker shows
    description: str
    remote: bool = False  # talks HTTP to an endpoint (needs a URL, maybe a key)
    json_schema: bool = True  # constrained output (the model judge needs it)
    capable_judge: bool = False  # trusted to judge relevance per paper (measured: the bundled models are not)


BACKENDS: tuple[BackendSpec, ...] = (
    BackendSpec("local", "Local (bundled model)", "the bundled GGUF (or PAPERCHAT_GGUF_PATH) run in-process by llama.cpp"),
    BackendSpec("openai", "OpenAI", "api.openai.com with OPENAI_API_KEY", remote=True, capable_judge=True),
    BackendSpec("openai-compatible", "OpenAI-compatible URL",
                "any OpenAI-compatible server at OPENAI_BASE_URL (vLLM, Ollama, llama.cpp server)",
                remote=True, capable_judge=True),
    BackendSpec("none", "Evidence only (no model)", "no model: answers quote the evidence only", json_schema=False),
)
NAMES: tuple[str, ...] = tuple(b.name for b in BACKENDS)
CHOICES: tuple[str, ...] = ("auto", *NAMES)  # what a user may ask for; "auto" resolves from the settings


def spec_for(name: str) -> BackendSpec | None:
    """The spec of backend ``name`` (None for a name no entry has, e.g. a test's own fake)."""
    return next((b for b in BACKENDS if b.name == name), None)
