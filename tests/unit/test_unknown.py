"""Names no indexed abstract uses make a question unanswerable here (rag.question.unknown), on the seeds."""

from __future__ import annotations

import pytest

from rag.question.unknown import unknown_names
from rag.text.analysis import names


@pytest.mark.parametrize(("question", "missing"), [
    ("Which papers use 3D Gaussian splatting for SLAM (simultaneous localization and mapping)?", ["SLAM"]),
    ("Is there a Gaussian-splatting-based SLAM system?", ["SLAM"]),
    ("Which paper trains an agent to play Minecraft?", ["Minecraft"]),
    ("Which paper introduced the Sophia optimizer?", ["Sophia"]),
    ("Which paper speeds up FlashAttention-2 on A100 GPUs?", []),  # every name is in the seeds
    ("Which papers implement faster GPU or NPU kernels for attention?", []),  # "NPUs" in an abstract
    ("Papers on low-resource NLP for languages spoken in Africa", []),  # "African"
    ("What FID does Min-SNR weighting reach on ImageNet 256x256?", []),  # a size, not a name
    ("Which papers train with Minecraft or Atari agents?", []),  # an alternative offered with "or"
    ("which papers use cheap tricks to fight overthinking?", []),  # ordinary words are not names
    ("Is there work building models or benchmarks in Mandarin Chinese?", []),  # qualifies a name papers use
    ("Which papers use 3D Gaussian Splatting SLAM?", ["SLAM"]),  # the name's head is what no paper uses
])
def test_unknown_names(seed_idf, question, missing):
    assert unknown_names(question, names(question), seed_idf) == missing
