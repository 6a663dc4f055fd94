# Vigie: the two set-up commands are `make demo` (runs the whole pipeline) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
LS_VENV := .venv-ls
LS_VERSION := 1.23.2
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install install-labelstudio install-chromium demo test lint format bench clean

install: $(VENV)/.installed ## the project and every extra (torch comes from the registry)

$(VENV)/.installed: pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	$(VPY) -m pip install -q -e '.[all]' 2>&1 | grep -v '^WARNING: Location'; test $${PIPESTATUS[0]} -eq 0
	# TrackEval (HOTA for eval-track): its metadata wants numpy>=2.3, which label-studio-sdk
	# refuses; the metric code runs on the pinned numpy, so install it without its requirements.
	$(VPY) -m pip install -q --no-deps trackeval==1.3.0 2>&1 | grep -v '^WARNING: Location'; test $${PIPESTATUS[0]} -eq 0
	touch $@

install-labelstudio: $(LS_VENV)/.installed ## a real Label Studio server, in its own environment

$(LS_VENV)/.installed:
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install -q label-studio==$(LS_VERSION) 2>&1 | grep -v '^WARNING: Location'; test $${PIPESTATUS[0]} -eq 0
	touch $@

install-chromium: ## Debian's chromium for the report test (apt-get when root, else a message)
	scripts/install-chromium.sh

demo: install ## run every stage on generated data, offline, into ./demo-workspace
	$(VENV)/bin/vigie demo --out demo-workspace

test: install install-labelstudio install-chromium ## bring up MariaDB and Label Studio, run the tests, tear down
	$(VPY) scripts/services.py up
	set +e; $(VPY) -m pytest $(PYTEST_ARGS); status=$$?; $(VPY) scripts/services.py down; exit $$status

lint: install ## ruff, ruff format --check, mypy
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix src tests benchmarks scripts
	$(VENV)/bin/ruff format src tests benchmarks scripts

bench: install ## every stage's benchmark (baseline vs vigie, same run)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(VPY) $$b || exit 1; done

clean:
	rm -rf demo-workspace .pytest_cache .mypy_cache .ruff_cache .test-services
