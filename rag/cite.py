"""Citation verification for any answer text, whoever wrote it.

Every claim (sentence or bullet) must carry ``[n]`` markers that point at a source it was given,
and the cited abstract must support the claim: enough of the claim's content terms appear in one
of its sentences, and every number in the claim appears in the abstract. Claims that fail are
removed from the text and reported; each surviving citation carries its supporting quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.corpus import Paper
from rag.schema import Citation
from rag.text import Idf, coverage, numbers, split_sentences, terms

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# sentence ends: after . ! ? or after a citation marker that follows one ("... works. [1] Next")
_CLAIM_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])|(?<=\])\s+(?=[A-Z])")
SUPPORT_THRESHOLD = 0.5


@dataclass
class Claim:
    text: str  # without markers
    raw: str  # as written
    markers: list[int]


@dataclass
class Verification:
    text: str
    citations: list[Citation]
    dropped: list[str] = field(default_factory=list)  # human-readable reasons

    @property
    def empty(self) -> bool:
        return not self.citations


def markers(text: str) -> list[int]:
    out: list[int] = []
    for m in _MARKER.finditer(text):
        out += [int(x) for x in re.split(r"\s*[,;]\s*", m[1])]
    return out


def strip_markers(text: str) -> str:
    return " ".join(_MARKER.sub("", text).split())


def split_claims(answer: str) -> list[Claim]:
    """One claim per bullet line, or per sentence within a paragraph line."""
    claims: list[Claim] = []
    for line in answer.splitlines():
        line = line.strip()
        if not line:
            continue
        pieces = [line] if re.match(r"^([-*•]|\d+[.)])\s", line) else _CLAIM_SPLIT.split(line)
        for piece in pieces:
            piece = piece.strip()
            if piece:
                claims.append(Claim(text=strip_markers(piece), raw=piece, markers=markers(piece)))
    return claims


def _acronym(title: str) -> str:
    """ "Deep Gradient Compression: ..." -> "dgc", so a claim may name a paper by its initials."""
    head = re.split(r"[:?]", title)[0]
    return "".join(w[0] for w in re.findall(r"[A-Za-z][\w-]*", head) if w[0].isupper()).lower()


def support(claim: str, paper: Paper, idf: Idf) -> tuple[float, str, str]:
    """(score in [0,1], best supporting sentence, reason). Numbers must appear verbatim."""
    claim_terms = list(dict.fromkeys(terms(claim, joined=False)))
    sentences = split_sentences(paper.abstract) or [paper.abstract]
    title_terms = set(terms(paper.title)) | {_acronym(paper.title)}
    scored = [(coverage(claim_terms, set(terms(s)) | title_terms, idf), s) for s in sentences]
    score, best = max(scored, key=lambda x: x[0])
    # a claim may merge two sentences of the same abstract
    whole = coverage(claim_terms, set(terms(paper.abstract)) | title_terms, idf)
    score = max(score, 0.9 * whole) if len(claim_terms) > 6 else score
    abstract_numbers = set(numbers(paper.abstract + " " + paper.title))
    missing = [n for n in numbers(claim) if n not in abstract_numbers and n.rstrip("%x") not in abstract_numbers]
    if missing:
        return 0.0, best, f"number {missing[0]} is not in the cited abstract"
    if not claim_terms:
        return 0.0, best, "claim has no content"
    return score, best, f"{score:.0%} of the claim's terms are in the cited abstract"


def verify(answer: str, sources: Sequence[Paper], idf: Idf, *, threshold: float = SUPPORT_THRESHOLD,
           require_citation: bool = True) -> Verification:
    """Check every claim of ``answer`` against ``sources`` (numbered from 1 in order)."""
    kept: list[str] = []
    dropped: list[str] = []
    cites: dict[int, Citation] = {}
    for claim in split_claims(answer):
        if not claim.markers:
            if require_citation and terms(claim.text):
                dropped.append(f"removed a claim with no citation: {claim.text[:80]!r}")
                continue
            kept.append(claim.raw)
            continue
        bad = [n for n in claim.markers if not 1 <= n <= len(sources)]
        if bad:
            dropped.append(f"removed a claim citing [{bad[0]}], which is not one of the {len(sources)} sources")
            continue
        results = []
        for n in dict.fromkeys(claim.markers):
            score, quote, reason = support(claim.text, sources[n - 1], idf)
            results.append((n, score, quote, reason))
        if not any(score >= threshold for _, score, _, _ in results):
            _, score, _, reason = max(results, key=lambda r: r[1])
            dropped.append(f"removed an unsupported claim ({reason}): {claim.text[:80]!r}")
            continue
        raw = claim.raw
        for n, score, quote, reason in results:
            if score < threshold:
                raw = re.sub(rf"\[{n}\]", "", raw).strip()  # keep the claim, drop the wrong marker
                dropped.append(f"removed citation [{n}] ({reason})")
                continue
            c = cites.get(n)
            if c is None or score > c.support_score:
                p = sources[n - 1]
                cites[n] = Citation(n=n, paper_id=p.paper_id, title=p.title, quote=quote, supported=True,
                                    support_score=round(score, 3), reason=reason)
        kept.append(raw)
    text = "\n".join(kept)
    return Verification(text=text, citations=[cites[n] for n in sorted(cites)], dropped=dropped)


def attach_citations(text: str, sources: Sequence[Paper], idf: Idf, *,
                     threshold: float = SUPPORT_THRESHOLD) -> tuple[str, list[str]]:
    """Tie each sentence of model-written text to the sources that support it.

    Small models cite wrongly or not at all, so their own markers are discarded and every
    sentence gets the markers of the sources that support it; a sentence no source supports is
    removed. Returns (text with markers, reasons for removals)."""
    kept, dropped = [], []
    for sentence in split_sentences(strip_markers(text)):
        if not terms(sentence):
            continue
        scored = [(n, support(sentence, p, idf)) for n, p in enumerate(sources, start=1)]
        good = [n for n, (score, _, _) in scored if score >= threshold]
        if not good:
            best = max(scored, key=lambda x: x[1][0])[1] if scored else (0.0, "", "no sources")
            dropped.append(f"removed a model sentence no source supports ({best[2]}): {sentence[:80]!r}")
            continue
        body = sentence.rstrip()
        end = body[-1] if body[-1] in ".!?" else ""
        body = body[:-1] if end else body
        kept.append(f"{body} {''.join(f'[{n}]' for n in good)}{end or '.'}")
    return " ".join(kept), dropped
