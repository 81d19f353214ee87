# BuildPool — developer entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
DOTNET ?= dotnet
SLN := BuildPoolOperator.sln
HOST := src/BuildPool.Host/BuildPool.Host.csproj
CONFIG ?= Release
# Tests that need a long run or a real component live behind these traits.
TEST_FILTER ?= Category!=Chaos&Category!=Benchmark

.PHONY: help build test manifests run fmt fmt-check bench chaos clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build everything (warnings are errors)
	$(DOTNET) build $(SLN) -c $(CONFIG) --nologo -v quiet

test: build ## run the test suite (about 5 minutes on 2 cores)
	./hack/test.sh $(CONFIG) "$(TEST_FILTER)"

manifests: ## regenerate crds/ (and its copies in config/crd/bases and the chart) from the API types
	$(DOTNET) run --project $(HOST) -c $(CONFIG) -- crds --out $(CURDIR)/crds --copy-to $(CURDIR)/config/crd/bases --copy-to $(CURDIR)/charts/buildpool/crds

run: ## run the operator: current kube context if reachable, else a local API with the samples (and builders, where buildkitd is on PATH; RUN_ARGS="--buildkitd PATH")
	$(DOTNET) run --project $(HOST) -c $(CONFIG) -- dev --samples $(CURDIR)/config/samples --state $(CURDIR)/.local $(RUN_ARGS)

fmt: ## format the code
	$(DOTNET) format $(SLN)

fmt-check: ## fail when the code is not formatted
	$(DOTNET) format $(SLN) --verify-no-changes

# Sections (`BENCH_ARGS="--only load"` runs some): routing, movement, locality, gateway, gateway-process,
# load (48 builds at once through the gateway, 4x its slots, against fake builders with BuildKit's own
# waits; every build must succeed), attacks (one hostile client per attack against the gateway process;
# honest builds must all complete and the gateway stay within 256 MiB of idle), operator, e2e. The run exits non-zero when a section fails.
bench: ## benchmarks, side by side in one run -> docs/benchmarks.md (under 15 min on 2 cores; BENCH_ARGS=--quick for a smoke run)
	$(DOTNET) run --project tests/BuildPool.Benchmarks -c Release -- $(BENCH_ARGS)

chaos: build ## long fault-injection suites
	VERBOSITY=detailed ./hack/test.sh $(CONFIG) "Category=Chaos"

clean:
	$(DOTNET) clean $(SLN) --nologo -v quiet
	rm -rf .local
