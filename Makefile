# Lotsen: the two commands of the README, and the steps they are made of.
#
#   make run    build and start Lotsen on http://127.0.0.1:3000 (SQLite under ./data/)
#   make test   every test: formatting, lints, unit and database tests on SQLite and
#               PostgreSQL, the release build with its size budget, browser tests
#
# Both install whatever they need on a fresh machine (only package registries are reachable)
# and skip what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# One warm build directory outside the checkout, shared by every clone on this machine.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/lotsen/target
TOOLS_DIR := $(HOME)/.cache/lotsen/tools
export PATH := $(HOME)/.cargo/bin:$(TOOLS_DIR)/node_modules/.bin:$(PATH)

CARGO_LEPTOS_VERSION := 0.3.11
BINARYEN_VERSION := 132
# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)

BIN := $(CARGO_TARGET_DIR)/release/lotsen
# The server the browser tests run (`make build-test`).
TEST_BIN := $(CARGO_TARGET_DIR)/debug/lotsen
PKG_DIR := target/site/pkg
REPORT_DIR := target/test-report
# First load of every page (Leptos's JS and WASM, and our scripts in public/, brotli) may not
# exceed this: issue 11's budget for the heaviest patient page, a form with its autosave.
# Only the design tool's editor loads more (a split file of its own, listed by the check).
SIZE_BUDGET_KIB := 60
SCRIPTS := nav.js autosave.js
# The therapist's dashboard loads one script more (its live updates): its own budget.
STAFF_SCRIPTS := live.js
STAFF_BUDGET_KIB := 64

export LOTSEN_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres

NATIVE_PACKAGES := -p app --features app/ssr -p lotsen -p migrations

.PHONY: help run test setup setup-test build lint test-rust size-check test-e2e e2e-deps \
	toolchain cargo-leptos wasm-bindgen binaryen chromium node dev check build-test

help:
	@echo "make run   - build and start Lotsen on http://127.0.0.1:3000"
	@echo "make test  - run every test"

## The two commands ---------------------------------------------------------------------------

run: build
	@echo "Lotsen: http://127.0.0.1:3000 (Ctrl-C stops it)"
	exec "$(BIN)" serve

test: setup-test lint test-rust build-test size-check test-e2e
	@bash .ci/verify-report "$(REPORT_DIR)"

## The fast loop (CONTRIBUTING.md) ------------------------------------------------------------

# Rebuilds and restarts on every save: demo mode on SQLite at http://127.0.0.1:3000.
dev: setup
	cargo leptos watch --split

# Type-checks both sides without building or testing.
check: toolchain
	cargo check $(NATIVE_PACKAGES) --all-targets
	cargo check -p lotsen-frontend --target wasm32-unknown-unknown

## Set-up (idempotent) ------------------------------------------------------------------------

setup: toolchain cargo-leptos wasm-bindgen binaryen

setup-test: setup chromium e2e-deps

toolchain:
	@rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
	@rustc --version

cargo-leptos: toolchain
	@if [ "$$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $(CARGO_LEPTOS_VERSION)" ]; then \
		echo "Installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 10 minutes, once per machine)"; \
		cargo install --locked cargo-leptos --version $(CARGO_LEPTOS_VERSION) --features no_downloads; \
	fi

# Without --locked: the lock file shipped with wasm-bindgen-cli 0.2.130 names a webpki-roots
# release that the registry no longer serves.
wasm-bindgen: toolchain
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
		echo "Installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); \
	fi

node:
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }

# wasm-opt from npm's binaryen: Debian's is too old for current rustc output.
binaryen: node
	@if [ ! -x "$(TOOLS_DIR)/node_modules/.bin/wasm-opt" ]; then \
		mkdir -p "$(TOOLS_DIR)"; \
		npm install --prefix "$(TOOLS_DIR)" --no-audit --no-fund --silent binaryen@$(BINARYEN_VERSION); \
	fi

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

e2e-deps: node
	@if [ ! -d end2end/node_modules/@playwright/test ] || [ ! -d end2end/node_modules/oidc-provider ] || [ ! -d end2end/node_modules/smtp-server ]; then \
		cd end2end && npm ci --no-audit --no-fund --silent; \
	fi

## Build --------------------------------------------------------------------------------------

build: setup
	@echo "[$$(date +%T)] make build"
	cargo leptos build --release --precompress --split

# The build the browser tests run: the release browser bundle (its own profile, wasm-release,
# so the size check measures what users download), served by the `lotsen` that `cargo test`
# builds for the server's own tests (unoptimised Lotsen crates with debug assertions on,
# optimised dependencies: see the dev profile in Cargo.toml). A fresh clone builds the server
# crates once, not twice. `make run` and `make bench` build the server at level 3, and the
# benchmarks measure that build.
build-test: setup
	@echo "[$$(date +%T)] make build-test"
	cargo leptos build --release --precompress --split --frontend-only
	cargo test --no-run $(NATIVE_PACKAGES)
	@# The server finds the bundle's hashed file names in hash.txt beside its binary.
	cp "$(CARGO_TARGET_DIR)/release/hash.txt" "$(CARGO_TARGET_DIR)/debug/hash.txt"

## Tests --------------------------------------------------------------------------------------

lint: toolchain
	@echo "[$$(date +%T)] make lint"
	cargo fmt --all --check
	cargo clippy $(NATIVE_PACKAGES) --all-targets -- -D warnings
	cargo clippy -p lotsen-frontend --target wasm32-unknown-unknown -- -D warnings

# Unit tests, and the database tests on SQLite and on PostgreSQL. The database tests mostly
# wait (on PostgreSQL, on timers, on streams): four at a time on two cores ran the web tests in
# 118 s against 156 s with two, the default, in one run on 2026-12-03.
RUST_TEST_THREADS ?= 4
test-rust: toolchain
	@echo "[$$(date +%T)] make test-rust"
	@mkdir -p $(REPORT_DIR)
	RUST_TEST_THREADS=$(RUST_TEST_THREADS) cargo test $(NATIVE_PACKAGES) 2>&1 | tee $(REPORT_DIR)/rust.log

size-check:
	@mkdir -p $(REPORT_DIR)
	@js=$$(ls $(PKG_DIR)/lotsen.*.js.br); loader=$$(ls $(PKG_DIR)/__wasm_split.*.js.br); \
	wasm=$$(ls $(PKG_DIR)/lotsen.*.wasm.br); scripts=0; \
	for script in $(SCRIPTS); do scripts=$$(( scripts + $$(stat -c %s target/site/$$script.br) )); done; \
	total=$$(( $$(stat -c %s "$$js") + $$(stat -c %s "$$loader") + $$(stat -c %s "$$wasm") + scripts )); \
	kib=$$(awk "BEGIN { printf \"%.1f\", $$total / 1024 }"); \
	echo "first load of every page, the patient's heaviest (a form) included (JS + WASM, brotli): $$kib KiB (Leptos's js $$(stat -c %s "$$js") B, split loader $$(stat -c %s "$$loader") B, wasm $$(stat -c %s "$$wasm") B, our scripts $$scripts B); budget $(SIZE_BUDGET_KIB) KiB" \
		| tee $(REPORT_DIR)/size.txt; \
	for chunk in $(PKG_DIR)/split_*.wasm.br; do \
		echo "loaded only where needed: $$(basename $$chunk | cut -d_ -f2- | sed 's/_loader.*//') $$(stat -c %s "$$chunk") B" \
			| tee -a $(REPORT_DIR)/size.txt; \
	done; \
	staff=$$total; for script in $(STAFF_SCRIPTS); do staff=$$(( staff + $$(stat -c %s target/site/$$script.br) )); done; \
	echo "first load of the therapist's dashboard (the same and $(STAFF_SCRIPTS)): $$(awk "BEGIN { printf \"%.1f\", $$staff / 1024 }") KiB; budget $(STAFF_BUDGET_KIB) KiB" \
		| tee -a $(REPORT_DIR)/size.txt; \
	if [ $$total -gt $$(( $(SIZE_BUDGET_KIB) * 1024 )) ]; then echo "size budget exceeded"; exit 1; fi; \
	if [ $$staff -gt $$(( $(STAFF_BUDGET_KIB) * 1024 )) ]; then echo "the dashboard's size budget exceeded"; exit 1; fi

# Browser tests against `make build-test`: Lotsen in demo mode and in real mode (with test
# identity providers), on free ports with fresh databases.
test-e2e: e2e-deps chromium
	@echo "[$$(date +%T)] make test-e2e"
	@mkdir -p $(REPORT_DIR)
	ports=$$(node end2end/free-ports.mjs 8); \
	data=$$(mktemp -d); \
	cd end2end && CI=1 LOTSEN_BIN="$(TEST_BIN)" LEPTOS_OUTPUT_NAME=lotsen LOTSEN_E2E_PORTS=$$ports LOTSEN_E2E_DATA=$$data \
		npx playwright test; \
	rm -rf "$$data"
	@cp end2end/test-results/results.json $(REPORT_DIR)/e2e.json

## Benchmarks ---------------------------------------------------------------------------------

.PHONY: fuzz
# The package importer under libFuzzer (nightly and cargo-fuzz; not part of `make test`).
# FUZZ_SECONDS=60 by default; prints libFuzzer's summary (executions, coverage).
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo +nightly install cargo-fuzz --locked
	mkdir -p app/fuzz/corpus/package_import
	LOTSEN_FUZZ_SEEDS=$(CURDIR)/app/fuzz/corpus/package_import \
		cargo test -q -p app --features app/ssr --test all package::export_then_import
	cd app/fuzz && CARGO_TARGET_DIR=$(CARGO_TARGET_DIR)/fuzz cargo +nightly fuzz run -s none \
		package_import -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1

.PHONY: bench
# The start page's SSR throughput as a ratio to /healthz, same server, same run; the login
# round trip against the test identity providers; then what session validation and an
# access-log write cost a request, and care under load (a patient's treatment overview, a
# draft saved, a message sent, with many patients), and a demo sandbox made while few and
# while 200 live, on SQLite and PostgreSQL; a therapist's caseload in a region's data
# (100,000 patients, 5,000,000 answers) on PostgreSQL; 1,000 live dashboards of one unit (a
# patient's submit to every dashboard's refetch, and the memory of idle streams), on both.
bench: build e2e-deps
	bash server/bench/ssr-throughput.sh "$(BIN)"
	bash server/bench/design-page.sh "$(BIN)"
	bash server/bench/login-roundtrip.sh "$(BIN)"
	cargo bench -p lotsen --bench identity
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	cargo bench -p lotsen --bench care
	cargo bench -p lotsen --bench demo
	cargo bench -p lotsen --bench caseload
	cargo bench -p lotsen --bench live
