# Two commands for a newcomer: `make run` (the main job on the embedded default) and `make test`.
# Both create .venv on first use and install the pinned environment (requirements.txt +
# constraints.txt); nothing needs installing by hand.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# make run START=2026-10-01 END=2026-10-07 REGISTRY=small SCALE=0.5
START    ?= 2026-10-30
END      ?= 2026-10-31
REGISTRY ?= full
SCALE    ?= 1.0
PYTEST_ARGS ?=
# Test files run in parallel processes (pytest-xdist), each file's tests in one of them: one per
# core, at most 4 (20.7 -> 12.4 minutes on 2 cores). TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto

.PHONY: run test lint bench lock clean-run venv sysdeps

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	@$(MAKE) --no-print-directory sysdeps
	@touch $(STAMP)

# WeasyPrint (PDF reports) needs Pango from the system; install it where it is missing. HarfBuzz's
# subsetter embeds only the glyphs a report uses: without it WeasyPrint falls back to fontTools
# (with a DeprecationWarning: later WeasyPrint versions require it), which took 0.54 of a
# report's 1.17 s, about 6 minutes of `make run`'s ~680 reports. It is installed where Pango is
# present without it; where that cannot be done (no root), the reports are built the slower way.
HAS_HB_SUBSET := import sys, warnings; warnings.simplefilter("ignore"); \
  from weasyprint.text import ffi; sys.exit(ffi.harfbuzz_subset is None)
sysdeps:
	@$(BIN)/python -c "import weasyprint" 2>/dev/null || { \
	  echo "installing Pango for WeasyPrint"; \
	  apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; }
	@$(BIN)/python -c '$(HAS_HB_SUBSET)' 2>/dev/null || { \
	  echo "installing HarfBuzz's subsetter for WeasyPrint (faster PDF reports)"; \
	  { apt-get update -qq && apt-get install -y -qq libharfbuzz-subset0 >/dev/null; } \
	  || echo "could not install libharfbuzz-subset0: reports embed their fonts through fontTools (slower)"; }

run: venv
	$(BIN)/complaints run --start $(START) --end $(END) --registry $(REGISTRY) --scale $(SCALE)

test: venv
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check dags plugins tests bench
	$(BIN)/ruff format --check dags plugins tests bench

bench: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

# Re-resolve the pins after changing requirements.txt (needs the package index).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements.txt
	.venv-lock/bin/pip check
	.venv-lock/bin/pip freeze --exclude-editable > constraints.txt
	rm -rf .venv-lock

# Forget the embedded run's data (warehouse, outbox, simulated sources, Airflow DB, local key).
clean-run:
	rm -rf var
