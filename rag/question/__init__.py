"""What a question asks, read from its text and the conversation: follow-ups resolved against
the last answer, comparisons of named papers, names no abstract uses."""
