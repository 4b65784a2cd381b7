"""Where an index lives: the vector store adapter (Chroma), the paper catalogue, the small facts
file beside an index, and atomic writes."""
