# The two commands a new user runs (README): `make demo` and `make test`.
# Both install what they need themselves (scripts/bootstrap.sh: Debian packages + .venv).

VENV   := .venv
PY     := $(VENV)/bin/python
DEMO   := demo

.PHONY: plan apply bootstrap lint fmt test test-all test-unit test-e2e test-multihost-standby test-os-upgrade demo demo-down demo-trixie bench clean-testbeds

bootstrap:
	@scripts/bootstrap.sh

## Static checks, failing on any finding: ruff (lint rules and formatting) and shellcheck on every shell script.
lint: bootstrap
	@VENV=$(VENV) scripts/lint.sh

## Rewrite the Python sources the way lint wants them: ruff format, then the fixable ruff findings.
fmt: bootstrap
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Lint, then every test tier: unit, integration (real HTTP stand-ins) and e2e (booted Debian test servers).
## Two xdist workers: the shared server's tests on one, the other test servers and unit tests beside them
## (tests/xdist_groups.py); most of an e2e test's time is waiting for a server, not CPU.
test: lint
	$(VENV)/bin/pytest -n 2 --durations=25 tests

## Everything `make test` runs, then every test of the shared server again on a Debian 13 (trixie) one (nightly).
test-all: test
	LOUIEOPS_E2E_RELEASE=trixie LOUIEOPS_E2E_SERVER=e2e-trixie $(VENV)/bin/pytest tests/e2e -m shared_server

test-unit: bootstrap
	$(VENV)/bin/pytest tests/unit tests/integration

test-e2e: bootstrap
	$(VENV)/bin/pytest -n 2 tests/e2e

## Nightly: five test servers with a hot standby; rolling releases and the promotion of the standby (runbook).
test-multihost-standby: bootstrap
	$(VENV)/bin/pytest -m nightly tests/e2e/test_multihost_standby.py

## Nightly: a Debian 12 server with the whole stack, then a five-server cluster, upgraded to Debian 13 and PostgreSQL 17 (docs/upgrades.md).
test-os-upgrade: bootstrap
	$(VENV)/bin/pytest -m nightly -x tests/e2e/test_os_upgrade.py tests/e2e/test_os_upgrade_cluster.py

## Boot the local test server with its peers and run the full deploy on it; it keeps running.
demo: bootstrap
	@scripts/demo.sh up $(DEMO)

## Stop the demo server and remove everything it started.
demo-down: bootstrap
	@scripts/demo.sh down $(DEMO)

## Same as demo, on Debian 13 (trixie).
demo-trixie: bootstrap
	@RELEASE=trixie scripts/demo.sh up $(DEMO)

## The deploy as a CI step: `make plan INVENTORY=inventory/production.py` (exit 0 nothing to do, 2 changes, 1 error).
plan: bootstrap
	$(VENV)/bin/louieops plan $(INVENTORY) --report plan.json

## Apply the deploy non-interactively (exit 0 only when every host converged).
apply: bootstrap
	$(VENV)/bin/louieops apply $(INVENTORY) --report apply.json

## Benchmarks: print tables, assert nothing.
bench: bootstrap
	$(PY) -m benchmarks

## Remove leftovers of interrupted test servers (network namespaces, links, firewall tables, processes).
clean-testbeds: bootstrap
	$(PY) -m louieops.testbed cleanup
