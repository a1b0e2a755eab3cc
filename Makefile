# orgtwin — run `make help` for the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
APT_PACKAGES := postgresql procps iproute2 ca-certificates
STAMP_DEPS := $(VENV)/.deps-stamp

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
	/^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } \
	/^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Setup

.PHONY: setup
setup: apt venv tools ## Everything a fresh machine needs: Debian packages, venv, control-plane tools.

.PHONY: apt
apt: ## Install Debian packages (Postgres server) with apt-get, if missing.
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "apt: all packages present"; fi

.PHONY: venv
venv: $(STAMP_DEPS) ## Create the virtualenv and install orgtwin with its dev dependencies.

$(STAMP_DEPS): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==25.3
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

.PHONY: tools
tools: ## Build the pinned control-plane binaries into ~/.cache/orgtwin/tools (see hack/versions.env).
	@bash hack/tools.sh >/dev/null

##@ Development

.PHONY: lint
lint: venv ## ruff, mypy --strict and the import rules.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: crds
crds: venv ## Regenerate crds/ from the pydantic models in orgtwin.core, and the Helm chart's copy.
	$(BIN)/orgtwin crds generate --out crds
	cp crds/orgtwin.dev_*.yaml charts/orgtwin/crds/

.PHONY: test
test: setup lint ## Set up everything, lint, and run every test (unit, integration, e2e).
	$(BIN)/pytest

.PHONY: cluster-up
cluster-up: venv tools ## Start a local control plane with a kwok node; prints its KUBECONFIG.
	@$(BIN)/orgtwin dev cluster-up

.PHONY: cluster-down
cluster-down: venv ## Stop the local control plane started by cluster-up.
	@$(BIN)/orgtwin dev cluster-down

##@ Demo

.PHONY: demo
demo: setup ## The whole system on 127.0.0.1: 50-person org, three scenarios, a report.
	$(BIN)/orgtwin demo run

.PHONY: demo-down
demo-down: ## Stop everything the demo started.
	@if [ -x $(BIN)/orgtwin ]; then $(BIN)/orgtwin demo down; else echo "no demo running"; fi

##@ Benchmarks

.PHONY: bench-operator
bench-operator: setup ## Operator: 1,000 users and 200 sessions vs the apiserver floor.
	$(PY) bench/operator/run.py

.PHONY: bench-api
bench-api: setup ## API: keyed task posts vs /healthz, and a 1,000-user CSV import.
	$(PY) bench/api/run.py

.PHONY: bench-proxy
bench-proxy: setup ## Proxy: added latency, streaming overhead, engine throughput, Presidio ratio.
	$(BIN)/pip install -q -e '.[bench]'
	$(PY) bench/proxy/run.py

.PHONY: bench
bench: bench-operator bench-api bench-proxy ## All benchmarks.
