# hactl: make build | test | demo | ...   (make help lists the targets)
SHELL       := /bin/bash
GO          ?= go
PREFIX      ?= /usr/local
DESTDIR     ?=
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS     := -s -w -X github.com/hactl/hactl/pkg/version.Version=$(VERSION) -X github.com/hactl/hactl/pkg/version.Commit=$(COMMIT)
FUZZTIME    ?= 10s
TEST_TIMEOUT ?= 15m
NETNS_MARK  := $(shell mktemp -u /tmp/hactl-netns.XXXXXX)

CHAOS_DURATION ?= 5m
CHAOS_COUNT    ?= 0
CHAOS_VARIANT  ?= plain

.PHONY: help build test test-unit test-e2e attacks fuzz bench chaos chaos-mixed chaos-guard demo completions docs lint install clean deps cross

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

build: ## build ./hactl
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o hactl ./cmd/hactl

deps: ## install the Debian packages the end-to-end tests need (root), or name them
	@scripts/deps.sh

test: deps ## unit and end-to-end tests (root runs the network tests; CI=true makes skips fail)
	@scripts/netns-guard.sh before $(NETNS_MARK)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	@scripts/netns-guard.sh after $(NETNS_MARK)

test-unit: ## unit tests only (no root, no network namespaces)
	$(GO) test -short -count=1 ./...

test-e2e: deps ## end-to-end tests only (TestE2E*, root)
	@scripts/netns-guard.sh before $(NETNS_MARK)
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -run 'E2E' ./...
	@scripts/netns-guard.sh after $(NETNS_MARK)

# The attack suite of docs/security.md (also part of make test).
ATTACKS := TestE2EFlood|TestE2EUncountedTrafficCounted|TestE2EConnectionFlood|TestE2ERunDir|TestE2EFullDisk|TestE2EStateFileQuotedName|TestE2EReloadLargeConfigKeepsAdverts|TestE2EReloadHostileIncludes|TestE2EConfigCheck|TestBackendWedgedLoop|TestE2ESocketSwapRace|TestE2ESocketPathSymlink|TestWriteTempSwapRace|TestE2EQueueDropsReported|TestE2EHostileNode|TestRunCommandOutputLimit|TestHostPatterns|TestClientStatusFaults|TestReadAnswerLimit|TestIncludeRefusesWhatIsNotARegularFile|TestIncludeBomb|TestIncludeByteBudget|TestConflictTableCapped|TestReceiveAuthenticatesBeforeConflicts
attacks: deps ## the attack suite of docs/security.md alone (root)
	@scripts/netns-guard.sh before $(NETNS_MARK)
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -run '$(ATTACKS)' ./daemon/... ./pkg/cli ./pkg/remote ./pkg/api ./pkg/config
	@scripts/netns-guard.sh after $(NETNS_MARK)

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

bench: build deps ## hactl against keepalived in one run (failover, planned failover, who-owns, CPU, RSS; root) and the Go micro-benchmarks
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms ./pkg/vrrp/...
	$(GO) run ./cmd/hactl-bench -hactl ./hactl -json bench-results.json

chaos: build deps ## chaos run on a 3-node lab (CHAOS_DURATION=5m, CHAOS_COUNT, CHAOS_SEED; root)
	$(GO) run ./cmd/hactl-chaos -hactl ./hactl -duration $(CHAOS_DURATION) -count $(CHAOS_COUNT) $(if $(CHAOS_SEED),-seed $(CHAOS_SEED))

chaos-mixed: build deps ## chaos run on 2 hactl nodes and keepalived (CHAOS_VARIANT=plain|vmac|ah, CHAOS_DURATION, CHAOS_SEED, CHAOS_KEEPALIVED_NODE; root)
	$(GO) run ./cmd/hactl-chaos -hactl ./hactl -mixed -variant $(CHAOS_VARIANT) -duration $(CHAOS_DURATION) -count $(CHAOS_COUNT) $(if $(CHAOS_SEED),-seed $(CHAOS_SEED)) $(if $(CHAOS_KEEPALIVED_NODE),-keepalived-node $(CHAOS_KEEPALIVED_NODE))

chaos-guard: build deps ## chaos run on 3 hactl nodes guarded by an etcd_guard on 3 etcd members, with the guard's faults; strict: no two-owner sample (CHAOS_DURATION, CHAOS_COUNT, CHAOS_SEED, CHAOS_TTL=2; root)
	$(GO) run ./cmd/hactl-chaos -hactl ./hactl -guard -ttl $(or $(CHAOS_TTL),2) -duration $(CHAOS_DURATION) -count $(CHAOS_COUNT) $(if $(CHAOS_SEED),-seed $(CHAOS_SEED))

demo: build deps ## a 3-node lab in network namespaces: status, ssh, teardown (root)
	@HACTL=./hactl scripts/demo.sh

completions: ## regenerate completions/ (bash, zsh, fish, powershell)
	$(GO) run ./cmd/hactl-docs -completions completions

docs: ## regenerate docs/man (man pages) and docs/cli (markdown reference)
	$(GO) run ./cmd/hactl-docs -man docs/man -markdown docs/cli

# staticcheck is pinned and run with `go run`, so it is not a module
# dependency; a fresh machine fetches it once through the Go module proxy.
# It runs for linux only: for darwin it reports the helpers that only the
# linux files use as unused; `go vet` covers the darwin build.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: ## no merge conflict markers, gofmt, go vet (linux and darwin), staticcheck
	@if git grep -n -E '^(<<<<<<<|>>>>>>>) ' -- . ':!Makefile' 2>/dev/null; then echo "merge conflict markers left (above)"; exit 1; fi
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

cross: ## the operator commands build for macOS and linux/arm64
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/hactl
	GOOS=linux GOARCH=arm64 $(GO) build -o /dev/null ./cmd/hactl

install: build ## install the binary, man pages and completions under PREFIX
	install -D -m 0755 hactl $(DESTDIR)$(PREFIX)/bin/hactl
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -D -m 0644 completions/hactl.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/hactl
	install -D -m 0644 completions/_hactl $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_hactl
	install -D -m 0644 completions/hactl.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/hactl.fish

clean: ## remove build outputs
	rm -f hactl

.PHONY: deb
deb: build ## Debian package in dist/: binary, systemd unit, man pages, completions, /etc/hactl/hactl.conf
	@VERSION='$(VERSION)' scripts/deb.sh ./hactl dist
