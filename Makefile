# HMS-SVC — the developer's commands. See README.md.
GO        ?= go
BIN       := bin
MESH_DIR  ?= .mesh
BRIDGE    ?= 127.0.0.1:8443
NATS_URL  ?= nats://127.0.0.1:4222
# Go test flags; CI may add -race for the core packages.
TESTFLAGS ?= -count=1 -timeout 12m

.PHONY: all build run run-python demo demo-python test test-long lint bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/... ./examples/...

## run: a whole mesh on this machine: embedded NATS+JetStream, the four demo booths, the bridge.
run: build
	MESH_DIR=$(MESH_DIR) BRIDGE=$(BRIDGE) NATS_URL=$(NATS_URL) ./scripts/run-mesh.sh

## run-python: make run with fee-calc served by the Python booth behind booth-runner --sidecar.
run-python: build
	MESH_DIR=$(MESH_DIR) BRIDGE=$(BRIDGE) NATS_URL=$(NATS_URL) PYTHON_BOOTH=1 ./scripts/run-mesh.sh

## demo-python: Avery's license flow by the Python gateway (the seed's issue_license).
demo-python:
	python3 examples/python-gateway/gateway.py --bridge https://$(BRIDGE) --mesh-dir $(MESH_DIR)

## demo: Avery's license flow against a running `make run`.
demo: build
	MESH_DIR=$(MESH_DIR) BRIDGE=$(BRIDGE) ./scripts/demo.sh

## test: every test, against real in-process NATS servers and real HTTP/2 clients,
## then the Python client's (real loopback servers).
test:
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...
	python3 -m unittest discover -s clients/python/tests -t clients/python

## lint: formatting and vet.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: the side-by-side benchmark against raw NATS; writes BENCHMARKS.md.
bench:
	./scripts/bench.sh

## fuzz: a longer fuzzing run of every fuzz target (FUZZTIME each, default 30s).
fuzz:
	./scripts/fuzz.sh

clean:
	rm -rf $(BIN)
