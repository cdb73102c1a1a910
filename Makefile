# pbx-server: the commands a newcomer, a developer and CI need.
CARGO ?= cargo

.PHONY: help run build release test check fmt lint links patterns spectral doc openapi conformance client-test api-examples browser-test screenshot bench fuzz ha-test

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## Build and start the service on embedded SQLite in ./data, listening on 127.0.0.1:8080
	$(CARGO) run -p pbx-server -- serve --dev-tokens

build: ## Debug build of the whole workspace
	$(CARGO) build --workspace

release: ## Optimised binary at target/release/pbx-server
	$(CARGO) build --release -p pbx-server

test: ## Run every test on SQLite; on PostgreSQL/MySQL too when PBX_TEST_POSTGRES_URL/PBX_TEST_MYSQL_URL are set
	CARGO="$(CARGO)" bash scripts/test.sh

check: fmt lint links patterns spectral ## Formatting, lints, the docs' relative links, the OpenAPI patterns and Spectral, as CI runs them

fmt: ## Check formatting
	$(CARGO) fmt --all -- --check

lint: ## Clippy on every target (the benchmark's pipelined floor too), warnings are errors
	$(CARGO) clippy --workspace --all-targets --features pbx-server/pipelined-floor -- -D warnings

spectral: ## Lint docs/openapi.json with Spectral (spectral:oas, npm): any finding fails
	bash scripts/spectral.sh

patterns: ## Every pattern of docs/openapi.json compiles in JavaScript with and without the u flag, and means the same both ways (Node)
	node scripts/check-patterns.js docs/openapi.json

links: ## Every relative link of README.md and docs/*.md names a file inside the repository
	python3 scripts/check-links.py

conformance: ## schemathesis against a started server, every operation of docs/openapi.json
	bash scripts/conformance.sh

api-examples: ## Run every curl example of docs/api.md, in order, against a fresh server (each must answer 2xx)
	bash scripts/api-examples.sh

client-test: ## Generate a Python client (openapi-python-client) and a TypeScript one (openapi-typescript + openapi-fetch, tsc strict) from docs/openapi.json and drive the API through each
	bash tests/client/run.sh

bench: ## Release build under wrk: PostgreSQL against the floor and pgbench, SQLite against its baseline, MySQL grouped or not; then get, writes and the change feed against the sqlx and the pipelined tokio-postgres floors (bench/writes.py), then webhook deliveries (bench/webhooks.py), then connection checks (bench/checks.py), then the plots (bench/plots.py, docs/performance/*.png) (docs/performance.md)
	python3 bench/run.py
	python3 bench/writes.py
	python3 bench/webhooks.py
	python3 bench/checks.py
	python3 bench/plots.py

browser-test: ## The docs page and the portal in headless chromium (screenshots in target/browser/)
	bash tests/browser/run.sh

screenshot: browser-test ## Refresh docs/portal.png, the README's picture of the portal, from the browser tests
	cp $${CARGO_TARGET_DIR:-target}/browser/portal-readme.png docs/portal.png

ha-test: ## PostgreSQL under Patroni behind HAProxy, two replicas and NATS: failover, switchover, a replica and NATS killed under load; nothing lost (docs/reliability.md)
	bash tests/ha/run.sh

fuzz: ## Fuzz the body and JSON Patch parsers with cargo-fuzz, FUZZ_SECONDS (60) a target
	bash scripts/fuzz.sh

openapi: ## Write docs/openapi.json from the code (a test fails when the checked-in file drifts)
	$(CARGO) run -q -p pbx-server -- openapi > docs/openapi.json

doc: ## API documentation of the crates
	$(CARGO) doc --workspace --no-deps
