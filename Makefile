# Pitlane's build, test and demo entry points. `make help` lists them.

GO       ?= go
BIN      := bin/pitlane
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
DEMO     ?= pitlane-demo

.PHONY: help setup build base-image demo demo-clean test test-go test-jetbrains test-vscode e2e-vscode conformance bench lint fmt k8s-build k8s-up k8s-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

setup: ## install and start what builds and tests need (Docker engine, base image, packages)
	scripts/setup.sh

build: ## build bin/pitlane (static, so the same file runs as the agent in containers)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/pitlane

base-image: ## build the default base image offline (pitlane/base:bookworm)
	scripts/base-image.sh

demo: ## set up, build, create a workspace from examples/dockerfile and list workspaces
	PITLANE_E2E=0 PITLANE_K8S=0 scripts/setup.sh
	$(MAKE) --no-print-directory build
	@$(BIN) delete --force $(DEMO) >/dev/null 2>&1 || true
	$(BIN) create examples/dockerfile --name $(DEMO)
	$(BIN) exec $(DEMO) -- sh -c 'echo "inside $(DEMO) as $$(id -un) in $$(pwd)"; cat /tmp/hooks.log'
	$(BIN) list

demo-clean: ## delete the demo workspace
	$(BIN) delete --force $(DEMO)

test: setup build test-go conformance test-jetbrains test-vscode ## set up, then run every test (Go, spec conformance, JetBrains core, VS Code extension and e2e)

test-go: lint ## go vet, gofmt, staticcheck and all Go tests (real Docker engine)
	@mkdir -p .cache && rm -f .cache/corpus-report.txt
	PITLANE_CORPUS_REPORT=$(CURDIR)/.cache/corpus-report.txt $(GO) test -count=1 -timeout 30m ./...
	@if [ -f .cache/corpus-report.txt ]; then echo "detection corpus:"; cat .cache/corpus-report.txt; fi

test-jetbrains: build ## the JetBrains plugin's core, against the real bridge
	mvn -B -ntp -f jetbrains-plugin/core/pom.xml verify

test-vscode: build ## the VS Code extension: client tests and the code-server e2e
	cd vscode-ext && npm ci --no-audit --no-fund && npm run build && npm test
	$(MAKE) --no-print-directory e2e-vscode

e2e-vscode: ## the VS Code extension in a real VS Code (code-server + Chromium)
	cd vscode-ext && npm run e2e

conformance: build ## compare workspaces with the reference Dev Containers CLI on the fixtures
	scripts/conformance.sh

# The reference Dev Containers CLI, for comparisons (kept out of the tree).
DEVCONTAINER_CLI := .cache/devcontainer-cli/node_modules/.bin/devcontainer
$(DEVCONTAINER_CLI):
	npm install --silent --no-audit --no-fund --prefix .cache/devcontainer-cli @devcontainers/cli@0.89.0

bench: build $(DEVCONTAINER_CLI) ## benchmarks, reported as ratios to a baseline measured in the same run
	DEVCONTAINER_BIN=$(abspath $(DEVCONTAINER_CLI)) $(GO) test -run '^$$' -bench '^BenchmarkCreateToExec$$' -benchtime 7x ./cmd/pitlane
	$(GO) test -run '^$$' -bench PrebuiltCreateToExec -benchtime 5x -timeout 30m ./cmd/pitlane
	$(GO) test -run '^$$' -bench '^BenchmarkComposeCreateToExec$$' -benchtime 5x ./cmd/pitlane
	$(GO) test -run '^$$' -bench . -benchtime 20x ./internal/agent
	$(GO) test -run '^$$' -bench ListRoundTrip -benchtime 3000x ./bridge
	$(GO) test -run '^$$' -bench 'StartToInitialize|IdleRSS' -benchtime 5x ./bridge
	$(GO) test -run '^$$' -bench Flush -benchtime 40x ./telemetry
	$(GO) test -run '^$$' -bench TelemetryCommand -benchtime 10x ./cmd/pitlane
	$(GO) test -run '^$$' -bench CreateToExec -benchtime 5x ./internal/kube
	$(GO) test -run '^$$' -bench KubernetesCreateToExec -benchtime 5x -timeout 30m ./cmd/pitlane

k8s-build: ## build the test cluster's Kubernetes binaries from the Go module proxy (cached per machine)
	scripts/k8s/build.sh

k8s-up: ## start a single-node Kubernetes cluster "dev" in network namespace pitlane-k8s-dev (root)
	scripts/k8s/cluster.sh up dev
	@echo "try it: scripts/k8s/cluster.sh run dev $(BIN) provider add dev kubernetes"

k8s-down: ## stop the cluster that k8s-up started and remove its state
	scripts/k8s/cluster.sh down dev

lint: ## go vet, gofmt and staticcheck
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed (make fmt):"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')
