# chat-server: `make run` to chat, `make test` to check everything.
CARGO ?= cargo

.PHONY: run build test lint unit test-browser bench screenshot clean install uninstall

## Build in release mode and start both servers (page :8080, chat :12345).
run:
	$(CARGO) run --release -- $(ARGS)

build:
	$(CARGO) build --release

## Everything CI checks: formatting, lints, unit and end-to-end tests, and
## the browser test when Chromium is installed.
test: lint unit
	@if command -v chromium >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory test-browser; \
	else \
		echo "browser test skipped: chromium not found (make test-browser installs it)"; \
	fi

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test

# Install Chromium (Debian package) when missing and we are root; else say how.
NEED_CHROMIUM = command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium not found: install it with 'sudo apt-get install chromium'"; exit 1; fi; }

## The page in headless Chromium (installs chromium with apt-get when root).
## Screenshots go to target/browser/.
test-browser:
	@$(NEED_CHROMIUM)
	$(CARGO) test --test browser -- --include-ignored --nocapture

## Re-make docs/screenshot.png and docs/screenshot-phone.png (the browser
## test, writing its screenshots into docs/).
screenshot:
	@$(NEED_CHROMIUM)
	CHAT_SCREENSHOT_DIR=docs $(CARGO) test --test browser -- --include-ignored --nocapture

## Throughput, latency, memory and capacity figures (see README, Performance).
bench:
	$(CARGO) bench --bench load

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
