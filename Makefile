.PHONY: run test lint bench lock
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
# Regenerate the Docker image's hashed lock after changing [project] dependencies in pyproject.toml.
lock:
	.venv/bin/python -m pip install -q uv
	.venv/bin/uv pip compile pyproject.toml deploy/build-requirements.in --generate-hashes --universal \
	  --python-version 3.11 --no-header --annotation-style line -o deploy/requirements.lock
