"""The list judge's pure parts: features of real seed papers, the logistic fit, the cut."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import hit

from rag.lists.features import (
    FEATURES,
    READER_FEATURES,
    ListQuestion,
    candidate_features,
    pairs,
    phrase_share,
    relative_features,
    soft_coverage,
)
from rag.lists.fitted import ListModel, fit_logistic, judge
from rag.question.read import read_text


def test_question_reads_absence_topic_and_rare_terms(seed_idf):
    q = ListQuestion.read(read_text("Which papers skip warmup?"), seed_idf)
    assert q.absence and q.topic == ("warmup",) and q.key == ("warmup",)
    q = ListQuestion.read(read_text("Which papers improve the draft model used in speculative decoding?"), seed_idf)
    assert not q.absence
    assert ("specul", "decod") in q.pairs
    assert "specul" in q.key  # the rarest term of the question is a key term
    q = ListQuestion.read(read_text("Which papers use zorblification of transformers?"), seed_idf)
    assert q.oov == ("zorblif",)  # a word no abstract uses


def test_absence_is_read_from_the_papers_own_sentence(seed_titles, seed_idf):
    q = ListQuestion.read(read_text("Which papers skip warmup?"), seed_idf)
    skip = candidate_features(q, hit(seed_titles["Stabilizing Transformer Training by Preventing Attention Entropy Collapse"]),
                              seed_idf)
    rewarm = candidate_features(q, hit(seed_titles["Continual Pre-Training of Large Language Models: How to (re)warm your "
                                              "model?"]), seed_idf)
    assert skip.features["absence_stated"] > 0.5 and "warmup" in skip.quote.lower().replace("-", "")
    assert skip.quote in seed_titles["Stabilizing Transformer Training by Preventing Attention Entropy Collapse"].abstract
    assert rewarm.features["absence_stated"] == 0.0 and rewarm.features["absence_missing"] == 1.0


def test_phrase_and_soft_matching():
    wanted = frozenset(pairs("speculative decoding, draft heads"))
    assert phrase_share(wanted, pairs("We add draft heads to speculative decoding.")) == 1.0
    assert phrase_share(wanted, pairs("Speculative decoding is fast.")) == 0.5  # the pair across the comma is not wanted
    assert phrase_share(wanted, pairs("The heads draft; decoding is speculative.")) == 0.0

    class Flat:
        def __call__(self, t):
            return 1.0

    assert soft_coverage(["backprop"], {"backpropag", "train"}, Flat()) == 1.0  # one family
    assert soft_coverage(["backprop"], {"back", "prop"}, Flat()) == 0.0  # short shared prefix
    assert soft_coverage(["token"], {"tokyo"}, Flat()) == 0.0


def test_relative_features_compare_with_the_best_candidate(seed_titles, seed_idf):
    q = ListQuestion.read(read_text("Which papers improve the draft model used in speculative decoding?"), seed_idf)
    hydra = candidate_features(q, hit(seed_titles["Hydra: Sequentially-Dependent Draft Heads for Medusa Decoding"], 1), seed_idf,
                               [0.7, 0.2])
    other = candidate_features(q, hit(seed_titles["CLLMs: Consistency Large Language Models"], 2), seed_idf, [0.3])
    relative_features([hydra, other])
    assert hydra.features["dense_gap"] == 0.0 and other.features["dense_gap"] == pytest.approx(-0.4)
    assert hydra.features["sent_title"] > other.features["sent_title"]
    assert set(hydra.features) == set(FEATURES) - READER_FEATURES  # no reader given: none of its features


def test_logistic_fit_separates_and_regularisation_shrinks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 0.5 * x[:, 1] > 0).astype(float)
    w, b = fit_logistic(x, y, l2=0.1)
    acc = ((x @ w + b > 0) == (y == 1)).mean()
    assert acc > 0.97 and w[0] > 0 > w[1] and abs(w[2]) < 0.5 * abs(w[0])
    w_strong, _ = fit_logistic(x, y, l2=1000.0)
    assert np.linalg.norm(w_strong) < 0.2 * np.linalg.norm(w)


def _model(threshold=0.5, relative=0.0):
    return ListModel(features=("sent",), mean=(0.5,), scale=(0.1,), weights=(4.0,), bias=0.0, threshold=threshold,
                     relative=relative)


def test_judge_cuts_by_probability_and_relative_share(seed_titles, seed_idf):
    q = ListQuestion.read(read_text("Which papers train transformers?"), seed_idf)
    ps = list(seed_titles.values())[:3]
    cands = [candidate_features(q, hit(p, i + 1), seed_idf) for i, p in enumerate(ps)]
    for c, s in zip(cands, (0.9, 0.53, 0.3), strict=True):
        c.features["sent"] = s
    listed = judge(cands, _model(0.5))
    assert [j.hit.paper for j in listed] == ps[:2]
    assert listed[0].score > listed[1].score and "likely" in listed[0].reason
    assert [j.hit.paper for j in judge(cands, _model(0.5, relative=0.9))] == ps[:1]
    for c in cands:
        c.features["sent"] = 0.3
    assert judge(cands, _model(0.5)) == []  # nothing clears it: the answer is a refusal


def test_model_round_trip_and_the_shipped_model(tmp_path):
    m = _model(0.4, 0.3)
    m.save(tmp_path / "m.json")
    assert ListModel.load(tmp_path / "m.json") == ListModel.from_dict(m.to_dict())
    shipped = ListModel.load()
    assert set(shipped.features) <= set(FEATURES) and 0 < shipped.threshold < 1
    assert shipped.info and shipped.info["training_questions"] > 100
    bad = m.to_dict() | {"features": ["no_such_feature"]}
    with pytest.raises(ValueError, match="unknown features"):
        ListModel.from_dict(bad)


def test_an_absence_question_never_lists_a_paper_that_does_not_state_the_absence(seed_titles, seed_idf):
    q = ListQuestion.read(read_text("Which papers skip warmup?"), seed_idf)
    rewarm = candidate_features(q, hit(seed_titles["Continual Pre-Training of Large Language Models: How to (re)warm your "
                                              "model?"]), seed_idf)
    skip = candidate_features(q, hit(seed_titles["Fast Certified Robust Training with Short Warmup"], 2), seed_idf)
    for c in (rewarm, skip):
        c.features["sent"] = 0.9  # every other signal says yes
    assert rewarm.vetoed and not skip.vetoed
    assert [j.hit.paper.title for j in judge([rewarm, skip], _model(0.5))] == [skip.hit.paper.title]
    # a long property whose cue is a detail ("... without retraining or distillation") is not vetoed
    long_q = ListQuestion.read(read_text("Which papers speed up diffusion model sampling without retraining or distillation?"), seed_idf)
    assert not long_q.short_absence


def test_a_paper_that_mentions_the_asked_absent_thing_only_as_present_is_never_listed(seed_titles, seed_idf):
    q = ListQuestion.read(read_text("Which papers train transformers without learning-rate warmup?"), seed_idf)
    assert q.absent_key == "warmup" and not q.short_absence
    daformer = candidate_features(q, hit(seed_titles["DAFormer: Improving Network Architectures and Training Strategies for "
                                                "Domain-Adaptive Semantic Segmentation"]), seed_idf)
    skip = candidate_features(q, hit(seed_titles["Stabilizing Transformer Training by Preventing Attention Entropy Collapse"],
                                     2), seed_idf)
    assert daformer.contradicts and daformer.vetoed  # "a learning rate warmup promote feature transfer"
    assert not skip.contradicts and not skip.vetoed  # "... without warmup ..."
    # a paper that never mentions the term is left to the model, not vetoed
    q2 = ListQuestion.read(read_text("Which papers speed up diffusion model sampling without retraining or distillation?"), seed_idf)
    other = candidate_features(q2, hit(seed_titles["Stabilizing Transformer Training by Preventing Attention Entropy "
                                              "Collapse"]), seed_idf)
    assert q2.absent_key and not other.contradicts


def test_an_absence_stated_across_a_coordination_of_compounds_is_read(seed_titles, seed_idf):
    # "without the need for additional training or fine-tuning": the cue is seven words before
    # "tuning" but within reach of the compound "fine-tuning"
    q = ListQuestion.read(read_text("Do any papers get more temporally consistent generated videos by changing only the "
                      "sampling procedure, with no fine-tuning?"), seed_idf)
    guide = candidate_features(q, hit(seed_titles["VideoGuide: Improving Video Diffusion Models without Training "
                                                  "Through a Teacher's Guide"]), seed_idf)
    assert q.absent_key and not guide.contradicts and not guide.vetoed


def test_asking_to_reduce_a_problem_does_not_veto_papers_that_name_the_problem(seed_titles, seed_idf):
    # the paper states the problem ("known to be overconfident") before it addresses it
    q = ListQuestion.read(read_text("Papers that reduce overconfident softmax predictions so that predicted probabilities better "
                      "reflect whether the model is right."), seed_idf)
    ensemble = candidate_features(q, hit(seed_titles["Leveraging Ensemble Diversity for Robust Self-Training in the "
                                                     "Presence of Sample Selection Bias"]), seed_idf)
    assert q.absent_key is None and not ensemble.vetoed


@pytest.mark.parametrize("question", [
    "Which papers get rid of the warm-up stage?",  # "stage" names a part of the procedure
    "Which papers train without learning-rate warmup?",  # every paper trains; warmup is what is absent
    "Do any papers not use a warmup phase?",
    "Which papers never use warmup?",
])
def test_an_absence_in_a_researchers_words_is_read_as_skip_warmup(seed_idf, question):
    q = ListQuestion.read(read_text(question), seed_idf)
    assert (q.topic, q.short_absence) == (("warmup",), True)


def test_an_absence_with_a_topic_of_its_own_keeps_it(seed_idf):
    q = ListQuestion.read(read_text("Which papers skip the warm-up stage of vision transformers?"), seed_idf)
    assert (q.topic, q.short_absence) == (("warmup", "vision", "transform"), True)
    # the head of the negated phrase is asked absent only when the rest is what every paper does
    long_q = ListQuestion.read(read_text("Which papers train without human labels on medical images?"), seed_idf)
    assert not long_q.short_absence


@pytest.mark.parametrize(("question", "key"), [
    ("Which papers train without learning-rate warmup?", "warmup"),
    ("Do any papers not use a warmup phase?", "warmup"),
    ("Which papers speed up diffusion model sampling without retraining or distillation?", "retrain"),
    # a verb that drops or shortens names a method, not an absence the paper must state
    ("Which papers cut transformer training compute by processing fewer tokens per example, e.g. token dropping "
     "or shorter input sequences?", None),
    ("Papers that reduce overconfident softmax predictions", None),
])
def test_what_a_question_asks_to_be_absent(seed_idf, question, key):
    assert ListQuestion.read(read_text(question), seed_idf).absent_key == key
