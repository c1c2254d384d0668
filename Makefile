# Makefile: thin wrapper over CMake. `make demo` and `make check` install what is missing, configure, build and run.
BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
# Open MPI refuses root without these; they are passed to tests, never built into the library.
ifeq ($(shell id -u),0)
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
endif

.PHONY: all deps configure build demo check check-asan check-tsan fuzz bench bench-scale install docs format format-check clean

all: build

deps:
	@sh .ci/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null || cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# The demo: deps, then cmake's configure and build into a log (its tail shown if they fail), so
# that the results stand alone; then the demo plainly and under ppoolrun --mpi -n 3.
DEMO_LOG = $(BUILD)/demo-build.log
demo:
	@mkdir -p $(BUILD)
	@echo "make demo: Debian packages, configure and build: log in $(DEMO_LOG)"
	@{ sh .ci/deps.sh && cmake -S . -B $(BUILD) $(CMAKE_FLAGS) && cmake --build $(BUILD) -j$(JOBS); } \
	  >$(DEMO_LOG) 2>&1 || { tail -n 30 $(DEMO_LOG); echo "make demo: the build failed (whole log: $(DEMO_LOG))"; exit 1; }
	@echo "== ppool demo (docs/examples/squares.c), run plainly: forked local workers"
	@$(BUILD)/docs/examples/ppool-squares
	@if $(BUILD)/launch/ppoolrun --info | grep -q "transports built:.*mpi"; then \
	  echo "== the same binary under ppoolrun --mpi -n 3: a master and 3 worker ranks"; \
	  $(BUILD)/launch/ppoolrun --mpi -n 3 $(BUILD)/docs/examples/ppool-squares; \
	else echo "== MPI transport not built: the mpirun half of the demo is skipped"; fi

check: build
	cd $(BUILD) && ctest --output-on-failure -j2 --timeout 300

# Sanitizer runs, also in CI (.ci/run): ASan+UBSan, and TSan, over every test. Any report, of a test or
# of a worker or rank it runs (whose death a fault test expects), is written to $(BUILD)-*/reports/: the
# run fails if one is there. handle_segv=0: a task's deliberate SIGSEGV stays a signal. Open MPI is not
# built with the sanitizers: tests/lsan.supp and tests/tsan.supp name only its code (fast_unwind_on_malloc=0:
# whole stacks, so that its allocations are known as its own). CFLAGS: install.consumer's builds.
# Debian's python3 is not instrumented: it cannot load a sanitized extension without
# LD_PRELOAD, and CPython's own allocations would flood LeakSanitizer. The Python package's
# tests run in `make check`; the sanitizer runs cover the C engine under it and everything else.
SAN_NO_PYTHON = -DPPOOL_WITH_PYTHON=OFF
ASAN_DIR = $(abspath $(BUILD))-asan
TSAN_DIR = $(abspath $(BUILD))-tsan
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_ENV = CFLAGS="$(ASAN_FLAGS)" FFLAGS="$(ASAN_FLAGS)" \
  ASAN_OPTIONS=handle_segv=0:detect_leaks=1:fast_unwind_on_malloc=0:log_path=$(ASAN_DIR)/reports/asan \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(ASAN_DIR)/reports/ubsan
TSAN_ENV = CFLAGS=-fsanitize=thread FFLAGS=-fsanitize=thread \
  TSAN_OPTIONS=handle_segv=0:halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp:log_path=$(TSAN_DIR)/reports/tsan
# $(call san_ctest,DIR,ENV): ctest in DIR under ENV, then fails on any report.
# A file that holds nothing but notes is no finding: it is named, then left out. The notes: a
# symbolizer's warning (a process that could not start llvm-symbolizer while matching suppressions),
# and LeakSanitizer's "Unable to get registers from thread" (a thread gone while the exit-time leak
# check stopped the process; the check goes on without that thread's registers and reports any leak
# after the note, in the same file).
SAN_NOTES = WARNING: .*symbolizer|Unable to get registers from thread [0-9]+
san_ctest = cd $(1) && rm -rf reports && mkdir reports && { env $(2) ctest --output-on-failure -j2 --timeout 300; \
  rc=$$?; for f in reports/*; do [ -f "$$f" ] || continue; grep -qvE '$(SAN_NOTES)' "$$f" || \
  { echo "note: $$f holds only sanitizer notes, not a finding:"; cat "$$f"; rm -f "$$f"; }; done; \
  if ls reports/* >/dev/null 2>&1; then cat reports/*; echo "sanitizer reports (above) in $(1)/reports"; \
  exit 1; fi; exit $$rc; }

check-asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DPPOOL_BUILD_BENCH=OFF \
	  -DCMAKE_C_FLAGS="$(ASAN_FLAGS)" -DCMAKE_Fortran_FLAGS="$(ASAN_FLAGS)" $(SAN_NO_PYTHON) >/dev/null
	cmake --build $(ASAN_DIR) -j$(JOBS)
	$(call san_ctest,$(ASAN_DIR),$(ASAN_ENV))

check-tsan: deps
	cmake -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DPPOOL_BUILD_BENCH=OFF \
	  -DCMAKE_C_FLAGS="-fsanitize=thread" -DCMAKE_Fortran_FLAGS="-fsanitize=thread" $(SAN_NO_PYTHON) >/dev/null
	cmake --build $(TSAN_DIR) -j$(JOBS)
	$(call san_ctest,$(TSAN_DIR),$(TSAN_ENV))

# The frame decoder's long fuzz run: FUZZ_RUNS inputs from the checked-in corpus (copied, not changed).
FUZZ_RUNS ?= 1000000
fuzz: build
	@test -x $(BUILD)/tests/fuzz/fuzz_frame || { echo "fuzz_frame not built: needs clang (see PPOOL_BUILD_FUZZ)"; exit 1; }
	sh tests/fuzz/run.sh $(BUILD)/tests/fuzz/fuzz_frame tests/fuzz/corpus $(FUZZ_RUNS)

# The benchmarks: every workload, ppool and its peers side by side (local, then under mpirun), into
# bench/results/: results.jsonl, summary.md with the targets, scaling.svg. `make bench REPEATS=5`;
# `make bench BENCH_QUICK=1` for a short run (bench/README.md).
bench: build
	@sh bench/run.sh $(BUILD)

# ppool's own core and MPI transport on simulated clusters (SimGrid's SMPI; installs libsimgrid-dev).
bench-scale: deps
	@sh bench/scale/run.sh

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
