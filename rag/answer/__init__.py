"""The answer engine and what it produces: evidence selection, cited lines, verification, the
model's summary, the event stream every face folds, and exports of an answer."""
