"""write stage of indexing: crash-safe writes to the store, under one writer's lock."""
