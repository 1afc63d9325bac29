# Two commands: `make run` and `make test`. Both create .venv and install on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint demo clean

$(STAMP): pyproject.toml constraints.txt
	@python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "需要 Python 3.11 或更高版本 (Python 3.11+ is required)."; exit 1; }
	@test -x $(PY) || python3 -m venv $(VENV) || \
	  { echo "无法创建虚拟环境：请先安装 python3-venv (apt-get install python3-venv)。"; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The worker (scheduled publication, reminders, mail digests) runs next to the web server
# and is stopped with it, however runserver ends.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py run_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy dwgk tests

clean:
	rm -rf $(VENV) dwgk.sqlite3

# The benchmark (bench/run.py, issue 6): gunicorn + wrk + locust against DATABASE_URL, results in
# bench/results/. Not part of `make test`. Needs Debian's wrk: apt-get install -y wrk.
#   make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/dwgk_city BENCH_ARGS="--duration 15"
BENCH_STAMP := $(VENV)/.bench-stamp
BENCH_ARGS ?=

$(BENCH_STAMP): $(STAMP) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

.PHONY: bench
bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null || \
	  { echo "找不到 wrk：请先安装 (apt-get install -y wrk) / wrk is missing: apt-get install -y wrk"; exit 2; }
	$(PY) -m bench.run $(BENCH_ARGS)
