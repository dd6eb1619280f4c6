"""parse stage of indexing: files and pages read as normalised articles, and their text cut into sentences."""
