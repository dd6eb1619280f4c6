"""watch stage of indexing: `assistant watch` polls a folder and feeds, and runs the indexing again when they change."""
