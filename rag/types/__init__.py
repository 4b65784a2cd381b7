"""Plain data that crosses module boundaries: papers and search (``papers``), answers (``answers``)."""
