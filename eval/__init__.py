"""Evaluation harness: gold set, metrics (pure), retrieval/answer systems, runs, reports.

Uses the library only through its public API (``rag.paperchat.Paperchat``, ``rag.types``: papers and answers); nothing in
``rag/`` imports this package. Entry points: :func:`eval.run.run_eval`, :func:`eval.compare.compare_runs`
and the ``paperchat eval`` command group (:data:`eval.cli.eval_group`).
"""
