"""`assistant eval`: measure retrieval, answers, citations and refusals on public datasets."""
