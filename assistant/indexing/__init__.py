"""The indexing side, in stages: sources/ (files, pages by address) -> parse/ (articles, sentences) -> chunk/ (windows,
each file within its work limit) -> embed -> write/ (crash-safe writes, the write lock) -> watch/. `indexer` plans a
run, `pipeline` runs split -> embed -> write in threads, `uploads` checks and saves an upload before it is indexed.

It writes the store; it never imports the answering side. A stage imports earlier stages only."""
