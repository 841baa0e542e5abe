# chat-server: `make run` to chat, `make test` to check everything.
CARGO ?= cargo

.PHONY: run build seed test lint unit test-browser bench bench-memory screenshot clean install uninstall

## Build in release mode and start both servers (page :8080, chat :12345).
run:
	$(CARGO) run --release -- $(ARGS)

build:
	$(CARGO) build --release

## The tutorial itself, translated (examples/seed.rs): page :8080, chat :12345;
## `make seed ARGS="0 0"` picks free ports (printed): use it while the
## server runs, else the seed stops at "Address already in use".
seed:
	$(CARGO) run --example seed -- $(ARGS)

# What `make test` captured from cargo test, and its exit code, for the summary.
TEST_LOG := $(or $(CARGO_TARGET_DIR),target)/make-test.log

## Everything CI checks: formatting and lints (with and without the redis
## feature), the unit tests built without the redis feature, then every
## test binary of the workspace, ignored ones included, each once: unit, end to end, the seed
## example as a child process, the browser (without chromium those pass
## without running and the summary says so, except in CI where they fail;
## `make test-browser` installs it). Ends with one line, `N passed, N failed`,
## over all of them; exit code 1 on any failure.
test:
	@mkdir -p $(dir $(TEST_LOG)); lint=0; chromium=$${CHROME:+1}; \
	for c in chromium chromium-browser google-chrome-stable google-chrome; do \
		command -v $$c >/dev/null 2>&1 && chromium=1; done; \
	$(MAKE) --no-print-directory lint || lint=1; \
	{ $(CARGO) test -p chat-server --no-default-features --lib; nd=$$?; \
		$(CARGO) test --workspace --no-fail-fast -- --include-ignored; rc=$$?; \
		[ $$nd -eq 0 ] || rc=1; echo $$rc > $(TEST_LOG).rc; } 2>&1 | tee $(TEST_LOG); \
	awk -v rc="$$(cat $(TEST_LOG).rc)" -v lint=$$lint -v chromium=$${chromium:-0} -v ci="$$CI" \
		-f scripts/test-summary.awk $(TEST_LOG)

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p chat-server --no-default-features --all-targets -- -D warnings

unit:
	$(CARGO) test

# Install Chromium (Debian package) when missing and we are root; else say how.
NEED_CHROMIUM = command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium not found: install it with 'sudo apt-get install chromium'"; exit 1; fi; }

## The page in headless Chromium (the browser/ member; installs chromium
## with apt-get when root). Review screenshots go to target/browser/ (or
## $$CARGO_TARGET_DIR/browser/).
test-browser:
	@$(NEED_CHROMIUM)
	$(CARGO) test -p chat-server-browser -- --nocapture

## Re-make docs/screenshot.png and docs/screenshot-phone.png (the browser
## test, writing its screenshots into docs/).
screenshot:
	@$(NEED_CHROMIUM)
	CHAT_SCREENSHOT_DIR=$(CURDIR)/docs $(CARGO) test -p chat-server-browser -- --nocapture

## Throughput, latency, memory and capacity figures, ours and the peers'
## (see bench/README.md); rewrites docs/bench/ and the README's table.
bench:
	$(CARGO) build --release -p chat-server -p chat-bench
	bench/peers/setup.sh
	$(CARGO) run --release -q -p chat-bench --bin load

## Before a commit (under a minute): idle memory per client at 1,000
## clients, beside docs/bench/baseline.json; exit 2 on a memory REGRESSION
## (more than 10% worse). Writes nothing.
bench-memory:
	$(CARGO) build --release -p chat-server -p chat-bench
	BENCH_ONLY=idle BENCH_IDLE=1000 BENCH_PEERS=none BENCH_RUNS=1 BENCH_DOCS=0 \
		BENCH_FAIL_ON_REGRESSION=memory $(CARGO) run --release -q -p chat-bench --bin load

clean:
	$(CARGO) clean

# Where `make install` puts the binary: $(DESTDIR)$(PREFIX)/bin/chat-server.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
BINARY ?= $(TARGET_DIR)/release/chat-server

## Build in release mode and install the binary (PREFIX, default /usr/local;
## contrib/chat-server.service runs it as a service: README, As a service).
install: build
	install -D -m 0755 $(BINARY) $(DESTDIR)$(BINDIR)/chat-server

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/chat-server
