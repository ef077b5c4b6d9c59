# The two set-up commands of the README: `make demo` and `make test`.
# Both work on a fresh machine that has only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck pytest bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check sigv4kit middleware tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy --strict

pytest: $(STAMP) browser
	$(BIN)/python -m pytest

# The console's browser tests (tests/test_console_browser.py) need Debian's chromium
# and chromium-driver: install them when missing (as root, or through sudo).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; }

# bench_middleware drives uvicorn with wrk (a Debian package): install it when missing.
bench: $(STAMP)
	command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python benchmarks/bench_sign.py
	$(BIN)/python benchmarks/bench_middleware.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
