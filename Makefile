# zclib: the two commands are `make reproduce` and `make test`; both build .venv first.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
RUFF   := $(VENV)/bin/ruff
STAMP  := $(VENV)/.installed
KERNEL := zclib
LINTED := zclib tests results/checks notebooks course

# -- what each notebook reads: make re-runs a notebook only when one of these changed.
# Stamps live in git-ignored results/.done/, so a fresh clone runs everything and an
# interrupted `make reproduce` resumes with the first notebook that did not finish.
# (The benchmark and image data outside the repository are not tracked here.)
DONE       := results/.done
NOTEBOOKS  := $(basename $(notdir $(wildcard notebooks/[0-9][0-9]_*.ipynb)))
SRC        := $(shell find zclib -name '*.py')
SCORES     := $(wildcard results/scores/fp32/*.parquet results/scores/fp32/variants/*.parquet)
TRAIN      := $(wildcard results/train/*.parquet)
SPEED      := $(wildcard results/bench/*.json)
NUMBERS    := $(filter-out $(DONE)/99_summary,$(addprefix $(DONE)/,$(NOTEBOOKS)))

.PHONY: help env data test test-slow smoke reproduce bench verify-scores lint format \
        cpu-fullspace spread clean-env report check-report test-browser chromium lab gpu-prepare \
        gpu-fullspace gpu-merge gpu-econas gpu-econas-merge check-reproduce bench-train cpu-econas course grade $(NOTEBOOKS)

help:  ## list targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-16s %s\n", $$1, $$2}'
	@echo "  NN_name          one notebook, e.g. make 01_table_spearman_nb201 (make -B: force)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -e '.[dev,notebooks,browser,dask,course]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (zclib)" \
	    --env ZCLIB_RESULTS_DIR results/interactive >/dev/null
	$(PY) -m zclib.jupyter install --prefix $(VENV)
	touch $(STAMP)

env: $(STAMP)  ## build .venv (Python 3.11, zclib editable + [dev,notebooks,browser,dask,course], Jupyter kernel "zclib", strip-on-save hook)

data: $(STAMP)  ## report which images and benchmark tables are found, and where
	$(PY) -m zclib data

lint: $(STAMP)  ## ruff check + format check (zclib, tests, results/checks, notebooks, course)
	$(RUFF) check $(LINTED)
	$(RUFF) format --check $(LINTED)

format: $(STAMP)  ## apply the formatter (ruff format)
	$(RUFF) format $(LINTED)

test: lint  ## lint, then the fast test tier (CPU, minutes), incl. notebook smoke runs
	$(PY) -m pytest -q

test-slow: $(STAMP)  ## slow tier: every notebook at its default size vs its committed numbers, workers, real JPEG decode
	$(PY) -m pytest -q -m slow

smoke: $(STAMP)  ## run every notebook at a tiny size into results/smoke/
	$(PY) -m zclib notebooks --smoke --results-dir results/smoke

reproduce: $(addprefix $(DONE)/,$(NOTEBOOKS))  ## run every notebook that changed at its default size; outputs under results/

$(NOTEBOOKS): %: $(DONE)/%

# slow: on a clean checkout every committed result must come back byte-identical
# (wall-clock rows live in git-ignored timings.json files; executed notebooks too)
check-reproduce: reproduce  ## slow: make reproduce, then fail if it changed any committed file under results/
	git diff --exit-code --stat -- results ':!**/timings.json'
	@test -z "$$(git status --porcelain -- results)" || \
	    { git status --porcelain -- results; echo "untracked results (see above)"; exit 1; }

$(DONE)/%: notebooks/%.ipynb $(SRC) $(STAMP)
	$(PY) -m zclib notebooks --only $*
	@mkdir -p $(DONE) && touch $@

# the extra inputs of each notebook
$(DONE)/01_table_spearman_nb201 $(DONE)/02_zico_vs_params $(DONE)/03_naswot_correlation: $(SCORES)
$(DONE)/04_search_course_project $(DONE)/05_search_baselines_time_budget \
$(DONE)/06_search_zero_cost_speedup: $(SCORES) $(SPEED)
$(DONE)/07_econas_reduced_training: $(SCORES) $(TRAIN)
$(DONE)/99_summary: $(NUMBERS)

# -- the static report (results/report/, git-ignored) and the real-browser checks.
# REPORT_FROM=results/smoke builds it from `make smoke` (tiny sizes, flagged on every page).
REPORT_FROM ?= results

report: $(STAMP)  ## static HTML site of the executed notebooks -> results/report/; results/README.md
	$(PY) -m zclib report --results-dir $(REPORT_FROM)
	$(if $(filter results,$(REPORT_FROM)),$(PY) -m zclib report --readme)

chromium:  ## install Debian's chromium when it is missing (the browser checks drive it)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

check-report: $(STAMP) chromium  ## load every report page in headless Chromium; screenshots -> results/report/screenshots/
	$(PY) -m zclib.browser check results/report

test-browser: $(STAMP) chromium  ## the browser checks: report pages in Chromium, a notebook run in JupyterLab
	$(PY) -m pytest -q -m browser

lab: $(STAMP)  ## JupyterLab on 127.0.0.1, opened at notebooks/ (kernel zclib; saving strips outputs)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=. \
	    --LabApp.default_url=/lab/tree/notebooks

bench: $(STAMP)  ## speed benchmark, CPU defaults: naive/fused/packed/reference s per arch, FLOP/s vs peak -> results/bench/
	$(PY) -m zclib speed --device cpu --out results/bench/cpu_cifar10_b64.json

.PHONY: bench-backends
bench-backends: $(STAMP)  ## scoring throughput, 2 Dask workers vs the 2-process pool, same cells (idle machine) -> results/bench/
	$(PY) -m zclib speed-backends --n 40 --chunk-size 4 --workers 2 --out results/bench/backends_cpu_cifar10.json

bench-train: $(STAMP)  ## training speed, CPU: packed vs one-at-a-time, r8c4/r8c8/r16c4/r16c8 -> results/bench/train_cpu.json
	$(PY) -m zclib.train.bench --out results/bench/train_cpu.json

verify-scores: $(STAMP)  ## recompute a sample of the shipped scores on CPU and compare
	$(PY) -m zclib verify-scores --n 20

# -- the clean fp32 full-space tables in one prepared GPU run (docs/gpu.md).
# gpu-fullspace runs on a device machine's own python3 (no .venv travels there):
# PYTHONPATH=., torch/numpy/pandas/pyarrow only, batches pre-drawn by gpu-prepare.
GPU_PY       ?= python3
# seconds after which the run starts no more chunks (under the call's time limit)
GPU_DEADLINE ?= 500
# scorer processes: building the networks on the CPU is the bottleneck of one
GPU_WORKERS  ?= 6
# more options of `python -m zclib.fullspace run`, e.g. --datasets cifar100 --pack 64
GPU_ARGS     ?=
# the folder a device run's files came back to (gpu-merge: required)
FROM         ?=

# issue 17 on a device (docs/econas_plan.md): the EcoNAS runs, packed; no new
# group after GPU_TRAIN_HOURS (a group in flight finishes: keep it under the limit)
GPU_ECONAS_PLAN ?= econas-r8c4e40s20=1000
GPU_TRAIN_PACK  ?= 128
GPU_TRAIN_HOURS ?= 0.1

gpu-prepare: $(STAMP)  ## draw the GPU run's batches and copy the CIFAR-10 images it trains on into data/gpu/ (here)
	$(PY) -m zclib.fullspace prepare
	$(PY) -m zclib.train --prepare data/gpu

gpu-fullspace:  ## on a device: every proxy, 15,625 cells x 3 datasets, fp32, resumable; archives into $OUT
	PYTHONPATH=. PYTHONUNBUFFERED=1 $(GPU_PY) -m zclib.fullspace run --device cuda \
	    --deadline $(GPU_DEADLINE) --workers $(GPU_WORKERS) $(if $(OUT),--bundle $(OUT)) \
	    $(GPU_ARGS)

cpu-fullspace: $(STAMP)  ## the same jobs on CPU (hours; background, resumable): every dataset's first 1,000 cells (the notebooks' sample, seed 0 of the seed spread) and 3,000 of fisher_fs (notebook 01's FISHER_N), then everything, then the merged tables
	$(PY) -m zclib.fullspace run --device cpu --workers 2 --only all,suite --first 1000
	$(PY) -m zclib.fullspace run --device cpu --workers 2 --only fisher_foresight --first 3000
	$(PY) -m zclib.fullspace run --device cpu --workers 2
	$(PY) -m zclib.fullspace merge

# issue 17's plan (docs/econas_plan.md): setting=cells,... (prefixes of space.sample(n, 0))
ECONAS_PLAN ?= econas-r8c4e40s20=312
# the issue's limit: 20 CPU-hours of training (the runs' cpu_seconds)
ECONAS_BUDGET ?= 20
cpu-econas: $(STAMP)  ## issue 17's EcoNAS job on CPU after cpu-fullspace (hours; background, resumable): the reference recipe, 2 processes, within ECONAS_BUDGET CPU-hours
	$(PY) -m zclib train-job --plan $(ECONAS_PLAN) --workers 2 --threads 1 \
	    --budget-cpu-hours $(ECONAS_BUDGET)

spread: $(STAMP)  ## the seed spread of notebooks 01/02 (CPU, ~1 h per dataset, resumable): seed 0 from the full-space job's first 1,000 cells, then seeds 1, 2 and a second batch draw
	$(PY) -m zclib.fullspace run --device cpu --workers 2 --only all --first 1000
	for ds in cifar10 cifar100 ImageNet16-120; do \
	    $(PY) -m zclib.exhibits.score_spread seeds --dataset $$ds --n 1000 --workers 2 || exit 1; \
	done

gpu-econas:  ## on a device: issue 17's EcoNAS runs, GPU_TRAIN_PACK cells per network, resumable; archives into $OUT
	PYTHONPATH=. PYTHONUNBUFFERED=1 ZCLIB_DATA=data/gpu $(GPU_PY) -m zclib.train --device cuda \
	    --plan $(GPU_ECONAS_PLAN) --pack $(GPU_TRAIN_PACK) --block $(GPU_TRAIN_PACK) \
	    --hours $(GPU_TRAIN_HOURS) $(if $(OUT),--bundle $(OUT))

gpu-econas-merge: $(STAMP)  ## add the runs a device run returned (FROM=folder), write results/train/econas_ref_cifar10 tables
	$(if $(FROM),,$(error give FROM=<the folder the device run's files came back to>))
	$(PY) -m zclib train-job --unpack $(FROM)

gpu-merge: $(STAMP)  ## add the chunks a device run returned (FROM=folder), write results/scores/fp32 tables
	$(if $(FROM),,$(error give FROM=<the folder the device run's files came back to>))
	$(PY) -m zclib.fullspace unpack $(FROM)
	$(PY) -m zclib.fullspace merge

clean-env:  ## remove .venv
	rm -rf $(VENV)

# -- the course kit (issue 18; course/README.md): otter-grader, no Docker, no server.
# the folder of submissions, one sub-folder per student (grade: required)
SUBMISSIONS ?=
# where grades.csv, max_points.csv and feedback/ go
GRADES      ?= course/grades
# notebooks graded at once (each an otter run process with its own kernel)
GRADE_JOBS  ?= 2
# more options of `python -m zclib.course build`, e.g. --smoke or --only 03_search
COURSE_ARGS ?=

course: $(STAMP)  ## otter assign every course master -> course/release/{student,autograder}/ (zips renamed, fixed timestamps)
	$(PY) -m zclib.course build $(COURSE_ARGS)

grade: $(STAMP)  ## grade SUBMISSIONS=dir (a folder per student) with otter run -> course/grades/ (GRADES=): grades.csv, feedback/
	$(if $(SUBMISSIONS),,$(error give SUBMISSIONS=<folder with one sub-folder per student>))
	$(PY) -m zclib.course grade $(SUBMISSIONS) --out $(GRADES) --jobs $(GRADE_JOBS)
