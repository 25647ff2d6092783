# Two commands on a fresh Debian machine: `make demo` and `make test`. Each installs what is missing first.
SWIFT ?= swift
BUILD_DIR ?= .build
# postgresql: the real PostgreSQL server the fleet tests start (as an unprivileged user, on loopback).
# chromium: the browser tests' headless browser (Tests/integration/test_browser_h5.py), driven by Playwright.
APT_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev pkg-config curl openssl postgresql chromium
GATEWAY := $(BUILD_DIR)/debug/gateway
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test lint format unit-test integration-test client-test browser-test demo release bench fuzz soak clean

all: build

# apt-get only runs when a package is absent, so a prepared machine is not touched.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v node >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs >/dev/null; }
	@python3 -c "import pytest" 2>/dev/null || python3 -m pip install -q pytest
	@python3 -c "import cryptography" 2>/dev/null || python3 -m pip install -q cryptography
	@python3 -c "import websockets.asyncio.client" 2>/dev/null || python3 -m pip install -q "websockets>=14"
# docs/openapi.yaml is validated, and real answers checked against it (Tests/integration/test_openapi.py).
	@python3 -c "import yaml" 2>/dev/null || python3 -m pip install -q pyyaml
	@python3 -c "import openapi_spec_validator" 2>/dev/null || python3 -m pip install -q openapi-spec-validator
	@python3 -c "import openapi_core" 2>/dev/null || python3 -m pip install -q openapi-core
# Playwright only drives Debian's /usr/bin/chromium: never `playwright install`, no browser is downloaded.
	@python3 -c "import playwright.sync_api" 2>/dev/null || python3 -m pip install -q "playwright>=1.49"
	@python3 -c "import opentelemetry.proto.collector.trace.v1.trace_service_pb2" 2>/dev/null || python3 -m pip install -q opentelemetry-proto
	@python3 -c "import uvloop" 2>/dev/null || python3 -m pip install -q uvloop 2>/dev/null || echo "uvloop missing (optional)"

build: deps
	$(SWIFT) build

test: deps lint
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory unit-test integration-test client-test

# swift-format with the repository's .swift-format (swift-nio's style: 4 spaces, 120 columns), from the toolchain.
format:
	$(SWIFT) format -i -r -p Sources Tests Package.swift

lint:
	$(SWIFT) format lint --strict -r -p Sources Tests Package.swift Fuzz/Sources Fuzz/Package.swift
	python3 scripts/check-line-length.py Sources Tests Fuzz/Sources

# The PostgreSQL store's unit tests need a server: one is started for the run and named in
# GATEWAY_TEST_POSTGRES_URL (without it they are skipped, which `make test` never lets happen).
unit-test:
	python3 Tests/integration/postgres_server.py run -- $(SWIFT) test --skip-build

integration-test:
	GATEWAY_BIN=$(abspath $(GATEWAY)) python3 -m pytest -q Tests/integration

# The mini-program client library (clients/miniprogram), against the real gateway and simulator.
client-test:
	GATEWAY_BIN=$(abspath $(GATEWAY)) node --test clients/miniprogram/test

# The client library in headless Chromium against the real gateway (also part of integration-test).
browser-test:
	GATEWAY_BIN=$(abspath $(GATEWAY)) python3 -m pytest -q Tests/integration/test_browser_h5.py

demo: build
	$(GATEWAY) demo

release: deps
	$(SWIFT) build -c release

bench: release
	bash benchmarks/run.sh

# libFuzzer targets (Fuzz/): each runs FUZZ_SECONDS (default 60) from its committed seed corpus.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash Fuzz/run.sh

# SOAK_MINUTES (default 30) of mixed load on a release build; RSS and open files every 10 s (benchmarks/soak.sh).
SOAK_MINUTES ?= 30
soak: release
	SOAK_MINUTES=$(SOAK_MINUTES) bash benchmarks/soak.sh

clean:
	rm -rf $(BUILD_DIR)
