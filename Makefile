# Strata — the two commands: `make demo` and `make test`. Both install what is missing first.
BUILD ?= build
SANITIZE ?= 0
JOBS ?= $(shell nproc)
ifeq ($(SANITIZE),1)
  BUILD := build-asan
  CMAKE_FLAGS += -DSTRATA_SANITIZE=ON
endif
ifeq ($(CI),true)
  CMAKE_FLAGS += -DSTRATA_WERROR=ON
endif

.PHONY: all setup configure build test demo bench clean

all: build

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@scripts/run-tests $(BUILD)

demo: build
	@$(BUILD)/strata demo

bench: build
	@scripts/run-benchmarks $(BUILD)

clean:
	rm -rf build build-asan
