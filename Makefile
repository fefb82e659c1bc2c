# The two commands a new user needs: `make run` and `make test`.
PYTHON := $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test screenshots venv lock check bench soak production

$(STAMP): requirements.lock
	@test -n "$(PYTHON)" || (echo "No Python >= 3.12 found." >&2; exit 1)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@touch $(STAMP)

venv: $(STAMP)

# Debug is off unless asked for; the demo asks, for every command it runs (migrate,
# demo_setup, the worker and the server). The harnesses' own processes ask too: the servers
# they start get production settings of their own.
run check bench soak: export DJANGO_DEBUG ?= true
# Every process of the demo (the web server and both workers) reaches the sandbox on this port.
run: export LAYERS_SANDBOX_PORT = $(PORT)

run: venv
	@$(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(BIN)/python manage.py demo_setup --port $(PORT)
	@echo ""
	@echo "  Layers Partner Dashboard: http://$(HOST):$(PORT)/"
	@echo "  Demo login: demo / demo-password (admin on every demo project)"
	@echo "  Sandbox Layers API: http://$(HOST):$(PORT)/sandbox/v1/"
	@echo "  Demo partner portal (embeds the dashboard): http://localhost:$(PORT)/demo-portal/"
	@echo ""
	@# Two background workers run beside the web server and stop with it: one for bulk decisions and
	@# webhook events, one for the mirror's sync engine (its own queue, so a long bulk decision never
	@# delays a sync tick). Bulk decisions a killed worker left are queued again first, and the sync's
	@# first tick is queued (each tick queues the next).
	@$(BIN)/python manage.py bulk_recover --verbosity 0
	@$(BIN)/python manage.py sync_start
	@$(BIN)/python manage.py db_worker --no-reload --interval 0.5 & worker=$$!; \
	  $(BIN)/python manage.py db_worker --no-reload --interval 0.5 --queue-name sync & syncer=$$!; \
	  trap 'kill $$worker $$syncer 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The production set on one machine, for a trial: debug off, gunicorn + the task worker,
# after check --deploy, migrate and collectstatic (README.md, "Deployment").
production: venv
	scripts/run-production

# Lint and format first (seconds), then the suite in parallel: TEST_WORKERS processes, each
# with its own test database, live server + sandbox, and (with CACHE_URL=redis://) its own
# Redis database. `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 4
# Bytecode is kept even where the environment says not to (PYTHONDONTWRITEBYTECODE): each
# worker would otherwise rewrite every test module's asserts again on every run.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest
test: venv
	@scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PYTEST) -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The browser tests again, each saving PNGs of the pages it walks under test-artifacts/ for a
# person to look at (`make test` takes none: they cost Chromium time and no test reads them).
screenshots: venv
	@scripts/ensure-chromium
	TEST_SCREENSHOTS=1 $(PYTEST) -n $(TEST_WORKERS) --dist worksteal tests/browser $(PYTEST_ARGS)

# Speed and scale (loopback only; about twenty minutes): the pages and decisions, then the
# inbox at 200 customers, then the sync engine's reads and freshness; each prints its ratios.
bench: venv
	$(BIN)/python manage.py bench
	$(BIN)/python manage.py inbox_bench
	$(BIN)/python manage.py sync_bench

# Twenty reviewers, a thousand actions, faults and double submits (loopback only; it stops by itself).
soak: venv
	$(BIN)/python manage.py soak $(SOAK_ARGS)

check: venv
	$(BIN)/python manage.py check

# Rewrites requirements.lock from pyproject.toml in a throwaway venv (exact pins, no hosts).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb')); \
	  print('\n'.join(p['project']['dependencies'] + p['dependency-groups']['test']))" > .lock-venv/wanted.txt
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -r .lock-venv/wanted.txt
	( echo "# Exact pins for every package, direct and transitive: \`make lock\` rewrites this file"; \
	  echo "# from pyproject.toml. It records no index host on purpose."; \
	  .lock-venv/bin/pip freeze ) > requirements.lock
	rm -rf .lock-venv
