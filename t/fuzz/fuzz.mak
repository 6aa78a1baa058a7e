# t/fuzz/fuzz.mak: the libFuzzer targets (t/fuzz/fuzz_*.c) and their
# corpus replay in make check.  Included by the Makefile.  A new target
# is a new t/fuzz/fuzz_NAME.c with seeds in t/corpus/NAME/: nothing to
# add here.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="mime scan"]
#	builds every target with clang -fsanitize=fuzzer,address,undefined
#	in build/fuzz/ (its own objects: never mixed with the tree's plain
#	or sanitizer build) and runs each FUZZ_SECONDS on a scratch copy
#	of t/corpus/NAME/, so new corpus items stay out of git.  A crash
#	leaves build/fuzz/crash/NAME-crash-* and fails the target; copy it
#	to t/corpus/NAME/ (the replay keeps it fixed) and fix the stage.
#	make -j2 fuzz runs two targets at a time.
#   make fuzz-build	only builds them.
#
# make check: t/7000-fuzz-NAME is t/fuzz-replay.c (a plain main()) linked
# with t/fuzz/fuzz_NAME.c and the tree's library, built with the tree's
# flags (so the sanitizer run replays under ASan too); it feeds every
# file of t/corpus/NAME/ to LLVMFuzzerTestOneInput and prints TAP.
# policy has its own replay test (t/4003-fuzz-policy).

# Included before the Makefile's first rule: keep `all` the default.
.DEFAULT_GOAL := all

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
# Per input: anything slower is a hang (the scan budget is 5 s in there).
FUZZ_TIMEOUT ?= 30
FUZZ_RSS_MB ?= 2048
FUZZ_DIR = build/fuzz
FUZZ_ALL = $(patsubst t/fuzz/fuzz_%.c,%,$(sort $(wildcard t/fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -DSYSCONFDIR='"$(sysconfdir)"' \
	-iquote milter $(WARNINGS) $(PKG_CFLAGS) -g -O1 $(FUZZ_SAN)
FUZZ_LIB_OBJS = $(patsubst milter/%.o,$(FUZZ_DIR)/%.o,$(LIB_OBJS))
FUZZ_LIB = $(FUZZ_DIR)/liblurewall.a

.PHONY: fuzz fuzz-build fuzz-clean $(FUZZ_ALL:%=fuzz-run-%)

fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

FUZZ_BINS = $(FUZZ_ALL:%=$(FUZZ_DIR)/fuzz_%)

# Static pattern rules: build/fuzz/fuzz_x.o would match fuzz_% too.
$(FUZZ_LIB_OBJS): $(FUZZ_DIR)/%.o: milter/%.c
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

$(FUZZ_BINS:=.o): $(FUZZ_DIR)/%.o: t/fuzz/%.c
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

-include $(wildcard $(FUZZ_DIR)/*.d)

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(RM) $@
	$(AR) rcs $@ $(FUZZ_LIB_OBJS)

$(FUZZ_BINS): $(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) \
	    $(ALL_LIBS)

# The fuzzer writes new inputs into its first directory only: the
# scratch copy.  t/corpus/NAME is read, never written.
$(FUZZ_ALL:%=fuzz-run-%): fuzz-run-%: $(FUZZ_DIR)/fuzz_%
	@mkdir -p $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/crash
	@echo "fuzz $*: $(FUZZ_SECONDS) s"
	LW_TOP=$(CURDIR) $(FUZZ_DIR)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=$(FUZZ_RSS_MB) \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crash/$*- \
	    $(FUZZ_DIR)/corpus/$* $(wildcard t/corpus/$*) \
	    > $(FUZZ_DIR)/$*.log 2>&1 || \
	    { tail -60 $(FUZZ_DIR)/$*.log; echo "fuzz $*: FAILED"; exit 1; }
	@grep -E '^(Done|stat::number_of_executed_units)' \
	    $(FUZZ_DIR)/$*.log | sed 's/^/fuzz $*: /'

fuzz-clean:
	$(RM) -r $(FUZZ_DIR)

# Corpus replay in make check.
FUZZ_REPLAY = $(filter-out policy,$(FUZZ_ALL))
FUZZ_REPLAY_PROGS = $(FUZZ_REPLAY:%=t/7000-fuzz-%)
TEST_PROGS += $(FUZZ_REPLAY_PROGS)

# The target is compiled on its own (t/fuzz/fuzz_NAME.o, tree flags),
# so each compile writes its own .d file.
t/fuzz/%.o: t/fuzz/%.c config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(FUZZ_REPLAY_PROGS): t/7000-fuzz-%: t/fuzz-replay.c t/fuzz/fuzz_%.o \
    $(TEST_HELPERS) $(LIB)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -It $(LDFLAGS) -DFUZZ_NAME='"$*"' \
	    -o $@ t/fuzz-replay.c t/fuzz/fuzz_$*.o $(TEST_HELPERS) $(LIB) \
	    $(ALL_LIBS)

-include $(wildcard t/fuzz/*.d)
