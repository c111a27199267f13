# Two commands do all the set-up on a fresh machine with Python 3.10+ and make:
#   make run   - step through the coalition-formation map with a group
#   make test  - run the whole test suite
#   make live  - serve the coalition map as a live room (members vote from their phones)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run live test lint bench bench-live bench-live-load schema diagnostics clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,live]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/decision-map step maps/coalition-formation.yaml $(ARGS)

LIVE_GROUP ?= Rosa, Malik, Priya, Tom, Dolores
live: $(STAMP)
	$(BIN)/decision-map serve maps/coalition-formation.yaml --group "$(LIVE_GROUP)" $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# The load test twice: saturated (every room as fast as it can: throughput) and at a
# meeting's pace (a question about every LOAD_PACE seconds a room: latency as people see it).
# Issue 15's configuration: one PostgreSQL (Debian's, started for the run) and two workers;
# each run's figures are kept in bench/load_saturated.json and bench/load_paced.json.
LOAD_PACE ?= 30
LOAD_ARGS ?= --temp-postgres --workers 2
bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)
	$(BIN)/python -m bench.live
	$(BIN)/python -m bench.preview
	$(BIN)/python -m bench.live_load $(LOAD_ARGS) --json bench/load_saturated.json
	$(BIN)/python -m bench.live_load $(LOAD_ARGS) --pace $(LOAD_PACE) --json bench/load_paced.json

bench-live: $(STAMP)
	$(BIN)/python -m bench.live $(ARGS)

# The load test: 50 rooms x 15 members + facilitator and projector (850 event streams), five
# questions each, on LOAD_ARGS (default: a temporary PostgreSQL and two workers; or
# "--database postgresql://... --workers 2"); "--clients N" spreads the browsers over N processes;
# "--pace 30" walks each room at a meeting's pace (a question every ~30 s) instead of flat out.
bench-live-load: $(STAMP)
	$(BIN)/python -m bench.live_load $(LOAD_ARGS)

schema: $(STAMP)
	$(BIN)/python -c 'import json; from decision_map.io.schema import map_schema; \
	print(json.dumps(map_schema(), indent=2, ensure_ascii=False))' \
	> decision_map/io/decision-map.schema.json

diagnostics: $(STAMP)
	$(BIN)/python -m decision_map.check.docs docs/diagnostics.md

clean:
	rm -rf $(VENV) build *.egg-info
