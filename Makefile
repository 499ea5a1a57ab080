# dpcops: the two commands a newcomer needs are `make run` and `make test`.
GO          ?= go
BIN         := bin/dpcops
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The race detector is worth its cost on the packages with concurrency.
RACE_PKGS   := ./internal/store/... ./internal/server/... ./internal/web/... ./internal/notify/... ./internal/alarm/... ./internal/collect/...
# The packages whose tests open their stores through storetest run a second
# time on PostgreSQL stores: the same tests, the same guarantees.
STORE_PKGS  := ./internal/alarm/... ./internal/capacity/... ./internal/collect/... ./internal/lease/... ./internal/maintain/... \
               ./internal/notify/... ./internal/qmr/... ./internal/runbook/... ./internal/selfmon/... ./internal/web/...

.PHONY: all build run test test-unit lint fmt bench fuzz screenshots lambda clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/dpcops

## lambda: the CloudWatch form's publisher function, build/dpcops-publisher.zip
## (bootstrap for Linux/LAMBDA_ARCH and the spec dpcops would load: -c via
## DPCOPS_CONFIG, else ./dpcops.yaml, else the built-in one).
LAMBDA_ARCH ?= arm64
lambda: build
	mkdir -p build/lambda
	GOOS=linux GOARCH=$(LAMBDA_ARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o build/lambda/bootstrap ./cmd/dpcops
	./$(BIN) render lambda --binary build/lambda/bootstrap --arch $(if $(filter amd64,$(LAMBDA_ARCH)),x86_64,$(LAMBDA_ARCH)) --out build/dpcops-publisher.zip

## run: the demo — a throwaway PostgreSQL warehouse and dpcops serving it.
run:
	@echo "make run: building $(BIN) (the first build takes a few minutes on 2 cores)..."
	@$(MAKE) --no-print-directory build
	@echo "make run: checking for the PostgreSQL server binaries..."
	@./scripts/ensure-postgres.sh
	@echo "make run: starting the demo (Ctrl-C stops it and removes its PostgreSQL)..."
	./$(BIN) demo

## test: everything, with a real PostgreSQL the tests start themselves.
test:
	./scripts/ensure-postgres.sh
	./scripts/ensure-chromium.sh
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	DPCOPS_TEST_STORE=postgres $(GO) test -count=1 $(STORE_PKGS)
	$(GO) test -count=1 -race $(RACE_PKGS)

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l .; exit 1)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -w .

## bench: the benchmarks whose figures bench/RESULTS.md records.
bench:
	./scripts/ensure-postgres.sh
	$(GO) test -run '^$$' -bench . -benchtime 20x ./internal/store/...
	$(GO) test -run '^$$' -bench . -benchtime 30x ./internal/collect/...

## screenshots: docs/screenshots, the dashboard and an alarm page in English
## and Japanese, from the browser test (headless Chromium).
screenshots:
	./scripts/ensure-chromium.sh
	./scripts/ensure-cjk-font.sh
	DPCOPS_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run TestDashboardInABrowser ./internal/server/

## fuzz: every fuzz target for FUZZTIME (default 20s) each.
fuzz:
	./scripts/fuzz.sh

clean:
	rm -rf bin build dpcops-data dpcops-demo-data dpcops-demo.env
