"""A capable model (OpenAI, a vLLM server) as the per-paper judge of list questions.

Short JSON-schema-constrained prompts, one per paper, run a few at a time and cached per
(backend, question, paper content). The model's quote must be a verbatim sentence of the abstract,
or the paper is not confirmed: the model decides, our code checks. The bundled small models are
never used here (measured: they cannot judge relevance): only a backend whose registry entry
says ``capable_judge``. The rules-based judge is :mod:`rag.lists.rules`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from rag.errors import BackendError
from rag.lists.rules import Judgement
from rag.text.analysis import is_instruction_like, split_sentences
from rag.types.papers import Hit

SCHEMA = {
    "type": "object",
    "properties": {
        "qualifies": {"type": "boolean"},
        # bounded so a rambling model cannot run past max_tokens and cut its JSON off
        "quote": {"type": "string", "maxLength": 600},
        "reason": {"type": "string", "maxLength": 200},
    },
    "required": ["qualifies", "quote", "reason"],
    "additionalProperties": False,
}


def _norm(s: str) -> str:
    return " ".join(s.split()).strip(" \"'“”").lower()


def verbatim_sentence(quote: str, abstract: str) -> str | None:
    """The abstract sentence the quote reproduces (whitespace/quote-mark tolerant), else None."""
    q = _norm(quote)
    if len(q) < 12:
        return None
    for s in split_sentences(abstract):
        if is_instruction_like(s):
            continue
        ns = _norm(s)
        if q == ns or (q in ns and len(q) >= 0.6 * len(ns)):
            return s
    return None


@dataclass
class JudgeCache:
    """In memory, mirrored to a JSONL file so a repeated question costs nothing."""

    path: Path | None = None

    def __post_init__(self) -> None:
        self._mem: dict[str, dict] = {}
        self._lock = threading.Lock()
        if self.path and self.path.is_file():
            for line in self.path.read_text("utf-8").splitlines():
                try:
                    rec = json.loads(line)
                    self._mem[rec["key"]] = rec["value"]
                except (ValueError, KeyError):
                    continue  # a torn last line after a crash

    @staticmethod
    def key(backend: str, question: str, hit: Hit) -> str:
        raw = f"{backend}\x00{' '.join(question.lower().split())}\x00{hit.paper.content_hash}"
        return hashlib.sha1(raw.encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        with self._lock:
            return self._mem.get(key)

    def put(self, key: str, value: dict) -> None:
        with self._lock:
            self._mem[key] = value
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": key, "value": value}) + "\n")


def _ask(llm, question: str, hit: Hit, system: str) -> dict:
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Question: {question}\n\nTitle: {hit.paper.title}\nAbstract: {hit.paper.abstract}"},
    ]
    out = llm.complete_json(messages, SCHEMA, max_tokens=400)
    if not isinstance(out, dict):
        raise BackendError(f"{llm.name}: judge reply is not a JSON object", backend=llm.name, kind="bad_response")
    return {"qualifies": bool(out.get("qualifies")), "quote": str(out.get("quote") or ""),
            "reason": str(out.get("reason") or "")[:200]}


def judge_with_llm(llm, question: str, hits: Sequence[Hit], cache: JudgeCache, system: str, *,
                   workers: int = 4) -> Iterator[Judgement]:
    """Yield a Judgement per candidate as verdicts arrive (confirmed or not). Raises BackendError
    on the first backend failure so the caller can fall back and say so."""

    def one(hit: Hit) -> Judgement:
        key = JudgeCache.key(llm.name, question, hit)
        verdict = cache.get(key)
        if verdict is None:
            verdict = _ask(llm, question, hit, system)
            cache.put(key, verdict)
        quote = verbatim_sentence(verdict["quote"], hit.paper.abstract) if verdict["qualifies"] else None
        if verdict["qualifies"] and quote is None:
            return Judgement(hit=hit, qualifies=False, quote="", score=0.0,
                             reason="the judge's quote is not a sentence of the abstract")
        return Judgement(hit=hit, qualifies=verdict["qualifies"], quote=quote or "",
                         score=1.0 / (1 + hit.rank) if verdict["qualifies"] else 0.0,
                         reason=verdict["reason"] or "confirmed by the judge")

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(one, h) for h in hits]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            for f in futures:
                f.cancel()
