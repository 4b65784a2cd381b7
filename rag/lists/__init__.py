"""The list route ("which papers ...?"): a wide candidate pool, a judge that decides paper by
paper, and an answer that lists every qualifying paper with a verbatim quote. Judges implement
one interface (:class:`rag.lists.judges.ListJudge`) and are chosen by settings and the backend's
declared capabilities (:func:`rag.lists.judges.judges_for`)."""
