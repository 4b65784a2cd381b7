"""Near-misses of a list answer: the papers a judge considered and did not list, closest first,
each with the sentence that decided and why it was left out. They let a user audit a list and pin
a paper back; they are never claims, so nothing here is cited or verified.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.lists.features import Candidate
from rag.lists.fitted import ListModel
from rag.types.answers import Exclusion
from rag.types.papers import Hit


def _exclusion(hit: Hit, quote: str, reason: str, closeness: float) -> Exclusion:
    p = hit.paper
    return Exclusion(paper_id=p.paper_id, title=p.title, quote=quote, reason=reason, closeness=round(closeness, 3))


def _veto_reason(c: Candidate) -> str:
    """Why a likely paper was left out anyway, in the words of the veto that decided."""
    if c.opposite:
        return f"it {c.opposite}"
    if c.contradicts:
        return "it mentions what should be absent, and only as used"
    return "it mentions the topic, but no sentence says it does without it"


def fitted(cands: Sequence[Candidate], model: ListModel, listed: set[str], n: int) -> list[Exclusion]:
    """The fitted judge's near-misses: unlisted candidates by the model's probability (a vetoed
    paper counts with the probability it had before the veto)."""
    probs = [model.probability(c.features) for c in cands]
    scored = sorted(((p, i, c) for i, (p, c) in enumerate(zip(probs, cands, strict=True))
                     if c.hit.paper.paper_id not in listed), key=lambda t: (-round(t[0], 3), t[1]))
    top = max((p for p, c in zip(probs, cands, strict=True) if c.hit.paper.paper_id in listed), default=0.0)
    out = []
    for p, _, c in scored[:n]:
        if c.vetoed:
            why = _veto_reason(c)
        elif p >= model.threshold:
            why = f"judged {p:.0%} likely, under {model.relative:.0%} of the best listed paper's {top:.0%}"
        else:
            why = f"judged {p:.0%} likely; listing needs {model.threshold:.0%}"
        out.append(_exclusion(c.hit, c.quote, why, p))
    return out


def by_probability(pool: Sequence[Hit], probs: Sequence[float], quotes: Sequence[str], threshold: float,
                   who: str) -> list[Exclusion]:
    """Near-misses of a judge that gives each paper a probability (``who`` names the judge)."""
    return [_exclusion(h, q, f"judged {p:.0%} likely by {who}; listing needs {threshold:.0%}", p)
            for h, p, q in zip(pool, probs, quotes, strict=True)]


def refused_by_model(hit: Hit, quote: str, reason: str, model_name: str, closeness: float) -> Exclusion:
    """A paper a capable backend read and did not confirm, with its own reason."""
    return _exclusion(hit, quote, f"{model_name} did not confirm it: {reason}" if reason else
                      f"{model_name} did not confirm it", closeness)


def unread_name(pool: Sequence[Hit], quotes: Sequence[str], names: Sequence[str]) -> list[Exclusion]:
    """When the question names something no abstract uses, the closest papers (by retrieval
    rank), with that reason."""
    why = f"its abstract does not mention {', '.join(f'“{n}”' for n in names)}"
    return [_exclusion(h, q, why, 1.0 / (1 + i)) for i, (h, q) in enumerate(zip(pool, quotes, strict=True))]
