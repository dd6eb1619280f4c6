"""The answering side: condense -> retrieve -> answer -> verify/cite.

It only reads the store; it never imports the indexing side's writers."""
