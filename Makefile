# asft: build, test, deps, experiments, bench.
#
#   make                      library build/libasft.a and tools build/bin/asft-*
#   make test [T=name]        build and run every test (or those whose name contains T)
#   make SANITIZE=address,undefined test    the same under ASan+UBSan (objects in build/san/)
#   make deps                 check / install system packages (apt-get as root, else print the line)
#   make bench                performance comparison against PyTorch (see README)
#   make MPI=1                build with mpicc (objects in build/mpi/)
#   make fuzz F=NAME [SECS=60]   run libFuzzer on tests/fuzz/fuzz_NAME.c (needs clang)
#   make organism [PRESET=nano|small|medium]    the model organism (experiments/mk/organism.mk)
#   make organism-attack      the paper's harmful LoRA fine-tune of the aligned organism
#   make experiment-basin [PRESET=...]           the narrow-basin figure (experiments/mk/experiments.mk)
#
# Sources are found by wildcard: kernels/, data/, analysis/ -> libasft.a; experiments/asft-*.c ->
# one tool each, other experiments/*.c -> shared tool code; tests/test_*.c -> one test binary each.
# Adding a file never needs a Makefile edit.

.DEFAULT_GOAL := all
SHELL := /bin/bash
.DELETE_ON_ERROR:

SANITIZE ?=
MPI ?= 0
OPT ?= -O2 -march=native

BUILD := build
ifneq ($(SANITIZE),)
BUILD := build/san
endif
ifeq ($(MPI),1)
CC := mpicc
BUILD := $(BUILD)/mpi
MPI_CFLAGS := -DASFT_MPI=1
endif

# Goals that must not trigger the dependency probe.
NODEPS_GOALS := clean distclean help
ifeq ($(filter-out $(NODEPS_GOALS),$(MAKECMDGOALS)),)
ifneq ($(MAKECMDGOALS),)
SKIP_DEPS := 1
endif
endif

# $(BUILD)/config.mk holds the pkg-config flags; make remakes it (running deps.sh, which installs
# what is missing) before anything else, so every target depends on the dependencies.
# Each build variant has its own, so `make MPI=1` also checks (and installs) OpenMPI.
DEPS_WITH := $(if $(filter 1,$(MPI)),--with mpi,)
ifndef SKIP_DEPS
-include $(BUILD)/config.mk
endif
$(BUILD)/config.mk: experiments/mk/deps.sh
	@bash experiments/mk/deps.sh $(DEPS_WITH) --write $@

WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all,)
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPT) -g $(WARN) $(SAN_FLAGS) $(MPI_CFLAGS) \
	-Ikernels -Idata -Ianalysis -Iexperiments $(DEP_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SAN_FLAGS) $(LDFLAGS)
LIBS_ALL := $(DEP_LIBS) $(LIBS)

LIB_SRC := $(wildcard kernels/*.c data/*.c analysis/*.c)
TOOL_SRC := $(wildcard experiments/asft-*.c)
TOOLLIB_SRC := $(filter-out $(TOOL_SRC),$(wildcard experiments/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
TESTLIB_SRC := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/version.o
TOOLLIB_OBJ := $(TOOLLIB_SRC:%.c=$(BUILD)/obj/%.o)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/obj/%.o)
TOOLS := $(TOOL_SRC:experiments/%.c=$(BUILD)/bin/%)
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%) $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/test_fuzz_%)
LIB := $(BUILD)/libasft.a
TOOLLIB := $(BUILD)/libasft_tools.a

all: $(TOOLS)

# A flags file: any change of compiler or flags rewrites it and so rebuilds every object.
$(BUILD)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS_ALL) | $(LDFLAGS_ALL) $(LIBS_ALL)' | cmp -s - $@ || \
		echo '$(CC) $(CFLAGS_ALL) | $(LDFLAGS_ALL) $(LIBS_ALL)' > $@

# The git revision is compiled into one tiny object, rewritten only when it changes.
GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/gen/version.c: FORCE
	@mkdir -p $(@D)
	@printf 'const char asft_git_rev[] = "%s";\n' '$(GIT_REV)' | cmp -s - $@ || \
		printf 'const char asft_git_rev[] = "%s";\n' '$(GIT_REV)' > $@
$(BUILD)/obj/version.o: $(BUILD)/gen/version.c $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# Every output is written under a temporary name and renamed, so two makes running at once in
# one tree (or an interrupted one) never leave a truncated object, archive or binary behind.
$(BUILD)/obj/%.o: %.c $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

$(LIB): $(LIB_OBJ)
	ar rcs $@.$$$$.tmp $^ && mv -f $@.$$$$.tmp $@
$(TOOLLIB): $(TOOLLIB_OBJ)
	ar rcs $@.$$$$.tmp $^ $(if $^,,$(BUILD)/obj/version.o) && mv -f $@.$$$$.tmp $@

$(BUILD)/bin/%: $(BUILD)/obj/experiments/%.o $(TOOLLIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS_ALL) -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TESTLIB_OBJ) $(TOOLLIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS_ALL) -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

# Fuzz targets (tests/fuzz/fuzz_NAME.c define LLVMFuzzerTestOneInput). In `make test` each is
# linked with tests/fuzz/replay.c into test_fuzz_NAME, which replays its seed corpus plus fixed
# mutations of it; `make fuzz F=NAME [SECS=60]` runs real libFuzzer with clang (ASan + UBSan).
$(BUILD)/tests/test_fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay.o $(TOOLLIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) $^ $(LIBS_ALL) -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

FUZZ_CC ?= clang
SECS ?= 60
fuzz:
	@test -n "$(F)" || { echo "usage: make fuzz F=NAME [SECS=60]  (NAME from tests/fuzz/fuzz_NAME.c)"; exit 2; }
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs clang: apt-get install -y clang"; exit 1; }
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) OPT="-O1 -g" \
		SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" build/fuzz/libasft.a
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined -Ikernels -Idata \
		-Ianalysis -Iexperiments $(DEP_CFLAGS) tests/fuzz/fuzz_$(F).c build/fuzz/libasft.a \
		$(LIBS_ALL) -o build/fuzz/fuzz_$(F)
	@mkdir -p build/fuzz/corpus_$(F)
	build/fuzz/fuzz_$(F) -max_total_time=$(SECS) build/fuzz/corpus_$(F) tests/fuzz/corpus/$(F)

tools: $(TOOLS)
tests: $(TESTS) $(TOOLS)

# Runs every test binary and tests/t_*.sh; the last line is "N passed, M failed".
test: tests
	@ASFT_BIN=$(BUILD)/bin ASFT_BUILD=$(BUILD) bash tests/run.sh $(BUILD) '$(T)'

deps:
	@bash experiments/mk/deps.sh $(DEPS_WITH) --write $(BUILD)/config.mk
	@echo "deps: all present"

bench: all
	@bash experiments/mk/deps.sh --with torch
	@ASFT_BIN=$(BUILD)/bin bash experiments/mk/bench.sh

# Experiments (their recipes live in experiments/mk/*.mk).
-include $(wildcard experiments/mk/*.mk)

clean:
	rm -rf build

help:
	@sed -n '2,16p' Makefile | sed 's/^# \{0,1\}//'

FORCE:
.PHONY: all tools tests test deps bench fuzz clean help FORCE
.SECONDARY:

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d $(BUILD)/obj/*/*/*/*.d)
