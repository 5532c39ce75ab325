# The two commands a new user needs: `make dev` (the whole system locally) and `make test`.
# Everything they need is installed by infra/venv.sh into gitignored virtual envs.

SHELL := /bin/bash
TOOLS_BIN := $(CURDIR)/.venv-tools/bin

.PHONY: dev test venv tools checkov chromium dashboard lint-template load-test soak load-business redrive build sam-build bench-webhook vapi-tools fuzz clean-venv help

help:
	@echo "make dev            run the whole system locally (moto + webhook on :3000 + workers)"
	@echo "make test           unit, adapter (moto) and end-to-end tests, the code's shape, and the template lint"
	@echo "make dashboard      the local stack's monitoring dashboard as HTML and a screenshot (.dev/dashboard.{html,png})"
	@echo "make build          release zips for Lambda (cargo lambda build --release --arm64)"
	@echo "make sam-build      sam build (cargo-lambda build method)"
	@echo "make lint-template  sam validate --lint and checkov"
	@echo "make load-test      5,000 webhooks at concurrency 50 through the local stack, each processed once"
	@echo "make soak           200 bookings with a tenth of every worker port call failing: each told once, DLQs empty"
	@echo "make vapi-tools     the tool definitions to paste into Vapi"
	@echo "make fuzz           fuzz the core parsers (cargo-fuzz, stable): 60 s per target; FUZZ_SECONDS=600 FUZZ_TARGETS=dates"
	@echo "make load-business FILE=...  load a business (tenant) from its file into make dev's stack"
	@echo "make redrive QUEUE=Booking   move a dead-letter queue's messages back to their queue"

venv:
	@infra/venv.sh test

tools:
	@infra/venv.sh tools

dev: venv tools
	cargo build -p callbook-dev -p callbook-aws --bins
	./target/debug/callbook-dev

test: venv tools checkov chromium
	cargo build -p callbook-dev -p callbook-aws --bins
	cargo test --workspace
	infra/check-structure.sh
	infra/lint-template.sh

lint-template: tools checkov
	infra/lint-template.sh

checkov:
	@infra/venv.sh checkov

# Debian's chromium, for the headless check of the HTML dashboard (apt-get when missing).
chromium:
	@infra/chromium.sh

# The dashboard of a running `make dev` (another terminal), rendered by headless Chromium.
DEV_PORT ?= 3000
MONITORING_TOKEN ?= local-monitoring-token
dashboard: chromium
	@mkdir -p .dev
	curl -sf -H "Authorization: Bearer $(MONITORING_TOKEN)" -H "Accept: text/html" \
		http://127.0.0.1:$(DEV_PORT)/monitoring/dashboard -o .dev/dashboard.html
	chromium --headless --disable-gpu --no-sandbox --window-size=900,1400 \
		--screenshot=.dev/dashboard.png file://$(CURDIR)/.dev/dashboard.html 2>/dev/null
	@echo "open .dev/dashboard.html in a browser, or look at .dev/dashboard.png"

# The full load test: 5,000 webhooks at concurrency 50 through the local stack, then proof
# that every accepted job was processed exactly once (make test runs 300 at 10).
load-test: venv tools checkov
	cargo build -p callbook-dev -p callbook-aws --bins
	LOAD_REQUESTS=$${LOAD_REQUESTS:-5000} LOAD_CONCURRENCY=$${LOAD_CONCURRENCY:-50} \
		cargo test --release -p callbook-tests --test load -- --nocapture

# The soak under faults at size: a tenth of every worker port call failing, redelivery after
# 1 s (make test runs 40 bookings; SOAK_BOOKINGS sets the size).
soak: venv tools
	cargo build -p callbook-dev -p callbook-aws --bins
	SOAK_BOOKINGS=$${SOAK_BOOKINGS:-200} cargo test -p callbook-tests --test end_to_end soak -- --nocapture

# Moves a dead-letter queue's messages back to their source queue in `make dev`'s stack,
# e.g. make redrive QUEUE=Booking (Booking, Notification, Analytics or Followup). The queue
# URLs come from the monitoring function's environment, the one that names every queue and DLQ.
# Against AWS: cargo run -p callbook-aws --bin callbook-admin -- redrive <dlq-url> <queue-url>
redrive:
	@test -n "$(QUEUE)" || { echo "usage: make redrive QUEUE=Booking|Notification|Analytics|Followup" >&2; exit 2; }
	@test -f .dev/env/monitoring.env || { echo "no local stack: run make dev first (in another terminal)" >&2; exit 2; }
	cargo build -q -p callbook-aws --bin callbook-admin
	set -a; . .dev/env/monitoring.env; set +a; Q=$$(echo "$(QUEUE)" | tr a-z A-Z); \
		DLQ="$${Q}_DLQ_URL"; SOURCE="$${Q}_QUEUE_URL"; \
		test -n "$${!DLQ}" || { echo "unknown queue $(QUEUE)" >&2; exit 2; }; \
		./target/debug/callbook-admin redrive "$${!DLQ}" "$${!SOURCE}"

# Loads a business (tenant) from its file into the local stack started by `make dev`.
# Against AWS: BUSINESSES_TABLE=<table> cargo run -p callbook-aws --bin callbook-admin -- load-business FILE
load-business:
	@test -n "$(FILE)" || { echo "usage: make load-business FILE=infra/business.example.json" >&2; exit 2; }
	@test -f .dev/env/webhook.env || { echo "no local stack: run make dev first (in another terminal)" >&2; exit 2; }
	cargo build -q -p callbook-aws --bin callbook-admin
	set -a; . .dev/env/webhook.env; set +a; ./target/debug/callbook-admin load-business "$(FILE)"

build: tools
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(TOOLS_BIN):$$PATH" cargo lambda build --release --arm64 --output-format zip \
		--bin webhook --bin booking-worker --bin notification-worker --bin analytics-worker --bin followup-worker \
		--bin monitoring --bin sms-replies
	@ls -l target/lambda/*/bootstrap.zip

sam-build: tools
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(TOOLS_BIN):$$PATH" SAM_CLI_TELEMETRY=0 sam build --beta-features

vapi-tools:
	@cargo run -q -p callbook-core --bin vapi-tools

# Coverage-guided fuzzing of callbook-core's parsers (fuzz/README.md). The first run installs the
# pinned cargo-fuzz into .dev/tools. Longer than make test, whose short version is the property
# tests; e.g. make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=envelope
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) fuzz/run.sh $(FUZZ_TARGETS)

bench-webhook:
	cargo run --release -p webhook --example pure_path

clean-venv:
	rm -rf .venv .venv-tools .venv-checkov
