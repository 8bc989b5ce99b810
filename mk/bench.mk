# Benchmarks (issue 6): our Lambda against FastAPI + Mangum and a bare handler, and the local
# server under a slow DynamoDB. Not part of `make test`; prints one table and writes
# bench/RESULTS.md. The first run builds Lambda-shaped packages under bench/.build/ (pip, PyPI).
.PHONY: bench

bench: install
	$(PY) -m bench.run
