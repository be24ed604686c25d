"""Structure search: one query type, a Meilisearch backend and an SQL fallback with the same answers."""
