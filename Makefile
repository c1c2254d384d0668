# Makefile: thin wrapper over CMake. `make demo` and `make check` install what is missing, configure, build and run.
BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
# Open MPI refuses root without these; they are passed to tests, never built into the library.
ifeq ($(shell id -u),0)
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
endif

.PHONY: all deps configure build demo check check-asan check-tsan fuzz bench install docs format format-check clean

all: build

deps:
	@sh .ci/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null || cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@echo "== ppool demo: compute_square on forked workers =="
	@$(BUILD)/docs/examples/ppool-squares
	@if $(BUILD)/launch/ppoolrun --info | grep -q "transports built:.*mpi"; then \
	  echo "== the same binary under mpirun: ppoolrun --mpi -n 3 (1 master + 3 worker ranks) =="; \
	  $(BUILD)/launch/ppoolrun --mpi -n 3 $(BUILD)/docs/examples/ppool-squares; \
	else echo "== MPI transport not built: the mpirun half of the demo is skipped =="; fi

check: build
	cd $(BUILD) && ctest --output-on-failure -j2 --timeout 300

# Sanitizer runs for developers (ASan+UBSan, TSan). Deliberate worker crashes are
# reported by the sanitizer instead of the signal, so fault tests are left out.
check-asan: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DPPOOL_BUILD_BENCH=OFF \
	  -DCMAKE_C_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" >/dev/null
	cmake --build $(BUILD)-asan -j$(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=handle_segv=0 ctest --output-on-failure -j2 -E 'fault|install'

check-tsan: deps
	cmake -S . -B $(BUILD)-tsan -DCMAKE_BUILD_TYPE=Debug -DPPOOL_BUILD_BENCH=OFF \
	  -DCMAKE_C_FLAGS="-fsanitize=thread" >/dev/null
	cmake --build $(BUILD)-tsan -j$(JOBS)
	cd $(BUILD)-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j2 -E 'fault|install'

# The frame decoder's long fuzz run: FUZZ_RUNS inputs from the checked-in corpus (copied, not changed).
FUZZ_RUNS ?= 1000000
fuzz: build
	@test -x $(BUILD)/tests/fuzz/fuzz_frame || { echo "fuzz_frame not built: needs clang (see PPOOL_BUILD_FUZZ)"; exit 1; }
	sh tests/fuzz/run.sh $(BUILD)/tests/fuzz/fuzz_frame tests/fuzz/corpus $(FUZZ_RUNS)

bench: build
	@sh bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX),)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

docs:
	sh docs/gen-reference.sh
