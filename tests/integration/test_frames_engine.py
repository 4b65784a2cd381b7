"""Frames on the seed index: the engine refuses a defence question answered only by an attack (pure frame
logic: unit/test_frames.py)."""

from __future__ import annotations

MIXTURE = "Data Mixture Inference: What do BPE Tokenizers Reveal about their Training Data?"


def test_the_engine_refuses_a_defence_question_answered_only_by_an_attack(seed_index):
    from rag.engine import AnswerEngine

    engine = AnswerEngine(seed_index.app.retriever(), None)
    a = engine.ask("Which paper proposes a defence that hides a tokenizer's training-data mixture from "
                   "inference attacks on its BPE merge list?")
    assert all(c.title != MIXTURE for c in a.citations)
    assert any(MIXTURE in n and "presents an attack, and the question asks for a defence" in n for n in a.notes)
    b = engine.ask("Which paper proposes an attack that infers a tokenizer's training-data mixture from its BPE "
                   "merge list?")
    assert not b.refused and any(c.title == MIXTURE for c in b.citations)
