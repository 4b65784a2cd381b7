"""Finding candidate papers: BM25 over whole papers, dense search over chunks, fused per paper;
and the answer side's document frequencies."""
