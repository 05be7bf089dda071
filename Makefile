# The front door. `make demo` runs the main job, `make test` the whole suite, `make bench`
# the benchmarks. Each first runs scripts/setup.sh, which installs or builds what is missing
# (into a cache outside the checkout) and is quick when nothing is.
BUILD ?= build
LLVM_MAJOR := $(shell sed -n 's/^WOP_LLVM_MAJOR=//p' scripts/versions.env)
CMAKE_FLAGS ?=
CTEST_FLAGS ?=

.PHONY: all setup configure build demo test test-unit test-integration test-fuzz bench clean

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

demo: build
	@python3 testenv/demo.py --build $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 300 $(CTEST_FLAGS)

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -L unit $(CTEST_FLAGS)

test-integration: build
	@cd $(BUILD) && ctest --output-on-failure -L integration $(CTEST_FLAGS)

test-fuzz: build
	@cd $(BUILD) && ctest --output-on-failure -L fuzz $(CTEST_FLAGS)

bench: build
	@echo "no benchmarks yet: the runtime and swap issues add them (bench/)"

clean:
	rm -rf $(BUILD)
