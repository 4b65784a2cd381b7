"""The reading judge: a MiniLM cross-encoder fine-tuned on labelled (question, paper) pairs over
6,000 arXiv abstracts that are not the seeds (``eval/judge_data``, ``python -m eval.judge.train``),
shipped as int8 ONNX in ``rag/data/judge`` with its card (data, hyper-parameters, held-out
metrics, the listing threshold and the sha256 of every file). It reads the question with the
paper's title and best sentences (``rag.judge.passage``) and gives the probability that the paper
has what the question asks. onnxruntime only: torch is never needed to run it."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from rag.errors import ModelError
from rag.judge.passage import LAYOUTS, judge_passage

MAX_TOKENS = 128  # the window it was trained with
BATCH = 32


class Reader:
    """Probabilities from the cross-encoder at ``directory`` (judge.onnx, tokenizer.json, card.json)."""

    def __init__(self, directory: Path, *, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        directory = Path(directory)
        try:
            self.card = json.loads((directory / "card.json").read_text("utf-8"))
        except (OSError, ValueError) as e:
            raise ModelError(f"the reading judge's card is missing or damaged in {directory}: {e}") from e
        for name, digest in self.card.get("sha256", {}).items():
            path = directory / name
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                raise ModelError(f"the reading judge's {name} in {directory} is missing or not the file its card "
                                 "names (sha256 differs); reinstall paperchat")
        self.threshold = float(self.card["threshold"])
        self.max_tokens = int(self.card.get("params", {}).get("max_len", MAX_TOKENS))
        self.layout = str(self.card.get("params", {}).get("layout", "top3"))  # what it was trained to read
        if self.layout not in LAYOUTS:
            raise ModelError(f"the reading judge in {directory} reads a layout this version does not know "
                             f"({self.layout!r}); reinstall paperchat")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(directory / "judge.onnx"), opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own untyped errors
            raise ModelError(f"cannot load the reading judge {directory / 'judge.onnx'}: {e}") from e
        tok = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tok.enable_truncation(self.max_tokens, strategy="only_second")
        tok.enable_padding()
        self._tok = tok
        self._lock = threading.Lock()

    def probabilities(self, question: str, passages: Sequence[str]) -> list[float]:
        """P(the paper has what the question asks) for each passage, in order."""
        import numpy as np

        out: list[float] = []
        for off in range(0, len(passages), BATCH):
            enc = self._tok.encode_batch([(question, p) for p in passages[off : off + BATCH]])
            feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
            with self._lock:
                logits = self._session.run(None, feed)[0].reshape(-1)
            out += (1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))).tolist()
        return out

    def paper_probabilities(self, question: str, question_terms: Sequence[str], papers: Sequence) -> list[float]:
        """Each paper as the judge was trained to read it: its title and the sentences its card's
        layout picks with the question's terms (``rag.judge.passage``)."""
        return self.probabilities(question, [judge_passage(question_terms, p.title, p.abstract, self.layout)
                                             for p in papers])

    def sentence_probabilities(self, question: str, title: str, sentences: Sequence[str]) -> list[float]:
        """Each sentence read on its own, after the paper's title: which one answers."""
        return self.probabilities(question, [f"{title}. {s}" for s in sentences])


def shipped_directory() -> Path:
    return Path(str(resources.files("rag.data").joinpath("judge")))


def listing_threshold(reader: Reader, chosen: float | None) -> float:
    """The probability that counts as "yes": the one the settings choose, else the card's."""
    return reader.threshold if chosen is None else chosen


@functools.lru_cache(maxsize=2)
def load_reader(directory: Path | None = None) -> Reader:
    """The reader at ``directory`` (default: the one shipped in the package), loaded once."""
    return Reader(directory or shipped_directory())


def read_evidence(reader: Reader, question: str, question_terms: Sequence[str], papers: list, threshold: float,
                  quoted: int) -> None:
    """Let the reader decide which retrieved papers answer a normal question (``PaperEvidence``,
    in place): each paper's probability from its title and best sentences decides ``relevant``
    and the order; the ``quoted`` most likely papers have their sentences reordered by the
    reader's score of each sentence alone, so the quote is the sentence that answers rather
    than the one that repeats the question's words."""
    if not papers:
        return
    probs = reader.paper_probabilities(question, question_terms, [pe.hit.paper for pe in papers])
    for pe, p in zip(papers, probs, strict=True):
        pe.relevant, pe.score = p >= threshold, p
        pe.reason = (f"judged {p:.0%} likely to answer by the reading judge" if pe.relevant
                     else f"the reading judge finds it unlikely to answer ({p:.0%})")
    papers.sort(key=lambda pe: -pe.score)
    for pe in [pe for pe in papers if pe.relevant and pe.sentences][:quoted]:
        sp = reader.sentence_probabilities(question, pe.hit.paper.title, [s.text for s in pe.sentences])
        order = sorted(range(len(sp)), key=lambda i: (-sp[i], pe.sentences[i].index))
        pe.sentences = [pe.sentences[i] for i in order]
        pe.read = True
