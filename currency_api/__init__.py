"""Currency API: a spec-first serverless CRUD API for ISO 4217 currencies."""
