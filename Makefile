# gradergen: `make generate` regenerates generated/ from spec/ and templates/; `make test` runs every suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
GENERATOR_INPUTS := $(shell find spec templates generator -type f ! -name '*.pyc' ! -path '*/__pycache__/*' 2>/dev/null)

.PHONY: all generate test check bench clean-venv

all: generate

# A fresh machine gets its own virtualenv from the pinned requirements, once.
$(READY): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . -e generated/python
	touch $@

# Regenerates only when the spec, a template or the generator changed since the last run.
generated/.stamp: $(READY) $(GENERATOR_INPUTS)
	$(BIN)/gradergen generate --lang all --out generated
	touch $@

generate: generated/.stamp

test: $(READY)
	$(BIN)/pytest tests

check: $(READY)
	$(BIN)/ruff check generator tests bench
	$(BIN)/mypy
	$(BIN)/openapi-spec-validator spec/graders.openapi.yaml

bench: $(READY)
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_scaling.py
	$(BIN)/python bench/bench_validate.py

clean-venv:
	rm -rf $(VENV)
