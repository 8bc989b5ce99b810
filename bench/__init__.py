"""Benchmarks: our Lambda and local server against FastAPI + Mangum and a bare handler."""
