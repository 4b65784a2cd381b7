"""The model's one-sentence summary over the quoted evidence, streamed as token events: bounded
in time (``rag.llm.budget``), holding one of the backend's request slots, and returning a note
instead of an answer when the model is busy, fails or runs out of time (the quoted evidence is
complete without it). What it writes is verified by the caller (``rag.answer.cite.summary_lines``)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

from rag.answer.evidence import PaperEvidence
from rag.errors import BackendError
from rag.llm.budget import OutOfTime, within
from rag.settings import Settings
from rag.types.answers import Event

if TYPE_CHECKING:
    from rag.protocols import LLM


def model_sees(pe: PaperEvidence, position: int) -> list:
    """Evidence sentences the model sees: two for the best paper, one for the others (short
    prompts: the bundled 0.5B model reads ~150 tokens/s on 2 cores)."""
    return sorted(pe.sentences[: 2 if position == 0 else 1], key=lambda s: s.index)


def summarise(llm: LLM, settings: Settings, question: str, chosen: list[PaperEvidence]):
    """Stream a short model-written summary over the evidence; returns (text, note)."""
    evidence = "\n".join(
        f"- {pe.hit.paper.title}: " + " ".join(f"\"{s.text}\"" for s in model_sees(pe, i))
        for i, pe in enumerate(chosen))
    messages = [
        {"role": "system", "content": settings.prompts.summary},
        {"role": "user", "content": f"Evidence:\n{evidence}\n\nQuestion: {question}\nOne-sentence answer:"},
    ]
    parts: list[str] = []
    cfg = settings.answer
    wait, budget = cfg.summary_wait_s, cfg.summary_budget_s
    held = ExitStack()  # the model's slot, released when its generation has really stopped
    if not held.enter_context(llm.slot(wait)):
        held.close()
        msg = (f"the model was busy with other questions for {wait:g}s, so this answer has no summary; "
               "the quoted evidence is complete")
        yield Event(type="note", text=msg)
        return "", msg
    try:
        llm.load()  # a first use loads the model (seconds): that is not the summary's time
    except BackendError as e:
        held.close()
        msg = f"{e} — answered from the evidence instead"
        yield Event(type="note", text=msg)
        return "", msg
    except BaseException:
        held.close()
        raise
    stream = within(lambda: llm.stream(messages, max_tokens=cfg.summary_tokens), budget, on_end=held.close)
    try:
        for delta in stream:
            parts.append(delta)
            yield Event(type="token", text=delta)
    except OutOfTime:
        # what was drafted is dropped whole: a cut-off sentence is never verified or shown
        msg = (f"the model had not finished its summary after {budget:g}s, so this answer has none; "
               "the quoted evidence is complete")
        yield Event(type="note", text=msg)
        return "", msg
    except BackendError as e:
        msg = f"{e} — answered from the evidence instead"
        yield Event(type="note", text=msg)
        return "", msg
    finally:
        stream.close()
    return " ".join("".join(parts).split()), None
