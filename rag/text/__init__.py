"""Reading English text: the one analyser (tokens, stems, sentences, IDF), the one lexicon every
word list lives in, and the readers built on them (claims, clauses, frames, titles, LaTeX and
control-character cleaning). Pure logic: no I/O, no models."""
