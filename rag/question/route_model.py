"""Is a question asking for a set of papers? A small fitted model of how researchers phrase it.

The list route's pattern (``rag.text.lexicon.AGGREGATE_QUESTION``) knows "which papers ...", "are
there papers ..." and their kin. Researchers also type "Any work on ...?", "looking for methods
that ...", "How do people ...?" or a bare search phrase ("cuffless blood pressure from heart
sounds"), and those went to the normal route, which quotes at most three papers and cannot
list. This model reads what the pattern misses: a logistic regression over the question's words
and its first words, fitted by ``eval/fit_router.py`` on question wordings over the training
corpus (never the seeds' held-out sets) and shipped as ``rag/data/route_model.json``. Pure
Python: the question reader stays free of numpy.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

MODEL_FILE = "route_model.json"
_WORD = re.compile(r"[a-z0-9]+")


def route_features(question: str) -> list[str]:
    """The features the model weighs: each word, the first one, two and three words, and whether
    the text is a question."""
    words = _WORD.findall(question.lower())
    feats = [f"w:{w}" for w in dict.fromkeys(words)]
    feats += [f"f{n}:{' '.join(words[:n])}" for n in (1, 2, 3) if len(words) >= n]
    feats.append("q:yes" if question.rstrip().endswith("?") else "q:no")
    return feats


@dataclass(frozen=True)
class RouteModel:
    weights: dict[str, float]
    bias: float
    threshold: float

    def probability(self, question: str) -> float:
        z = self.bias + sum(self.weights.get(f, 0.0) for f in route_features(question))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def asks_for_papers(self, question: str) -> bool:
        return self.probability(question) >= self.threshold

    @classmethod
    def load(cls, path: Path | None = None) -> RouteModel:
        text = (path.read_text("utf-8") if path is not None
                else resources.files("rag.data").joinpath(MODEL_FILE).read_text("utf-8"))
        data = json.loads(text)
        return cls(weights={k: float(v) for k, v in data["weights"].items()}, bias=float(data["bias"]),
                   threshold=float(data["threshold"]))


@cache
def shipped_route_model() -> RouteModel:
    return RouteModel.load()
