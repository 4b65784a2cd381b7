"""The learned relevance judge's data and training: the candidate pool over the training corpus
(:mod:`eval.judge.pool`), labelling batches and agreement (:mod:`eval.judge.labels`). Training
itself needs the optional ``train`` extra; nothing here is imported by ``rag``."""
