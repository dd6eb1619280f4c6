"""The indexing side: load -> split -> chunk -> embed -> write, with the write lock and `watch`.

It writes the store; it never imports the answering side."""
