"""sources stage of indexing: where an article's bytes come from (files and folders, pages fetched by address)."""
