# Two commands on a fresh machine: `make demo` and `make test`. Each builds what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY311 ?= python3.11
# python3.13 from PATH, else pyenv's 3.13 (its shim refuses when the global version is 3.11)
PY313 ?= $(shell for p in python3.13 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -1); do \
	$$p -c 'import sys' >/dev/null 2>&1 && { echo $$p; break; }; done)
# Blender versions tested: 5.0 in the main venv, 4.2 LTS (oldest supported, Python 3.11), newest 5.x (Python 3.13).
BPY_MAIN ?= 5.0.1
BPY_OLD ?= 4.2.23
BPY_NEW ?= 5.2.3
PIP_FLAGS ?= -q --disable-pip-version-check
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1

VENV := .venv
BIN := $(VENV)/bin
DEPS := pyproject.toml requirements.txt requirements-dev.txt requirements-words.txt

# $(call venv,DIR,PYTHON,BPY_VERSION)
define venv
	rm -rf $(1) && $(2) -m venv $(1)
	$(1)/bin/pip install $(PIP_FLAGS) -r requirements.txt -r requirements-dev.txt -r requirements-words.txt bpy==$(3)
	$(1)/bin/pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	touch $(1)/.ok
endef

# pytest exit code 5 (no tests collected) is not a failure of the checkout.
PYTEST = run_pytest() { "$$@"; rc=$$?; [ $$rc -eq 5 ] && rc=0; return $$rc; }; run_pytest

.PHONY: help venv venvs demo test lint test-main test-b42 test-b313 bench clean fixtures addon words-packs words-base

help:
	@echo "make demo   - set up and run the bundled CPU backend on the shipped sample clip"
	@echo "make test   - lint, type check, and run the test suite on Blender $(BPY_MAIN), $(BPY_OLD), $(BPY_NEW)"
	@echo "make bench  - run every benchmark in bench/; each writes bench/results/<name>.md, then bench/RESULTS.md's index is rewritten (BENCH_ARGS=--quick: only the cheap ones)"
	@echo "make addon  - build the Blender extension zips into dist/ (validated with Blender's validator)"
	@echo "make words-packs - build the optional A2F Speech Words zips (tiny.en + ctranslate2 per platform; Whisper base) into dist/"
	@echo "make words-base - add Whisper base (133 MB) to .venv: words without a transcript heard better than tiny.en"

$(VENV)/.ok: $(DEPS)
	$(call venv,$(VENV),$(PY311),$(BPY_MAIN))

.venv-b42/.ok: $(DEPS)
	$(call venv,.venv-b42,$(PY311),$(BPY_OLD))

.venv-b313/.ok: $(DEPS)
	@test -n "$(PY313)" || { echo 'Python 3.13 not found (needed for the newest Blender); install it or set PY313=' >&2; exit 1; }
	$(call venv,.venv-b313,$(PY313),$(BPY_NEW))

venv: $(VENV)/.ok
venvs: $(VENV)/.ok .venv-b42/.ok .venv-b313/.ok

demo: $(VENV)/.ok
	$(BIN)/a2f infer samples/hello.wav --emotion joy --emotion-strength 0.5 --plot -o out/demo
	$(BIN)/python demo/make_demo.py --out out/demo
	@echo "demo outputs are in out/demo/: animation_frames.csv, emotion CSVs, out.wav, curves.png, demo.blend, demo.glb, contact_sheet.png"

lint: $(VENV)/.ok
	$(BIN)/ruff check .
	$(BIN)/mypy a2f_core $(wildcard addon bake.py build_addon.py build_words_pack.py)

test-main: $(VENV)/.ok
	$(PYTEST) $(BIN)/python -m pytest -q

test-b42: .venv-b42/.ok
	$(PYTEST) .venv-b42/bin/python -m pytest -q -m blender

test-b313: .venv-b313/.ok
	$(PYTEST) .venv-b313/bin/python -m pytest -q

test: lint test-main test-b42 test-b313

bench: $(VENV)/.ok
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

words-base: $(VENV)/.ok
	$(BIN)/pip install $(PIP_FLAGS) -r requirements-words-base.txt

addon: $(VENV)/.ok
	$(BIN)/python build_addon.py

words-packs: $(VENV)/.ok
	$(BIN)/python build_addon.py --words
	$(BIN)/python build_addon.py --words-base

fixtures:
	$(BIN)/python tests/fixtures/make_fixtures.py

clean:
	rm -rf $(VENV) .venv-b42 .venv-b313 out build dist .pytest_cache .mypy_cache .ruff_cache
