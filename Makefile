# ecmpd — see README.md. `make demo` first, `make test` for every tier.
SWIFT ?= swift
BUILD := .build/debug
TESTS := $(BUILD)/ecmpdPackageTests.xctest

.PHONY: all deps build demo test test-unit test-netns test-kernel clean

all: build

deps:
	scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Renders this machine's zebra.conf/ospfd.conf from the example config.
demo: build
	$(BUILD)/ecmpd check --config deploy/ecmpd.example.yaml
	$(BUILD)/ecmpd render --config deploy/ecmpd.example.yaml

test: deps
	$(SWIFT) build --build-tests
	$(MAKE) test-unit test-netns test-kernel

# Tier 1: pure logic, golden files. No root needed.
test-unit:
	$(SWIFT) test --skip-build --skip NamespaceTests --skip KernelTests

# Tier 2: network namespaces on this kernel with real FRR (root).
test-netns:
	$(SWIFT) test --skip-build --filter NamespaceTests

# Tier 3: Debian's kernel with IPVS under qemu (TCG).
test-kernel:
	Tests/kernel/run-in-vm.sh -- $(TESTS) KernelTests

clean:
	rm -rf .build
