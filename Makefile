# The whole reproduction from a clean clone:
#   make test      the whole test suite, examples/tutorial.py included (installs everything
#                  into .venv first; what CI runs)
#   make test-fast the suite without the tests marked slow, for the edit loop
#   make figures   sample -> train -> analyze, validate -> figures at the paper's scale
#   make figures QUICK=1   the same pipeline on a small preset (L = 16, 64-16-4), in minutes
#   make bench     performance figures (JSON, kept in results/bench.json)
#   make docs      regenerate docs/cli.md from the commands' help (a test fails when it is
#                  stale) and docs/results.md from the outputs of the targets below
#   make report    the controls, coupling sweep and seeds of reports/rg_report.md
#   make study     the recipe and capacity study of reports/capacity_report.md
# Every target bootstraps its own virtual environment in .venv; file targets mean only what
# changed is redone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLI := $(BIN)/ising-rg

# The paper preset's numbers (L, K, samples, layers, epochs) are the paper's, as in
# ising_rg/paper.py, the one place the package takes them from; keep the two in step.
ifeq ($(QUICK),1)
  SIZE := 16
  COUPLING := 0.408
  SAMPLES := 4000
  HIDDEN := 64,16,4
  EPOCHS := 20
  TAG := quick
else
  SIZE := 40
  COUPLING := 0.408
  SAMPLES := 20000
  HIDDEN := 400,100,25
  EPOCHS := 200
  TAG := paper
endif
SEED := 0

DATA := data/ising_L$(SIZE)_K$(COUPLING).h5
MODEL := models/dbn_$(TAG).h5
RESULTS := results/$(TAG)/metrics.json
VALIDATION := results/$(TAG)/validation.json
FIGURE := figures/$(TAG)/receptive_fields.png

.PHONY: test test-fast bench lint docs venv figures report study clean
.DELETE_ON_ERROR:

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# the suite on every core it is given (pytest-xdist; whole test files per worker, so a module's
# fixtures are built once; one BLAS thread per worker, since busy-waiting BLAS threads of two
# processes on two cores slow both down); TEST_WORKERS=0 runs it in this process
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/ruff check ising_rg tests examples
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	  $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	$(CLI) bench --json > results/bench.json.tmp
	mv results/bench.json.tmp results/bench.json
	cat results/bench.json

lint: $(STAMP)
	$(BIN)/ruff check ising_rg tests examples

# docs/cli.md: the template's prose with every command's usage, help and options filled in;
# docs/results.md: its template with the numbers of results/, reports/ and results/bench.json.
docs: $(STAMP)
	$(BIN)/python -m ising_rg.cli_reference docs/templates/cli.md docs/cli.md
	$(BIN)/python -m ising_rg.results_page docs/templates/results.md docs/results.md

figures: $(FIGURE)

$(DATA): | $(STAMP)
	$(CLI) sample --size $(SIZE) --coupling $(COUPLING) --samples $(SAMPLES) --seed $(SEED) \
	  --out $@

$(MODEL): $(DATA)
	$(CLI) train --data $(DATA) --hidden $(HIDDEN) --epochs $(EPOCHS) --seed $(SEED) \
	  --out $@ --overwrite

$(RESULTS): $(MODEL) $(DATA)
	$(CLI) analyze --model $(MODEL) --data $(DATA) --out results/$(TAG) --overwrite

# The sampler scan and the 1D decimation (two of the figures) depend on neither model nor data.
$(VALIDATION): | $(STAMP)
	$(CLI) validate --size $(SIZE) --seed $(SEED) --out results/$(TAG) --overwrite

$(FIGURE): $(RESULTS) $(VALIDATION)
	$(CLI) figures --results results/$(TAG) --out figures/$(TAG) --overwrite

# The report's experiments (sample -> train -> analyze per job, 2 workers), then the report.
WORKERS ?= 2
report: $(STAMP)
	$(CLI) experiment --preset default --out runs --workers $(WORKERS) --report reports/rg_report.md --overwrite

# The recipe and capacity study (its own jobs in the same folder; data sets are shared).
study: $(STAMP)
	$(CLI) experiment --preset capacity --out runs --workers $(WORKERS) --report reports/capacity_report.md --overwrite

clean:
	rm -rf $(VENV) .pytest_cache
