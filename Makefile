# Huizong — two commands on a fresh machine:
#   make demo   set everything up and run the nightly roll-up on the demo day (SQLite)
#   make test   run the whole test suite (unit, DAG integrity, end to end; SQLite and PostgreSQL)

SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
ROOT := $(abspath .)
VENV := $(ROOT)/.venv
TOOLS := $(ROOT)/.tools
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
DEMO_DAY ?= 2020-01-28

export HUIZONG_HOME ?= $(ROOT)/var
export AIRFLOW_HOME ?= $(HUIZONG_HOME)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(ROOT)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(ROOT)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM ?= 4
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True
export AIRFLOW__LOGGING__LOGGING_LEVEL ?= WARNING
export GX_ANALYTICS_ENABLED := false

.PHONY: install demo test lint format bench clean airflow-db browser imap compose-tool office redis \
	docker-requirements docker-env bless-digest bench-national

# Debian's Chromium and a CJK font for the stewards' browser test (Playwright drives it;
# it cannot download its own browser here).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing chromium and fonts-wqy-zenhei from Debian"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
		else \
			echo "browser test needs: sudo apt-get install chromium fonts-wqy-zenhei"; \
		fi; \
	fi

# LibreOffice (headless) and poppler for the workbook rendering test: a page of a printed
# workbook becomes a PNG in test-artifacts/ for a person to look at.
office:
	@if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing libreoffice-calc-nogui, poppler-utils, fonts-wqy-zenhei from Debian"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui poppler-utils fonts-wqy-zenhei >/dev/null; \
		else \
			echo "workbook render test needs: sudo apt-get install libreoffice-calc-nogui poppler-utils fonts-wqy-zenhei"; \
		fi; \
	fi

# Debian's dovecot for the mailbox tests: they start their own server from a config in a
# temp folder on a free loopback port (the package's own service is not used).
imap:
	@if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing dovecot-imapd from Debian"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
		else \
			echo "mailbox tests need: sudo apt-get install dovecot-imapd"; \
		fi; \
	fi

# Debian's Redis, the Celery broker of the multi-worker deployment test (.ci/run starts it
# on 127.0.0.1:6379 when it is down; the test uses a database number and queue of its own).
redis:
	@if ! command -v redis-server >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing redis-server from Debian"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
		else \
			echo "celery worker test needs: sudo apt-get install redis-server"; \
		fi; \
	fi

install: $(VENV)/.installed

# uv comes from PyPI at a pinned version into .tools; everything else from uv.lock.
# --compile-bytecode: the .pyc files are written once, at install. Where the environment
# sets PYTHONDONTWRITEBYTECODE (this machine and its CI do) Python would otherwise compile
# Airflow's, GX's and pandas' modules again in every process: ~5 s of CPU per task.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python $(PYTHON) --quiet --compile-bytecode
	touch $@

airflow-db: install
	@mkdir -p $(AIRFLOW_HOME) && chmod 0700 $(AIRFLOW_HOME)  # metadata DB, secrets, sessions
	@if [ -f $(AIRFLOW_HOME)/airflow.db ]; then chmod 0600 $(AIRFLOW_HOME)/airflow.db; fi
	umask 077 && $(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1)

demo: install airflow-db
	$(BIN)/huizong demo-data --date $(DEMO_DAY)
	$(BIN)/airflow dags test huizong_nightly -c '{"day": "$(DEMO_DAY)"}' > $(HUIZONG_HOME)/demo-dag-run.log 2>&1 \
		|| (tail -n 60 $(HUIZONG_HOME)/demo-dag-run.log; exit 1)
	@# the night's docs_due event starts huizong_data_docs on a scheduler; dags test has none
	$(BIN)/airflow dags test huizong_data_docs -c '{"day": "$(DEMO_DAY)"}' >> $(HUIZONG_HOME)/demo-dag-run.log 2>&1 \
		|| (tail -n 60 $(HUIZONG_HOME)/demo-dag-run.log; exit 1)
	@$(BIN)/python -m huizong.report --date $(DEMO_DAY)

# Debian's docker-compose (1.29) validates docker-compose.yaml offline; no engine needed.
compose-tool:
	@if ! command -v docker-compose >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing docker-compose from Debian"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; \
		else \
			echo "compose check needs: sudo apt-get install docker-compose"; \
		fi; \
	fi

# The image's pinned versions, exported from uv.lock (docker/Dockerfile installs them).
docker-requirements: $(UV)
	$(UV) export --quiet --frozen --no-dev --no-hashes --no-emit-project -o docker/requirements.txt

# The .env docker-compose.yaml takes its secrets from; never overwrites an existing one.
docker-env: install
	$(BIN)/python docker/write_env.py .env

test: install browser imap compose-tool office redis
	$(BIN)/ruff check src tests dags plugins bench docker
	$(BIN)/ruff format --check src tests dags plugins bench docker
	HUIZONG_TEST_ARTEFACTS=$${HUIZONG_TEST_ARTEFACTS:-$(ROOT)/test-artifacts} $(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests dags plugins bench

format: install
	$(BIN)/ruff format src tests dags plugins bench
	$(BIN)/ruff check --fix src tests dags plugins bench

# Re-record the demo day's published-table digest after an intended change of outputs.
bless-digest: install
	HUIZONG_BLESS_DIGEST=1 $(BIN)/pytest -q tests/integration/test_demo_digest.py

bench: install
	$(BIN)/python bench/run.py

# Every step at city, province and nation size against its floor, in one table. Generates
# the days once into var/bench-cache (nation: ~6 min; needs ../shared/data/divisions,
# skipped with a message without it); a full run takes 15-40 min on 2 shared cores.
bench-national: install
	$(BIN)/python bench/bench_national.py $(if $(SIZES),--sizes $(SIZES))

clean:
	rm -rf var .pytest_cache .ruff_cache
