# One-command set-up: every target that runs code depends on the venv.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SOURCE  ?= demo
OUT     ?= build
ARGS    ?=

.PHONY: install install-train test build-dataset bench lint glyphs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install-train: install
	$(BIN)/python -m pip install -q -e '.[test,train]'

test: install
	$(BIN)/python -m pytest -q

build-dataset: install
	$(BIN)/pmc-pipeline build --source $(SOURCE) --out $(OUT) $(ARGS)

bench: install
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python -m bench $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Rewrite the stored letter shapes (pmc_pipeline/subfigures/glyphs.npz) from matplotlib's fonts.
glyphs: install
	$(BIN)/python -c 'from pmc_pipeline.subfigures import glyphs as g; g.write(g.rendered(g.matplotlib_fonts()))'

clean:
	rm -rf $(VENV) build .pytest_cache
