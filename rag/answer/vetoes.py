"""Vetoes: the papers a question rules out whatever their evidence, each with the note that says
why. One implementation per rule, read by both routes: a paper that states the opposite of the
finding asked for, or stands on the other side of an attack / defence question; and every paper
when the question names something no abstract uses. The normal route also drops a paper that does
not state the finding asked for, and one that only uses a name whose origin is asked."""

from __future__ import annotations

from collections.abc import Sequence

from rag.question.read import Question
from rag.question.unknown import unknown_names, unknown_note
from rag.settings import Settings
from rag.text.analysis import Idf, split_sentences
from rag.text.claims import affirms, contradiction
from rag.text.frames import frame_conflict
from rag.text.origin import introduces
from rag.text.results import reports_result

OPPOSITE = "says the opposite of what the question asks"
UNSTATED = "does not state the finding the question asks about"
UNREPORTED = "reports no result on what the question asks (only background or what the paper sets out to do)"


def opposite_finding(question: Question, title: str, sentences: Sequence[str], idf: Idf) -> str | None:
    """Why the paper's sentences state the opposite of the finding ``question`` asks for
    ("code hurts reasoning" asked, "code helps reasoning" said), or None."""
    return contradiction(question.claim, title, sentences, idf) if question.claim else None


def other_side(question: Question, title: str, sentences: Sequence[str]) -> str:
    """Why the paper is on the other side of an attack / defence question (a phrase), or ""."""
    return frame_conflict(question.frame, title, sentences) or ""


def opposition(question: Question, title: str, sentences: Sequence[str], idf: Idf) -> str:
    """Why a paper is not what was asked, as a phrase ("says the opposite of ...", "presents an
    attack, ..."); empty when neither veto applies. The list route's reading of both rules."""
    why = opposite_finding(question, title, sentences, idf)
    if why:
        return f"{OPPOSITE} ({why})"
    return other_side(question, title, sentences)


# the sentences read for a result besides those covering the quote threshold: the best ones
RESULT_READ = 3


def keep_results(pe, quote: float) -> bool:
    """For a finding this reading cannot check: keep the paper's sentences on the question (its
    ``RESULT_READ`` best, and any covering ``quote`` of the question) that report a result
    (:func:`reports_result`) as the only ones it may be quoted by. False when none does: the
    paper's words on the question are background or its plan, no evidence of a finding."""
    quotable = pe.sentences[:RESULT_READ] + [s for s in pe.sentences[RESULT_READ:] if s.coverage >= quote]
    found = [s for s in quotable if reports_result(s.text)]
    if found:
        pe.sentences = found
    return bool(found)


def drop_opposed(question: Question, papers: Sequence, idf: Idf, *, must_state: bool = False,
                 must_report: float | None = None) -> list[str]:
    """Mark as not relevant the evidence papers (``PaperEvidence``) that state the opposite of the
    finding asked for, or stand on the other side of an attack / defence question, or (with
    ``must_state``) do not state the finding where its direction or comparison can be read, or
    (with ``must_report``, the quote threshold) where it cannot be read, quote no sentence that
    reports a result. Returns a note per paper dropped, in words."""
    if question.claim is None and question.frame is None:
        return []
    notes = []
    for pe in papers:
        if not pe.relevant:
            continue
        p = pe.hit.paper
        sents = [s.text for s in pe.sentences]
        why = opposite_finding(question, p.title, sents, idf)
        if why:
            pe.relevant, pe.reason = False, f"says the opposite ({why})"
            notes.append(f"not cited: “{p.title}” {OPPOSITE} ({why})")
            continue
        checked = question.claim and (must_state or must_report is not None)
        stated = affirms(question.claim, p.title, sents, idf) if checked else True
        if must_state and stated is False:
            pe.relevant, pe.reason = False, UNSTATED
            notes.append(f"not cited: “{p.title}” {UNSTATED}")
            continue
        if must_report is not None and stated is None and not keep_results(pe, must_report):
            pe.relevant, pe.reason = False, UNREPORTED
            notes.append(f"not cited: “{p.title}” {UNREPORTED}")
            continue
        side = other_side(question, p.title, split_sentences(p.abstract))
        if side:
            pe.relevant, pe.reason = False, side
            notes.append(f"not cited: “{p.title}” {side}")
    return notes


def drop_not_introducing(question: Question, papers: Sequence) -> list[str]:
    """For a question asking which paper introduced what it names, mark as not relevant the
    evidence papers that only use the name ("1-bit Adam" for "which paper introduced Adam?").
    Returns a note per paper dropped."""
    if not question.origin:
        return []
    notes = []
    for pe in papers:
        p = pe.hit.paper
        if pe.relevant and not introduces(question.names, p.title, [s.text for s in pe.sentences]):
            pe.relevant, pe.reason = False, f"uses {question.names[0]} but does not introduce it"
            notes.append(f"not cited: “{p.title}” {pe.reason}")
    return notes


def unknown_name_veto(question: Question, idf: Idf, settings: Settings) -> list[str]:
    """The names in the question no abstract uses (none when the veto is off)."""
    return unknown_names(question.text, question.names, idf) if settings.answer.name_veto else []


def apply_vetoes(question: Question, papers: Sequence, idf: Idf, settings: Settings) -> list[str]:
    """Mark as not relevant the evidence papers the question rules out, and say why: a paper
    stating the opposite of the finding asked for, or not stating it (or on the other side of an
    attack / defence question), one that only uses the name a question asks the origin of, or
    every paper when the question names something no abstract uses."""
    said = (drop_opposed(question, papers, idf, must_state=settings.answer.finding_stated,
                         must_report=settings.evidence.quote if settings.answer.finding_reported else None)
            if settings.answer.opposite_veto else [])
    if settings.answer.origin_veto:
        said += drop_not_introducing(question, papers)
    missing = unknown_name_veto(question, idf, settings)
    if missing:  # a name no abstract uses: no paper here can be about it
        for pe in papers:
            pe.relevant = False
        said.append(unknown_note(missing))
    return said
