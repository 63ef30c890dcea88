# coop.h -- plain GNU make. `make` builds every program into build/, `make test` runs the tests.
# SAN=1 builds an ASan+UBSan variant into build-san/.  CC=clang works too.
# `make cxx` checks that coop.h (implementation included) also compiles as C++ (CXX=clang++ works).
CC      ?= cc
CFLAGS  ?= -std=c11 -O2 -march=native -g
CXXFLAGS ?= -std=c++11 -O2 -march=native -g
WARN    := -Wall -Wextra -Werror
LDLIBS  := -lm -lpthread
BUILD   := build
ifeq ($(SAN),1)
  BUILD  := build-san
  CFLAGS := -std=c11 -O1 -g -march=native -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  CXXFLAGS := -std=c++11 -O1 -g -march=native -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

PROGS := $(patsubst tools/%.c,$(BUILD)/%,$(wildcard tools/*.c)) \
         $(patsubst examples/%.c,$(BUILD)/%,$(wildcard examples/*.c))
TESTS := $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))
# the libFuzzer harnesses of tests/fuzz/ built with a replay main(): `make test` runs them over
# the regression inputs in tests/fuzz/crashes/ (clang -fsanitize=fuzzer builds: tests/fuzz/README.md)
REPLAY := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/replay_%,$(wildcard tests/fuzz/fuzz_*.c))
HDRS  := coop.h

all: $(PROGS) $(TESTS) $(REPLAY)

$(BUILD)/%: tools/%.c $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) -I. $< -o $@ $(LDLIBS)
$(BUILD)/%: examples/%.c $(HDRS) | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) -I. $< -o $@ $(LDLIBS)
$(BUILD)/%: tests/%.c $(HDRS) tests/testutil.h | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) -I. $< -o $@ $(LDLIBS)
$(BUILD)/replay_%: tests/fuzz/fuzz_%.c $(HDRS) tests/fuzz/fuzz_common.h tests/fuzz/replay_main.h tools/convert.c | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) -DFUZZ_REPLAY -I. -Itests/fuzz $< -o $@ $(LDLIBS)
$(BUILD)/cxx_check: tests/cxx_check.cc $(HDRS) | $(BUILD)
	$(CXX) $(CXXFLAGS) $(WARN) -I. $< -o $@ $(LDLIBS)
$(BUILD):
	mkdir -p $@

test: all
	sh tests/run.sh $(BUILD)

demo: all
	BUILD=$(BUILD) sh examples/demo.sh

cxx: $(BUILD)/cxx_check

clean:
	rm -rf build build-san

.PHONY: all test demo cxx clean
