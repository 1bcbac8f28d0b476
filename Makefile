# VOS: a distributed multiserver OS in userspace.
# make demo   build, start an embedded node, launch images/hello, show its topology
# make test   static checks and every test, with the race detector
# make bench  the benchmark report (each case beside its baseline)

GO      ?= go
BIN     := bin
EXAMPLE := images/hello/web.yaml

.PHONY: all build demo test check bench fuzz clean

all: build

# vosbox runs inside pods, whose root has no host libraries: no cgo.
build:
	$(GO) build -o $(BIN)/ ./tools/...
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ ./images/userland/cmd/...

demo: build
	@$(BIN)/vos ls 2>/dev/null | grep -q '^web ' || $(BIN)/vos up $(EXAMPLE)
	$(BIN)/vos topology web

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: check
	$(GO) test -race -count=1 -timeout 20m ./...

bench: build
	$(BIN)/vosbench

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./ipc/
	$(GO) test -run '^$$' -fuzz FuzzServers -fuzztime 60s ./kernel/

clean:
	rm -rf $(BIN)
