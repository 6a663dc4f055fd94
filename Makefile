# Vigie: the two set-up commands are `make demo` (runs the whole pipeline) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
LS_VENV := .venv-ls
LS_VERSION := 1.23.2
export PYTHONDONTWRITEBYTECODE := 1

LOCK := requirements.lock
TOOLS := .venv-tools
UV_VERSION := 0.13.9
TRACKEVAL := trackeval==1.3.0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-labelstudio install-chromium lock demo test lint format bench clean

install: $(VENV)/.installed ## the project and every extra, at the versions of requirements.lock

$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	# An environment from before the rename and the one-OpenCV fix: drop the old `vigie`
	# distribution, plain ultralytics and opencv-python (and the headless build whose cv2/ files
	# opencv-python overwrote); the install below lays the lock's single OpenCV anew.
	for p in vigie ultralytics opencv-python; do \
	  if $(VPY) -m pip show -q $$p >/dev/null 2>&1; then \
	    $(VPY) -m pip uninstall -q -y $$p $$( [ $$p = opencv-python ] && echo opencv-python-headless ); \
	  fi; \
	done
	$(VPY) -m pip install -q -c $(LOCK) -e '.[all]' 2>&1 | grep -v '^WARNING: Location'; test $${PIPESTATUS[0]} -eq 0
	# TrackEval (HOTA for eval-track): its metadata wants numpy>=2.3, which label-studio-sdk
	# refuses; the metric code runs on the locked numpy, so install it without its requirements.
	$(VPY) -m pip install -q --no-deps $(TRACKEVAL) 2>&1 | grep -v '^WARNING: Location'; test $${PIPESTATUS[0]} -eq 0
	touch $@

lock: ## regenerate requirements.lock from pyproject.toml (keeps locked versions; UPGRADE=1 takes the newest allowed)
	test -x $(TOOLS)/bin/uv || { $(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/python -m pip install -q uv==$(UV_VERSION); }
	$(TOOLS)/bin/uv pip compile pyproject.toml --extra all --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock' \
	  $(if $(UPGRADE),--upgrade) -o $(LOCK)

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
