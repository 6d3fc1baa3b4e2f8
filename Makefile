# helmet-build — developer entry points. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
SERVICES := scripts/services.sh
# Point DOCKER_HOST and the test registries at the local services.
WITH_SERVICES := eval "$$(bash $(SERVICES) env)" &&
# Every folder components/<name>/ with a component.yaml is a target: `make train` rebuilds train.
# Names that are targets of their own below are left out (build them with `make all`).
RESERVED := setup deps services build schemas demo test test-unit test-modern-engine lint format test-python bench bench-guard stop clean help all push run submit
COMPONENTS := $(filter-out $(RESERVED),$(sort $(notdir $(patsubst %/component.yaml,%,$(wildcard components/*/component.yaml)))))
HELMET := node bin/helmet-build.js
# REPO=<registry/prefix> pushes and pins digests; BUILD_FLAGS and RUN_FLAGS pass anything else.
PUSH_FLAG = $(if $(REPO),--push $(REPO))

.PHONY: $(RESERVED) $(COMPONENTS)

help:
	@echo "make setup            install deps, start the local engine and registry, compile"
	@echo "make all              build every component ($(if $(REPO),push to $(REPO),REPO=<registry/prefix> to push))"
	@echo "make <component>      rebuild one component: $(COMPONENTS)"
	@echo "make push REPO=...    build and push every component, write dist/ and the pipeline spec"
	@echo "make run              run pipeline.yaml on the local engine (RUN_FLAGS=...)"
	@echo "make submit           upload dist/ to a KFP cluster and start a run (KF_PIPELINES_ENDPOINT, SUBMIT_FLAGS=...)"
	@echo "make demo             the helmet pipeline end to end here: data, build, push, train on the CPU, metrics"
	@echo "make test             lint, every test on the Debian 12 engine, the integration tests on Docker 26.1, the speed guard"
	@echo "make test-unit        the unit tests alone: no engine, no registry"
	@echo "make test-modern-engine   the integration tests on Docker 26.1 alone"
	@echo "make bench-guard      the fast path beside node -e 0; fails past twice a goal (part of make test)"
	@echo "make lint | format | bench | schemas | stop | clean"

$(COMPONENTS): setup
	$(WITH_SERVICES) $(HELMET) build $@ $(PUSH_FLAG) $(BUILD_FLAGS)

all: setup
	$(WITH_SERVICES) $(HELMET) all $(PUSH_FLAG) $(BUILD_FLAGS)

push: setup
	@test -n "$(REPO)" || { echo "make push needs REPO=<registry/prefix>, e.g. make push REPO=localhost:5000/helmet" >&2; exit 2; }
	$(WITH_SERVICES) $(HELMET) all --push $(REPO) $(BUILD_FLAGS)

run: setup
	$(WITH_SERVICES) $(HELMET) run $(PUSH_FLAG) $(RUN_FLAGS)

# The spec in dist/ to the KFP cluster KF_PIPELINES_ENDPOINT (or SUBMIT_FLAGS='--host URL') names; no engine needed.
submit: build
	$(HELMET) submit $(SUBMIT_FLAGS)

# The first target is the default: `make` alone lists the others.
.DEFAULT_GOAL := help

setup: deps services build

deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

services:
	bash $(SERVICES) up --containerd >/dev/null

build: deps
	npm run build

# Regenerate schema/*.json (editor schemas) from the zod schemas.
schemas: build
	node scripts/generate-schemas.mjs

# The helmet pipeline end to end, offline: data drawn and served on loopback, the four images built
# and pushed, the pipeline run on Docker 26.1 (a detector trained on the CPU), its metrics printed.
demo: setup
	bash scripts/demo.sh

# The suite drives the bundle that bin/helmet-build.js runs (built by setup), as users run it:
# all of it on the Debian 12 engine (dockerd 20.10), then the integration tests on Docker 26.1;
# last, the speed guard.
test: setup lint
	$(WITH_SERVICES) HELMET_TEST_BUNDLE=1 npx vitest run
	@$(MODERN_ENGINE_TESTS)
	$(MAKE) test-python
	$(WITH_SERVICES) node bench/guard.mjs

# Tests that name their engines themselves (Docker 26.1, and both engines): the Docker 26.1 pass would only repeat them.
ENGINES_NAMED_TESTS = test/integration/multi-platform.test.ts test/integration/helmet-pipeline.test.ts
# The integration tests on Docker 26.1, which services.sh runs from a Debian 13 root beside the
# Debian 12 engine (the unit tests touch no engine). HELMET_SKIP_MODERN_ENGINE=1 leaves both out.
MODERN_ENGINE_TESTS = if [ -n "$${HELMET_SKIP_MODERN_ENGINE:-}" ]; then \
	  echo "integration tests on Docker 26.1: skipped (HELMET_SKIP_MODERN_ENGINE is set)"; \
	else \
	  $(WITH_SERVICES) test -n "$${HELMET_MODERN_DOCKER_HOST:-}" \
	    || { echo "Docker 26.1 is not running: bash $(SERVICES) up" >&2; exit 1; }; \
	  echo "integration tests on Docker 26.1 ($$HELMET_MODERN_DOCKER_HOST)"; \
	  DOCKER_HOST="$$HELMET_MODERN_DOCKER_HOST" HELMET_TEST_BUNDLE=1 npx vitest run test/integration $(addprefix --exclude ,$(ENGINES_NAMED_TESTS)); \
	fi

test-unit: deps
	npx vitest run test/unit

test-modern-engine: setup
	@$(MODERN_ENGINE_TESTS)

# Formatting and lint rules (biome.json); `make format` applies the fixes.
lint: deps
	npx biome check .
	node scripts/check-lengths.mjs
	node scripts/check-exports.mjs

format: deps
	npx biome check --write .

# Each component folder is its own test root (folder names such as rknn-convert are not packages).
# Here the tests that need torch, onnx or onnxruntime skip; the integration tests run them all in
# the PyTorch base, where none may skip. The data set script draws with Pillow (Debian's python3-pil).
test-python:
	for dir in components/*/; do python3 -m unittest discover -s "$$dir" -p 'test_*.py'; done
	/usr/bin/python3 -m unittest discover -s scripts -p 'test_*.py'

# Figures beside baselines measured in the same run: on the Debian 12 engine (dockerd 20.10, vfs),
# then helmet-build beside `docker buildx bake` on Docker 26.1 (skipped with HELMET_SKIP_MODERN_ENGINE),
# for the engine's platform and for two (on the containerd image store);
# last, a 300 MB context rebuilt after a one-line change, through FileSync and as a tar body.
bench: setup
	$(WITH_SERVICES) node bench/guard.mjs
	$(WITH_SERVICES) node bench/fast-path.mjs
	$(WITH_SERVICES) node bench/run.mjs
	$(WITH_SERVICES) node bench/bake.mjs
	$(WITH_SERVICES) node bench/bake-platforms.mjs
	$(WITH_SERVICES) node bench/context-rebuild.mjs

# The no-op and a 50-component plan beside node -e 0 (medians, in turn): fails when a ratio passes
# twice its goal, so a start-up or registry-path regression cannot land unseen.
bench-guard: setup
	$(WITH_SERVICES) node bench/guard.mjs

stop:
	bash $(SERVICES) down

clean:
	rm -rf lib dist
