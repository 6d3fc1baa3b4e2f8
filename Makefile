# helmet-build — developer entry points. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
SERVICES := scripts/services.sh
# Point DOCKER_HOST and the test registries at the local services.
WITH_SERVICES := eval "$$(bash $(SERVICES) env)" &&
DEMO_REPO ?= $${HELMET_TEST_REGISTRY}/helmet
# Offline here: build every image from the local Python base; train and rknn-convert are built
# without their frameworks (labelled so, and their entrypoints say so). Override for real builds.
DEMO_FLAGS ?= --build-arg BASE_IMAGE=helmet/python:3.11 \
	--build-arg train:ABSENT_FRAMEWORKS=ultralytics,torch \
	--build-arg rknn-convert:ABSENT_FRAMEWORKS=rknn-toolkit2

.PHONY: setup deps services build schemas demo test lint format test-python bench stop clean

setup: deps services build

deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

services:
	bash $(SERVICES) up >/dev/null

build: deps
	npx tsc -p tsconfig.json

# Regenerate schema/*.json (editor schemas) from the zod schemas.
schemas: build
	node scripts/generate-schemas.mjs

# Build and push every component to the local registry, then show a pinned spec.
demo: setup
	$(WITH_SERVICES) node bin/helmet-build.js all --push "$(DEMO_REPO)" $(DEMO_FLAGS)
	@echo; echo "--- dist/components/ingest/component.yaml"; cat dist/components/ingest/component.yaml

test: setup lint
	$(WITH_SERVICES) npx vitest run
	$(MAKE) test-python

# Formatting and lint rules (biome.json); `make format` applies the fixes.
lint: deps
	npx biome check .

format: deps
	npx biome check --write .

# Each component folder is its own test root (folder names such as rknn-convert are not packages).
test-python:
	for dir in components/*/; do python3 -m unittest discover -s "$$dir" -p 'test_*.py'; done

bench: setup
	$(WITH_SERVICES) node bench/run.mjs

stop:
	bash $(SERVICES) down

clean:
	rm -rf lib dist
