"""Long-term memories of a learner: the book and relevance ranking."""
