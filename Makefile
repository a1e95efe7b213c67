# gradergen: `make generate` regenerates generated/ from spec/ and templates/; `make test` runs every suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
GENERATOR_INPUTS := $(shell find spec templates generator -type f ! -name '*.pyc' ! -path '*/__pycache__/*' 2>/dev/null)

.PHONY: all generate images test check bench clean-venv system-packages dist dist-gradergen

all: generate

# A fresh machine gets its own virtualenv from the pinned requirements, once.
$(READY): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . -e generated/python
	touch $@

# gradergen's version is the spec's info.version (pyproject.toml): the editable install's metadata
# follows it when it changes.
VERSION_STAMP := $(VENV)/.version
$(VERSION_STAMP): $(READY) spec/graders.openapi.yaml
	@version=$$($(BIN)/python release/spec_version.py) && \
	if [ "$$($(BIN)/gradergen --version)" != "gradergen $$version" ]; then \
	  $(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .; fi
	touch $@

# Regenerates only when the spec, a template or the generator changed since the last run.
generated/.stamp: $(READY) $(VERSION_STAMP) $(GENERATOR_INPUTS)
	$(BIN)/gradergen generate --lang all --out generated
	touch $@

generate: generated/.stamp

# Debian packages the engine needs (bubblewrap for the python sandbox, WordNet for METEOR; chromium for
# the grade report's browser test): installed
# when run as root with apt, else make stops with the command to run. Quick when they are there.
SYSTEM_PACKAGES := bubblewrap wordnet-base wordnet-sense-index chromium
system-packages:
	@bash .ci/system-packages $(SYSTEM_PACKAGES)

# The images python graders run in: built once (a few minutes), cached under ~/.cache/gradergen/images;
# a current image makes this a no-op. It takes WordNet from the system packages; gcc builds scikit-bio.
images: system-packages $(READY)
	$(BIN)/gradergen image build 2025-05-08

test: system-packages $(READY) images
	$(BIN)/pytest tests

check: $(READY)
	$(BIN)/ruff check generator tests bench templates release
	$(BIN)/mypy
	$(BIN)/openapi-spec-validator spec/graders.openapi.yaml

# The server benchmark's load generator, wrk, comes from Debian too; only the benchmark needs it.
bench: system-packages $(READY) images
	@bash .ci/system-packages wrk
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_scaling.py
	$(BIN)/python bench/bench_validate.py
	$(BIN)/python bench/bench_text_similarity.py
	$(BIN)/python bench/bench_python_graders.py
	$(BIN)/python bench/bench_server.py
	$(BIN)/python bench/bench_server_abuse.py
	$(BIN)/python bench/bench_grade.py
	$(BIN)/python bench/bench_ray.py

clean-venv:
	rm -rf $(VENV)

# `make dist` builds what each ecosystem publishes into $(DIST)/<name>/, every artifact at the spec's
# info.version. A language's artifacts are one file, release/<lang>.mk, defining dist-<lang> (found by
# the wildcard below): adding a language's artifact is adding that file.
DIST ?= dist
DIST_BUILD ?= build/dist
DIST_LANGS := $(sort $(patsubst release/%.mk,%,$(wildcard release/*.mk)))
SPEC_VERSION = $(shell $(BIN)/python release/spec_version.py)

dist: dist-gradergen $(addprefix dist-,$(DIST_LANGS))
	@echo "dist: gradergen $(DIST_LANGS) at $(SPEC_VERSION) in $(DIST)/"

# gradergen itself: the sdist, and the wheel built from it (carrying the spec, templates, Python client).
dist-gradergen: generate
	rm -rf $(DIST)/gradergen
	$(BIN)/python -m build --no-isolation --outdir $(DIST)/gradergen .
	$(BIN)/twine check --strict $(DIST)/gradergen/*

include $(wildcard release/*.mk)
