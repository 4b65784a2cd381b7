"""Names in a question that no indexed abstract uses.

"Which papers use 3D Gaussian splatting for SLAM?" shares every other word with papers on
Gaussian splatting, so coverage and similarity rank them high; but if no abstract in the index
says "SLAM", none of them can be about it, and listing them would be a wrong answer. A name
(an acronym, a CamelCase or capitalised word: what :func:`rag.text.analysis.names` reads) whose words the
corpus never uses, in any common variant ("NPU" / "NPUs", "Africa" / "African"), makes the
question unanswerable from this index, unless it only qualifies the last word of a name the
papers use ("Mandarin Chinese"; "Gaussian Splatting SLAM" still needs "SLAM"). Ordinary words are
not checked this way: a question's verbs and adjectives ("cheap", "blame") are often not the
abstracts' words, names rarely are.
Pure logic over corpus IDF.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.text.analysis import Idf, stem, words
from rag.text.lexicon import NAME_VARIANT_SUFFIXES

_DIMENSIONS = re.compile(r"^\d+(?:x\d+)+$")  # "256x256" is a size, not a name


def _known(word: str, idf: Idf) -> bool:
    return any(idf.known(stem(word + v)) for v in NAME_VARIANT_SUFFIXES) or idf.known(word)


def unknown_names(question: str, names_used: Sequence[str], idf: Idf) -> list[str]:
    """Of the question's names (``names_used``, as :func:`~rag.text.analysis.names` reads them),
    those with a word no indexed abstract or title uses (an alternative offered with "or" is not
    required: "GPU or NPU kernels")."""
    out = []
    lowered = f" {' '.join(words(question))} "
    for name in names_used:
        parts = [w for w in words(name) if len(w) >= 3 and not w.isdigit() and not _DIMENSIONS.match(w)]
        missing = [w for w in parts if not _known(w, idf)]
        if not missing:
            continue
        if any(f" or {w} " in lowered or f" {w} or " in lowered for w in missing):
            continue
        if len(parts) > 1 and parts[-1] not in missing:
            continue  # "Mandarin Chinese": a word no abstract uses qualifies a name the papers use
        # the words themselves, as the question writes them ("SLAM", not "Gaussian-splatting-based SLAM")
        out += [t for t in re.findall(r"[A-Za-z0-9]+", name) if t.lower() in missing and t not in out]
    return out


def unknown_note(found: list[str]) -> str:
    quoted = ", ".join(f"“{n}”" for n in found)
    return (f"no indexed paper mentions {quoted}, so none can be about it; the nearest papers share only "
            "the question's other words")
