# certroll: the commands people run. See README.md.
#
#   make          build build/bin/certroll and build/bin/certroll-agent
#   make deps     install the Debian packages the project needs (root)
#   make test     deps + build + every test, then the unit tests under ASan
#   make demo     deps + build + lab up + plan + rolling renewal + lab down
#   make lint     clang-format check, clang-tidy and cppcheck
#   make fuzz     deps + fuzz preset + every libFuzzer target for FUZZ_SECONDS
#                 (default 60) each; FUZZ_TARGETS=ydoc,pem picks some
#   make format   reformat the tree with clang-format
#   make bench    deps + build + certroll next to kubectl, Ansible and ssh
#                 (docs/benchmarks.md); BENCH_ONLY=drain|check|rollout|memory,
#                 BENCH_RUNS=N (default 3); the lab parts need root
#   make faults   deps + build + the fault matrix on the lab (root); FAULTS=
#                 picks cases (tests/faults/faults --list)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_ARGS ?=

.PHONY: all build deps test test-release test-asan format lint clean
.PHONY: fuzz

all: build

deps:
	@cmake/deps.sh

build:
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

test: deps build
	@$(MAKE) --no-print-directory test-release test-asan

test-release:
	ctest --preset release -j $(JOBS) $(CTEST_ARGS)

test-asan:
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	ctest --preset asan -j $(JOBS) -L unit $(CTEST_ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	@cmake/deps.sh lint
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')
	@cmake --preset tidy >/dev/null
	@cmake --build --preset tidy -j $(JOBS)
	cppcheck --project=build/tidy/compile_commands.json --std=c11 \
	  --enable=warning,performance,portability --error-exitcode=1 \
	  --inline-suppr --suppress=missingIncludeSystem -q

clean:
	rm -rf build

fuzz:
	@tests/fuzz/run-fuzz

# make demo (tests/lab/demo): needs root. The build runs quietly into
# build/demo-build.log; KEEP=1 keeps the lab afterwards.
KEEP ?= 0
.PHONY: demo
demo: deps
	@mkdir -p build
	@echo "make demo: building (log: build/demo-build.log)"
	@$(MAKE) --no-print-directory build >build/demo-build.log 2>&1 || \
	  { tail -n 30 build/demo-build.log; \
	    echo "make demo: the build failed; see build/demo-build.log" >&2; exit 1; }
	@KEEP=$(KEEP) tests/lab/demo

# make faults (tests/faults/faults): needs root; one short lab per case,
# results in build/faults/results (docs/reliability.md, "Faults").
FAULTS ?= all
.PHONY: faults
faults: deps build
	@cmake/deps.sh faults
	@FAULTS_OUT=$(CURDIR)/build/faults CR_BIN_DIR=$(CURDIR)/build/bin \
	  tests/faults/faults $(FAULTS)

# make bench (bench/run): about 30 minutes; results in build/bench/STAMP/.
BENCH_ONLY ?=
BENCH_RUNS ?= 3
.PHONY: bench
bench:
	@cmake/deps.sh bench
	@$(MAKE) --no-print-directory build
	@python3 bench/test_bench.py -q
	@BENCH_ONLY=$(BENCH_ONLY) BENCH_RUNS=$(BENCH_RUNS) \
	  CR_BIN_DIR=$(CURDIR)/build/bin bench/run
