# The front door. `make demo` runs the main job, `make test` the whole suite, `make bench`
# the benchmarks. Each first runs scripts/setup.sh, which installs or builds what is missing
# (into a cache outside the checkout) and is quick when nothing is.
BUILD ?= build
LLVM_MAJOR := $(shell sed -n 's/^WOP_LLVM_MAJOR=//p' scripts/versions.env)
CMAKE_FLAGS ?=
CTEST_FLAGS ?=

.PHONY: all setup configure build image demo test test-unit test-integration test-fuzz test-sanitize fuzz bench bench-kube bench-runtime bench-swap bench-restore bench-ring bench-fleet bench-scale bench-ops bench-api bench-pods bench-vm chaos clean

all: build

setup:
	@bash scripts/setup.sh $(BUILD)

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -C $(BUILD)/deps.cmake \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang-$(LLVM_MAJOR) -DCMAKE_CXX_COMPILER=clang++-$(LLVM_MAJOR) \
	  $(CMAKE_FLAGS) > $(BUILD)/configure.log || (cat $(BUILD)/configure.log; exit 1)

build: configure
	@cmake --build $(BUILD)

# Container images from the build output, with umoci and no base image (docs/operations.md,
# "The image"): build/image/<name>/ (OCI layout) and build/image/<name>.oci.tar for
# `ctr -n k8s.io images import`: localhost/wasm-operator:dev, localhost/pause:dev and
# localhost/wop-client:dev. Needs root.
image: build
	@bash scripts/build-image.sh $(BUILD)

demo: build
	@python3 testenv/demo.py --build $(BUILD)

# The whole suite: unit, integration (real control plane) and fuzz tests, then the unit
# tests again built with AddressSanitizer and UndefinedBehaviorSanitizer.
test: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 300 $(CTEST_FLAGS)
	@$(MAKE) --no-print-directory test-sanitize

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -L unit $(CTEST_FLAGS)

test-integration: build
	@cd $(BUILD) && ctest --output-on-failure -L integration $(CTEST_FLAGS)

test-fuzz: build
	@cd $(BUILD) && ctest --output-on-failure -L fuzz $(CTEST_FLAGS)

# Exploration, not part of the suite: every fuzzer for FUZZ_SECONDS with a random seed. A
# crash leaves its input in $(BUILD)/fuzz-findings/<name>/; add it to test/fuzz/corpus/<name>/
# with the fix, and the suite's fixed-seed runs replay it from then on.
FUZZ_SECONDS ?= 300
fuzz: build
	@bash scripts/fuzz.sh $(BUILD) $(FUZZ_SECONDS)

# Wasmtime handles guest faults with its own SIGSEGV handler: ASan must leave it in place.
test-sanitize: setup
	@cmake -S . -B $(BUILD)-sanitize -G Ninja -C $(BUILD)/deps.cmake -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_C_COMPILER=clang-$(LLVM_MAJOR) -DCMAKE_CXX_COMPILER=clang++-$(LLVM_MAJOR) \
	  -DWOP_SANITIZE=ON -DWOP_FUZZ=OFF > $(BUILD)/configure-sanitize.log || (cat $(BUILD)/configure-sanitize.log; exit 1)
	@cmake --build $(BUILD)-sanitize
	@cd $(BUILD)-sanitize && ASAN_OPTIONS=handle_segv=0:allow_user_segv_handler=1:detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit $(CTEST_FLAGS)

# Benchmarks write bench/results/*.json and docs/benchmarks/*.md (with plots). They run on
# Debian's python3, which has the python3-matplotlib that setup installs.
bench: bench-kube bench-runtime bench-swap bench-restore bench-ring bench-fleet bench-vm bench-scale

bench-kube: build
	@/usr/bin/python3 bench/kube/run.py --build $(BUILD)

bench-runtime: build
	@/usr/bin/python3 bench/runtime/run.py --build $(BUILD)

# Address space and maps of resident guests, and the cost of bounds checks, against
# --guest-memory-reservation-mib (no control plane): bench/results/vm.json, docs/benchmarks/vm.md.
bench-vm: build
	@/usr/bin/python3 bench/vm/run.py --build $(BUILD)

bench-swap: build
	@/usr/bin/python3 bench/swap/run.py --build $(BUILD)

# A restore taken apart (map, map + read or write every page, the background check; page cache
# hot and dropped) beside the bare floor of each operation: docs/benchmarks/restore.md. Root.
bench-restore: build
	@/usr/bin/python3 bench/swap/restore.py --build $(BUILD)

# A workload where swapping should pay (issue 16): N operators holding 1-8 MiB indexes each,
# replaying the recorded traces, with swap off, on, and on with prediction (host defaults):
# bench/results/fleet.json and docs/benchmarks/fleet.md. About 20 minutes; FLEET_FLAGS to change.
FLEET_FLAGS ?=
bench-fleet: build
	@/usr/bin/python3 bench/fleet/run.py --build $(BUILD) $(FLEET_FLAGS)

# The ring at N = 100, 1000 and 3000 in one host (issues 16 and 17): PSS, time to /readyz
# (warm and cold artifact cache), hop latency, threads, maps and virtual memory against N, at the
# host's default swap settings and at idle 0: bench/results/scale.json, docs/benchmarks/scale.md.
# About 30 minutes; SCALE_FLAGS to change (e.g. "--n 10000 --cycles 5 --warmup 1"; rows of other
# setups and sizes are kept).
SCALE_FLAGS ?=
bench-scale: build
	@/usr/bin/python3 bench/scale/run.py --build $(BUILD) $(SCALE_FLAGS)

# Leader takeover after kill -9 and SIGTERM (10 each, host defaults), follower memory, and
# the cost of a /metrics scrape with 1000 operators (issue 14): bench/results/ops.json and
# docs/benchmarks/ops.md. About 8 minutes.
bench-ops: build
	@/usr/bin/python3 bench/ops/run.py --build $(BUILD)

# The WasmOperator API (issue 13): apply to first reconcile with the module cached and cold
# (pulled from a docker-registry by the host, pushed by oras), and the keys an upgrade under
# load delays; host defaults: bench/results/api.json and docs/benchmarks/api.md. About 4 minutes.
bench-api: build
	@/usr/bin/python3 bench/api/run.py --build $(BUILD)

# The ring as Pods on a real node (issue 15): one Pod per client-go operator against one host
# Pod running all N; needs root (testenv/node.py). docs/benchmarks/pods.md, bench/results/pods.json.
PODS_N ?= 10,50,100
bench-pods: build
	@/usr/bin/python3 bench/pods/run.py --build $(BUILD) --n $(PODS_N)

# The ring against client-go (issue 6); e.g. make bench-ring RING_N=10 RING_SETUPS=client-go,wasm-resident
# Each (setup, N) runs 3 times in a shuffled order (RING_FLAGS="--identical-modules --repeats 1" for one).
# Setups whose binaries are missing are skipped with a line saying so.
RING_N ?= 10,50,100
RING_SETUPS ?= client-go,client-go-shared,native,combined,controller-runtime-combined,wasm-resident,wasm-swap,wasm-swap-defaults
RING_FLAGS ?= --identical-modules
bench-ring: build
	@/usr/bin/python3 bench/ring/run.py --build $(BUILD) --n $(RING_N) --setups $(RING_SETUPS) $(RING_FLAGS)

# The standing fault suite (issue 10): the whole matrix of faults against the ring and the
# replicator in one host; bench/results/chaos.json and docs/reliability.md. Fails if any
# scenario lost an update or crashed the host. (Its quick subset runs in `make test`.)
chaos: build
	@/usr/bin/python3 test/chaos/run.py --build $(BUILD) --report

clean:
	rm -rf $(BUILD)
