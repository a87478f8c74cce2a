# The project's vocabulary: make run | test | lint | format | bench | demo (DESIGN.md, "Running").
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Installed once, again whenever pyproject.toml changes (or the venv is gone).
STAMP := $(VENV)/.installed
RUN_ADDR ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: install run test lint format bench demo

install: $(STAMP)

# pip's "Location '...' is ignored" lines are about a find-links folder missing on this
# machine, not about the install; everything else pip says stays visible.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | { grep -v "Location '.*' is ignored" || true; }
	touch $@

run: $(STAMP)
	$(PY) -m integration_hub.envfile
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo --base-url http://$(RUN_ADDR)
	$(PY) manage.py schedules
	@exec bash -c "$$run_web_and_cluster"

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	for script in bench/[!_]*.py; do echo "== $$script"; $(PY) "$$script"; done

demo: $(STAMP)
	$(PY) -m integration_hub.envfile
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo --base-url http://$(RUN_ADDR)

# The web server and a django-q2 cluster, each in its own process group. Ctrl-C (SIGINT to
# the terminal's group), SIGTERM to make (which passes it on to this shell) or either one
# exiting stops both: SIGTERM to each, then SIGKILL to what is left of a group after 20 s,
# so that no qcluster worker outlives `make run`.
define run_web_and_cluster
set -uo pipefail
setsid $(PY) manage.py qcluster & cluster=$$!
setsid $(PY) manage.py runserver $(RUN_ADDR) & web=$$!
stop() {
  trap - INT TERM HUP
  kill -TERM "$$cluster" 2>/dev/null
  kill -TERM -- "-$$web" 2>/dev/null
  for _ in $$(seq 200); do
    kill -0 -- "-$$cluster" 2>/dev/null || kill -0 -- "-$$web" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$$cluster" "-$$web" 2>/dev/null
  wait
  echo "Stopped the web server and the task cluster."
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM HUP
echo "Web server on http://$(RUN_ADDR)/ and a task cluster are running; Ctrl-C stops both."
wait -n
status=$$?
stop
exit "$$status"
endef
export run_web_and_cluster
