"""Model graders call a model: the interface the engine uses. The client of OpenAI-compatible
backends, its retries, concurrency limit and cache live in this package's other modules."""
