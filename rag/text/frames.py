"""Attack or defence: which side of a security question a paper stands on.

"Which papers make safety training resistant to malicious fine-tuning?" and an abstract showing
that LoRA fine-tuning *undoes* safety training share every topic word; so do "which paper proposes
an attack that fools text detectors?" and a paper that builds such a detector. Term coverage and
embeddings both take one for the other. This module reads the *frame*: whether the question asks
for an attack or a defence, and whether the paper's own contribution (its title and the sentences
in which it speaks of itself) is one. Pure logic over a small lexicon.

A cue is the act only when it is not the object of the other side: in "robust against attacks"
or "vulnerabilities underlying these attacks" the attack is what is defended against, and in
"our attack bypasses existing defences" the defence is what is attacked. A paper with no clear
majority has no frame, and a paper or question without a frame never conflicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rag.text.analysis import stem, words
from rag.text.lexicon import ATTACK_WORDS, CUE_MODIFIERS, DEFENCE_WORDS, OBJECT_MARKERS, OWN_WORK

Frame = Literal["attack", "defence"]

# the lexicon's cues, stemmed
_ATTACK = frozenset(stem(w) for w in ATTACK_WORDS)
_DEFENCE = frozenset(stem(w) for w in DEFENCE_WORDS)
_OBJECT_MARKERS = frozenset(stem(w) for w in OBJECT_MARKERS)
_OBJECT_REACH = 6  # "increases robustness -- even for attack types", "bypasses all existing defences"


def _kind(token: str) -> Frame | None:
    s = stem(token)
    if s in _ATTACK:
        return "attack"
    if s in _DEFENCE:
        return "defence"
    return None


def acts(text: str) -> list[Frame]:
    """The frame of each cue in ``text`` that is an act, in order (cues that are the object of the
    other side's cue or of "against" / "vulnerable to" are left out)."""
    ws = words(text)
    kinds = [_kind(w) for w in ws]
    out: list[Frame] = []
    for i, k in enumerate(kinds):
        if k is None:
            continue
        nxt = i + 1 < len(ws)
        if (nxt and kinds[i + 1] not in (None, k)) or (nxt and ws[i + 1] in CUE_MODIFIERS):
            continue  # "attack detection", "jailbreak defences", "attack-agnostic": the next word is the act
        # "defend against attacks", "robust ... to attacks" (an opposite cue right before is a
        # compound's modifier, handled above, so it does not count here)
        before = range(max(0, i - _OBJECT_REACH), i - 1)
        if any(kinds[j] is not None and kinds[j] != k for j in before):
            continue
        if any(stem(ws[j]) in _OBJECT_MARKERS for j in range(max(0, i - _OBJECT_REACH), i)):
            continue
        out.append(k)
    return out


def question_frame(question: str) -> Frame | None:
    """What a question asks for: the first act cue it names ("a defence that hides ... from
    inference attacks" asks for a defence; "an attack so that detectors fail" for an attack)."""
    found = acts(question)
    return found[0] if found else None


def paper_frame(title: str, sentences: Sequence[str]) -> Frame | None:
    """The side a paper's own contribution is on: the majority of the act cues in its title and in
    the sentences where it speaks of its own work, by a clear margin (twice the other side's)."""
    own = [title, *(s for s in sentences if OWN_WORK.search(s))]
    n = {"attack": 0, "defence": 0}
    for text in own:
        for k in acts(text):
            n[k] += 1
    if n["attack"] > 2 * n["defence"]:
        return "attack"
    if n["defence"] > 2 * n["attack"]:
        return "defence"
    return None


def frame_conflict(want: Frame | None, title: str, sentences: Sequence[str]) -> str | None:
    """Why a paper is on the other side from ``want``, what the question asks for
    (:func:`question_frame`): "presents an attack, and the question asks for a defence"; or None."""
    if want is None:
        return None
    have = paper_frame(title, sentences)
    if have is None or have == want:
        return None
    return (f"presents {'an attack' if have == 'attack' else 'a defence or detector'}, and the question asks for "
            f"{'an attack' if want == 'attack' else 'a defence'}")
