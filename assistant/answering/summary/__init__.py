"""Whole-article questions: a cited summary of the article(s) in scope, instead of retrieval."""
