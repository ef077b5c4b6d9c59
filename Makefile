# The two set-up commands of the README: `make demo` and `make test`.
# Both work on a fresh machine that has only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# The fast paths setup.py compiles with mypyc (the .py files stay the fallback).
FAST_SOURCES := sigv4kit/canonical/_fastwire.py sigv4kit/verify/_fast.py sigv4kit/client/_fastsign.py
BUILT := $(VENV)/.built-fastpaths
# Test files run a second time against the pure-Python build (`make pytest-pure`).
PURE_TESTS := tests/test_build.py tests/test_fastverify.py tests/test_fastsign.py \
	tests/test_smoke.py tests/test_conformance.py tests/test_auth.py

.PHONY: demo test lint typecheck pytest pytest-pure bench clean browser

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=77'
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(BUILT)

# An editable install keeps the compiled fast paths beside their sources:
# compile them again when a source changes (pure Python if that fails). The
# install itself compiles them and touches $(BUILT): then nothing is newer.
$(BUILT): $(FAST_SOURCES) setup.py | $(STAMP)
	@if [ ! -e $(BUILT) ] || [ -n "$$(find $(FAST_SOURCES) setup.py -newer $(BUILT))" ]; then \
		echo "$(BIN)/python setup.py --quiet build_ext --inplace --force"; \
		$(BIN)/python setup.py --quiet build_ext --inplace --force; \
	fi
	touch $(BUILT)

demo: $(BUILT)
	$(BIN)/python examples/demo.py

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check sigv4kit middleware tests examples benchmarks setup.py

typecheck: $(STAMP)
	$(BIN)/mypy --strict

pytest: $(BUILT) browser
	$(BIN)/python -m pytest

# The console's browser tests (tests/test_console_browser.py) need Debian's chromium
# and chromium-driver: install them when missing (as root, or through sudo).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; }

# The same installation with the fast paths imported from their .py sources.
pytest-pure: $(BUILT)
	SIGV4KIT_PURE_PYTHON=1 $(BIN)/python -m pytest -q $(PURE_TESTS)

# bench_middleware drives uvicorn with wrk (a Debian package): install it when missing.
bench: $(BUILT)
	command -v wrk >/dev/null || apt-get install -y wrk || sudo apt-get install -y wrk
	$(BIN)/python benchmarks/bench_sign.py
	$(BIN)/python benchmarks/bench_middleware.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build
	find sigv4kit -name '*.so' -delete
