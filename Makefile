.PHONY: run test lint bench
run:
	./scripts/serve
test:
	./scripts/test
lint:
	.venv/bin/ruff check app tests bench && .venv/bin/mypy
bench:
	.venv/bin/python bench/bench_diff.py
	.venv/bin/python bench/bench_pipeline.py
	.venv/bin/python bench/bench_tokens.py
	.venv/bin/python bench/bench_parse.py
	.venv/bin/python bench/bench_globs.py
