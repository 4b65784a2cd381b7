"""Citation verification, whoever wrote the claim: "verified" means exactly these checks.

Every claim (an answer line) must cite papers it was given, and each cited abstract must support
it: enough of the claim's content terms appear in one of its sentences; every number in the claim
appears in the abstract; every name (acronym, CamelCase word, capitalised multi-word name) appears
in it as written, up to case and plural; and no term is stated the opposite way from every mention
in the abstract ("with warmup" from "without warmup", "long" from "short"). Claims that fail are
removed and the reason goes into the answer's notes; each surviving citation carries its quote. :func:`split_claims` / :func:`support` also read the plain text of
other systems' answers (the eval's stock LlamaIndex baseline), where markers are all there is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from rag.text.analysis import Idf, coverage, missing_names, numbers, polarity_conflict, split_sentences, terms
from rag.text.claims import contradiction
from rag.types.answers import Citation, Line
from rag.types.papers import Paper

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# sentence ends: after . ! ? or after a citation marker that follows one ("... works. [1] Next")
_CLAIM_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])|(?<=\])\s+(?=[A-Z])")
SUPPORT_THRESHOLD = 0.5
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


@dataclass
class Claim:
    text: str  # without markers
    raw: str  # as written
    markers: list[int]


@dataclass
class Verification:
    lines: list[Line]
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
    source = f"{paper.title}. {paper.abstract}"
    abstract_numbers = set(numbers(source))
    missing = [n for n in numbers(claim) if n not in abstract_numbers and n.rstrip("%x") not in abstract_numbers]
    if missing:
        return 0.0, best, f"number {missing[0]} is not in the cited abstract"
    if not claim_terms:
        return 0.0, best, "claim has no content"
    unknown = missing_names(claim, source, also=[_acronym(paper.title)])
    if unknown:
        return 0.0, best, f"name {unknown[0]!r} is not in the cited abstract as written"
    conflict = polarity_conflict(claim, source)
    if conflict:
        return 0.0, best, conflict
    return score, best, f"{score:.0%} of the claim's terms are in the cited abstract"


def claim_of(line: Line) -> str:
    """What a line claims, read from its data and never from how a face renders it: a quote or
    list item claims its quoted words under the paper's title; a summary sentence, its text."""
    if line.kind in ("quote", "item"):
        return " ".join(f"{line.label}: {line.text}".split())
    return " ".join(line.text.split())


def verify_lines(lines: Sequence[Line], papers: Mapping[str, Paper], idf: Idf, numbers: Mapping[str, int], *,
                 threshold: float = SUPPORT_THRESHOLD) -> Verification:
    """Check every claim line against the papers it cites (by id).

    A line whose citations are all unsupported is removed; a wrong citation is removed from a line
    that another citation supports; a claim with content and no citation is removed. ``heading`` and
    ``nearest`` lines are our own framing, not claims, and pass. Each supported paper gets one
    :class:`Citation` numbered by ``numbers`` and carrying its best supporting sentence."""
    kept: list[Line] = []
    dropped: list[str] = []
    cites: dict[str, Citation] = {}
    for line in lines:
        if line.kind in ("heading", "nearest"):
            kept.append(line)
            continue
        claim = claim_of(line)
        cited = list(dict.fromkeys(line.cites))
        if not cited:
            if terms(claim):
                dropped.append(f"removed a claim with no citation: {claim[:80]!r}")
                continue
            kept.append(line)
            continue
        results = [(pid, *support(claim, papers[pid], idf)) for pid in cited]
        if not any(score >= threshold for _, score, _, _ in results):
            _, score, _, reason = max(results, key=lambda r: r[1])
            dropped.append(f"removed an unsupported claim ({reason}): {claim[:80]!r}")
            continue
        good = []
        for pid, score, quote, reason in results:
            if score < threshold:
                dropped.append(f"removed citation [{numbers.get(pid, '?')}] ({reason})")
                continue
            good.append(pid)
            c = cites.get(pid)
            if c is None or score > c.support_score:
                p = papers[pid]
                cites[pid] = Citation(n=numbers[pid], paper_id=pid, title=p.title, quote=quote, supported=True,
                                      support_score=round(score, 3), reason=reason)
        kept.append(replace(line, cites=good))
    return Verification(lines=kept, citations=sorted(cites.values(), key=lambda c: c.n), dropped=dropped)


def _opposite(sentence: str, paper: Paper, idf: Idf) -> str | None:
    return contradiction(sentence, paper.title, split_sentences(paper.abstract) or [paper.abstract], idf)


def summary_lines(text: str, sources: Sequence[Paper], idf: Idf, *,
                  threshold: float = SUPPORT_THRESHOLD) -> tuple[list[Line], list[str]]:
    """Tie each sentence of model-written text to the sources that support it.

    Small models cite wrongly or not at all, so their own markers are discarded and every
    sentence cites the sources that support it; a sentence no source supports is removed.
    Returns (summary lines, reasons for removals)."""
    kept, dropped = [], []
    for sentence in split_sentences(strip_markers(text)):
        if not terms(sentence):
            continue
        scored = [(p, support(sentence, p, idf)) for p in sources]
        # the words may all be there while the sentence says the opposite of the source about its
        # subject ("code hurts reasoning" from "code ... improvement in reasoning")
        for i, (p, (score, best, _)) in enumerate(scored):
            opposite = _opposite(sentence, p, idf) if score >= threshold else None
            if opposite:
                scored[i] = (p, (0.0, best, opposite))
        good = [p.paper_id for p, (score, _, _) in scored if score >= threshold]
        if not good:
            best = max(scored, key=lambda x: x[1][0])[1] if scored else (0.0, "", "no sources")
            dropped.append(f"removed a model sentence no source supports ({best[2]}): {sentence[:80]!r}")
            continue
        # "600x [2]." loses its marker as "600x ."; the space before the stop goes with it
        kept.append(Line(kind="summary", text=_SPACE_BEFORE_PUNCT.sub(r"\1", sentence.strip()), cites=good))
    return kept, dropped
