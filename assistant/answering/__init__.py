"""The answering side: question -> retrieval -> reading -> attribution -> decision (`flow.py`), or the summary
path for a whole-article question; every number it decides with is in `thresholds.py`.

It only reads the store; it never imports the indexing side's writers."""
