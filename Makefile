# HMS-SVC — the developer's commands. See README.md.
GO        ?= go
BIN       := bin
MESH_DIR  ?= .mesh
BRIDGE    ?= 127.0.0.1:8443
NATS_URL  ?= nats://127.0.0.1:4222
# Go test flags; CI may add -race for the core packages.
TESTFLAGS ?= -count=1 -timeout 12m

.PHONY: all build image run run-python demo demo-python test test-long lint bench fuzz clean

all: build

build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/... ./examples/...

## image: OCI images of broker-bridge, booth-runner and meshctl as tarballs for
## docker/podman load, in bin/images/; no container daemon needed. Tagged with
## the Helm chart's appVersion unless IMAGE_TAG says otherwise.
IMAGES       := broker-bridge booth-runner meshctl
IMAGE_REPO   ?= hms-svc
IMAGE_TAG    ?= $(shell sed -n 's/^appVersion: *"*\([^"]*\)"*$$/\1/p' deployments/helm/hms-svc/Chart.yaml)
IMAGE_ARCH   ?= $(shell $(GO) env GOARCH)
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null)
REVISION     ?= $(shell git rev-parse HEAD 2>/dev/null)
# Ports each image exposes: the bridge's HTTPS API; the others listen on nothing by default.
PORTS_broker-bridge := 8443
image:
	@test -n "$(IMAGE_TAG)" || { echo "IMAGE_TAG is empty: no appVersion in deployments/helm/hms-svc/Chart.yaml"; exit 1; }
	@test -n "$(REVISION)" || { echo "REVISION is empty (not a git checkout?): give VERSION=... REVISION=..."; exit 1; }
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -buildvcs=auto -trimpath -o $(BIN)/linux-$(IMAGE_ARCH)/ $(addprefix ./cmd/,$(IMAGES))
	$(GO) build -o $(BIN)/ ./cmd/meshimage
	$(foreach c,$(IMAGES),SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) $(BIN)/meshimage --binary $(BIN)/linux-$(IMAGE_ARCH)/$(c) \
	  --tag $(IMAGE_REPO)/$(c):$(IMAGE_TAG) --out $(BIN)/images/$(c).tar --version "$(VERSION)" --revision "$(REVISION)" \
	  $(foreach p,$(PORTS_$(c)),--port $(p)) &&) true

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
## then the Python client's (real loopback servers). The Helm chart's test is a
## module of its own (deployments/helm/charttest), so that Helm and the
## Kubernetes libraries stay out of the mesh's go.mod; -mod=mod lets it follow
## the mesh's own requirements when they change.
test:
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...
	cd deployments/helm/charttest && $(GO) test -mod=mod $(TESTFLAGS) ./...
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
