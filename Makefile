# ecmpd — see README.md. `make demo` first, `make test` for every tier.
SWIFT ?= swift
BUILD := .build/debug
# The kernel tier runs the test bundle itself: `swift test` spends about 8.5
# minutes planning the package under TCG before each boot's first test.
XCTEST := Tests/kernel/xctest.sh

.PHONY: all deps build demo test lint format test-unit test-netns test-kernel soak bench-ipvs bench-controller bench-checks bench-checks-host bench-managed fuzz clean

all: build

deps:
	scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Checks the example config, then runs the lab (deploy/lab/demo.sh,
# docs/lab.md): client, router, two directors and two real servers in
# namespaces, traffic spread, a director's backends failed and restored.
# Without IPVS in this kernel the lab runs inside the kernel tier's VM.
demo: build
	$(BUILD)/ecmpd check --config deploy/ecmpd.example.yaml --no-network
	$(BUILD)/ecmpd check --config deploy/ecmpd.managed.example.yaml --no-network
	@if modprobe ip_vs 2>/dev/null && [ -e /proc/net/ip_vs ]; then \
		deploy/lab/demo.sh; \
	else \
		echo "demo: this kernel has no IPVS; running the lab inside the kernel tier's VM (Tests/kernel/README.md)"; \
		Tests/kernel/run-in-vm.sh -- deploy/lab/demo.sh; \
	fi

# Each tier's wall time goes to .build/tier-times (scripts/timed.sh), printed
# at the end here and by .ci/run, also when a tier fails.
TIMED := scripts/timed.sh
test: deps
	@mkdir -p .build && rm -f .build/tier-times
	$(TIMED) lint $(MAKE) lint
	$(TIMED) build $(SWIFT) build --build-tests
	$(MAKE) test-unit test-netns test-kernel
	@echo "tier times:" && cat .build/tier-times

# The toolchain's formatter with the repository's .swift-format (line length
# 120, 4 spaces; the style rules are off, the layout is enforced): `make lint`
# fails on any file `make format` would change.
FORMATTED := Package.swift Sources Tests
lint:
	$(SWIFT) format lint --strict --recursive --parallel $(FORMATTED)

format:
	$(SWIFT) format format --in-place --recursive --parallel $(FORMATTED)

# Tier 1: pure logic, golden files. No root needed.
test-unit:
	$(TIMED) unit $(SWIFT) test --skip-build --skip NamespaceTests --skip KernelTests

# Tier 2: network namespaces on this kernel with real FRR (root).
test-netns:
	$(TIMED) namespaces $(SWIFT) test --skip-build --filter NamespaceTests

# Tier 3: Debian's kernel with IPVS under qemu (TCG); Tests/kernel/README.md.
# The managed-mode lab (two long scenarios under TCG) and the 500-VIP load
# with a short soak (2 minutes; `make soak` runs the 10-minute one) boot on
# their own, so each boot's timeout covers one group; the last boot has no
# ip_vs module, for the "no IPVS" error path.
test-kernel:
	$(TIMED) "kernel: smoke" Tests/kernel/run-in-vm.sh -- Tests/kernel/smoke.sh
	$(TIMED) "kernel: IPVS, controller, lab" Tests/kernel/run-in-vm.sh --timeout 2400 -- $(XCTEST) KernelTests $(foreach c,IPVSNoModuleTests ControllerBenchmarkTests ManagedDetectionBenchmarkTests ScaleSoakTests ManagedModeTests,--skip KernelTests.$(c))
	$(TIMED) "kernel: managed mode, fleet" Tests/kernel/run-in-vm.sh --timeout 2400 -- $(XCTEST) KernelTests.ManagedModeTests
	$(TIMED) "kernel: 500 VIPs, 2-minute soak" env ECMPD_SOAK_SECONDS=120 Tests/kernel/run-in-vm.sh --timeout 1500 -- $(XCTEST) KernelTests.ScaleSoakTests
	$(TIMED) "kernel: no IPVS" env ECMPD_EXPECT_NO_IPVS=1 Tests/kernel/run-in-vm.sh --no-ipvs --timeout 1800 -- $(XCTEST) KernelTests.IPVSNoModuleTests

# docs/reliability.md, "Scale and soak": the 500-VIP load with the
# 10-minute soak (ECMPD_SOAK_SECONDS, default 600). Not part of `make test`.
soak: deps
	$(SWIFT) build --build-tests
	Tests/kernel/run-in-vm.sh --timeout 2400 -- $(XCTEST) KernelTests.ScaleSoakTests

# docs/benchmarks.md, "IPVS programming": a release build against
# ipvsadm-restore in one VM boot. Not part of `make test`.
bench-ipvs: deps
	$(SWIFT) build -c release --scratch-path .build-release --product ecmpd
	mkdir -p .build-release/bench
	Tests/kernel/run-in-vm.sh --out .build-release/bench -- Tests/kernel/bench-ipvs.sh .build-release/release/ecmpd 5
	cat .build-release/bench/bench-ipvs.txt

# docs/benchmarks.md, "Withdrawal and re-announcement": 50 trials of the
# router + two directors fleet in one VM boot. Not part of `make test`.
bench-controller: deps
	$(SWIFT) build --build-tests
	ECMPD_BENCH=1 Tests/kernel/run-in-vm.sh -- $(XCTEST) KernelTests.ControllerBenchmarkTests | tee .build/bench-controller.txt
	grep '^BENCH' .build/bench-controller.txt

clean:
	rm -rf .build

# docs/reliability.md, "Bad input": libFuzzer on the config parser and the
# keepalived import (Tests/Fuzz), FUZZ_SECONDS each, seeded from the fixed
# corpus and the examples. Findings go to .build-fuzz/artifacts. Not part
# of `make test`.
FUZZ_SECONDS ?= 300
FUZZ_CORPUS := Tests/ECMPCoreTests/Fixtures/fuzz-corpus
# libFuzzer as a library (Tests/Fuzz/CLibFuzzer/libfuzzer.h says why):
# -sanitize=fuzzer's coverage flags, and the runtime without its own main.
FUZZ_BUILD = ECMPD_FUZZ=1 $(SWIFT) build -c release --scratch-path .build-fuzz \
	-Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,trace-cmp,pc-table \
	-Xcc -fsanitize=fuzzer-no-link,address \
	-Xlinker $(shell clang -print-file-name=libclang_rt.fuzzer_no_main-x86_64.a) -Xlinker -lstdc++
FUZZ_RUN := -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
fuzz: deps
	$(FUZZ_BUILD) --product ConfigFuzzer
	$(FUZZ_BUILD) --product KeepalivedFuzzer
	mkdir -p .build-fuzz/corpus/config .build-fuzz/corpus/keepalived .build-fuzz/artifacts
	cp $(FUZZ_CORPUS)/config/* deploy/*.yaml Tests/ECMPCoreTests/Fixtures/keepalived/*.yaml .build-fuzz/corpus/config/
	find $(FUZZ_CORPUS)/keepalived Tests/ECMPCoreTests/Fixtures/keepalived -name '*.conf' -exec cp {} .build-fuzz/corpus/keepalived/ \;
	.build-fuzz/release/ConfigFuzzer $(FUZZ_RUN) -dict=Tests/Fuzz/config.dict \
		-artifact_prefix=.build-fuzz/artifacts/config- .build-fuzz/corpus/config
	.build-fuzz/release/KeepalivedFuzzer $(FUZZ_RUN) -dict=Tests/Fuzz/keepalived.dict \
		-artifact_prefix=.build-fuzz/artifacts/keepalived- .build-fuzz/corpus/keepalived

# docs/benchmarks.md, "Managed mode: checks": keepalived's checker vs `ecmpd
# run` (release build) for the same 1,000 and 2,000 TCP checks a second, in
# one VM boot, alternating (10,000 is `make bench-checks-host`: the emulated
# CPU cannot run keepalived at that rate). Not part of `make test`.
bench-checks: deps
	$(SWIFT) build -c release --scratch-path .build-release --product ecmpd
	mkdir -p .build-release/bench
	Tests/kernel/run-in-vm.sh --mem 2048 --timeout 1500 --out .build-release/bench -- Tests/kernel/bench-checks.sh .build-release/release/ecmpd "1000 2000 1000" 30
	cat .build-release/bench/bench-checks.txt

# docs/benchmarks.md, "Managed mode: checks", 10,000 a second: ecmpd alone on
# this kernel (root, a network namespace; keepalived's checker needs IPVS).
bench-checks-host: deps
	$(SWIFT) build -c release --scratch-path .build-release --product ecmpd
	mkdir -p .build-release/bench
	ECMPD_VM_OUT=.build-release/bench Tests/kernel/bench-checks.sh --host .build-release/release/ecmpd "1000 10000" 30
	cat .build-release/bench/bench-checks.txt

# docs/benchmarks.md, "Managed mode: detection": a real server killed to its
# IPVS weight 0, default and aggressive check profiles. Not part of `make test`.
bench-managed: deps
	$(SWIFT) build --build-tests
	ECMPD_BENCH=1 Tests/kernel/run-in-vm.sh --timeout 1500 -- $(XCTEST) KernelTests.ManagedDetectionBenchmarkTests | tee .build/bench-managed.txt
	grep '^BENCH' .build/bench-managed.txt
