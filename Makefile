# lurewall: hand-written Makefile (after git's).  configure writes
# config.mak.autogen; config.mak holds local overrides.  Without either
# it still builds with pkg-config's answers.
#
#   make                 build lurewall-milter and lurewall
#   make check           install missing deps, configure, build, run t/
#   make run             install missing deps, build, start the milter
#   make install         PREFIX, DESTDIR, sbindir, mandir, sysconfdir,
#                        INIT=auto|systemd|sysv|none (the service)
#   make DEVELOPER=1     warnings are errors
#   make SANITIZE=address,undefined

-include config.mak.autogen
-include config.mak

PREFIX ?= /usr/local
prefix ?= $(PREFIX)
sbindir ?= $(prefix)/sbin
bindir ?= $(prefix)/bin
mandir ?= $(prefix)/share/man
sysconfdir ?= /etc
DESTDIR ?=
# The service: auto installs the systemd unit when systemd runs here,
# else the LSB init script when the host has /etc/init.d, else nothing.
INIT ?= auto
systemdunitdir ?= $(sysconfdir)/systemd/system
initdir ?= $(sysconfdir)/init.d

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS = libmagic libzip libarchive liblzma libpcre2-8 yaml-0.1 libcrypto nettle \
	zlib lmdb hiredis icu-uc icu-i18n
PKG_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS ?= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
MILTER_LIBS ?= -lmilter
# libmicrohttpd serves the daemon's /metrics (lurewall-milter only).
MHD_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS ?= $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null)
EXTRA_LIBS ?= -lunistring -lpthread
# libbz2 (no pkg-config file on Debian): BZip2 folders of encrypted 7z.
BZ2_LIBS ?= -lbz2

CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-unused-parameter
ifdef DEVELOPER
WARNINGS += -Werror
endif
ifdef SANITIZE
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DSYSCONFDIR='"$(sysconfdir)"' \
	-iquote milter $(WARNINGS) $(PKG_CFLAGS) $(MHD_CFLAGS) $(CFLAGS)
ALL_LIBS = $(PKG_LIBS) $(BZ2_LIBS) $(EXTRA_LIBS)
# Each compile writes a .d file beside its output naming the headers it
# read, so a header change rebuilds only its users; -MP adds a phony
# target per header, so a removed header does not break the build.
DEPFLAGS = -MMD -MP

# The engine: every stage that does not know libmilter.
LIB_OBJS =
LIB_OBJS += milter/lurewall.o
LIB_OBJS += milter/util.o
LIB_OBJS += milter/json.o
LIB_OBJS += milter/log.o
LIB_OBJS += milter/rules.o
LIB_OBJS += milter/charset.o
LIB_OBJS += milter/iso2022jp.o
LIB_OBJS += milter/html.o
LIB_OBJS += milter/address.o
LIB_OBJS += milter/mime.o
LIB_OBJS += milter/filetype.o
LIB_OBJS += milter/filetype_fast.o
LIB_OBJS += milter/html_behaviour.o
LIB_OBJS += milter/content.o
LIB_OBJS += milter/pwcand.o
LIB_OBJS += milter/pbkdf2.o
LIB_OBJS += milter/zipaes.o
LIB_OBJS += milter/zipdec.o
LIB_OBJS += milter/zipcrypto.o
LIB_OBJS += milter/archive.o
LIB_OBJS += milter/archive_peek.o
LIB_OBJS += milter/container.o
LIB_OBJS += milter/fatimg.o
LIB_OBJS += milter/rar5.o
LIB_OBJS += milter/transport.o
LIB_OBJS += milter/onenote.o
LIB_OBJS += milter/embedded.o
LIB_OBJS += milter/sevenz.o
LIB_OBJS += milter/sevenz_dec.o
LIB_OBJS += milter/tnef.o
LIB_OBJS += milter/officecrypt.o
LIB_OBJS += milter/rc4crypt.o
LIB_OBJS += milter/office.o
LIB_OBJS += milter/cfb.o
LIB_OBJS += milter/ovba.o
LIB_OBJS += milter/xls.o
LIB_OBJS += milter/ooxml.o
LIB_OBJS += milter/extref.o
LIB_OBJS += milter/rtf.o
LIB_OBJS += milter/xlm.o
LIB_OBJS += milter/sylk.o
LIB_OBJS += milter/hijack.o
LIB_OBJS += milter/hijack_quote.o
LIB_OBJS += milter/rules_custom.o
LIB_OBJS += milter/names.o
LIB_OBJS += milter/lookalike.o
LIB_OBJS += milter/thread.o
LIB_OBJS += milter/duration.o
LIB_OBJS += milter/argv.o
LIB_OBJS += milter/spawn.o
LIB_OBJS += milter/yamlutil.o
LIB_OBJS += milter/config.o
LIB_OBJS += milter/config_net.o
LIB_OBJS += milter/config_learn.o
LIB_OBJS += milter/policy.o
LIB_OBJS += milter/policy_yaml.o
LIB_OBJS += milter/policy_apply.o
LIB_OBJS += milter/policy_people.o
LIB_OBJS += milter/policy_print.o
LIB_OBJS += milter/verdict.o
LIB_OBJS += milter/envelope.o
LIB_OBJS += milter/scan.o
LIB_OBJS += milter/quarantine.o
LIB_OBJS += milter/quarantine_meta.o
LIB_OBJS += milter/quarantine_release.o
LIB_OBJS += milter/quarantine_index.o
LIB_OBJS += milter/splitppap.o
LIB_OBJS += milter/splitppap_remote.o
LIB_OBJS += milter/splitppap_sweep.o
LIB_OBJS += milter/outbound.o
LIB_OBJS += milter/outbreak.o
LIB_OBJS += milter/outbreak_fs.o
LIB_OBJS += milter/outbreak_alert.o
LIB_OBJS += milter/runtime.o
LIB_OBJS += milter/disposition.o
LIB_OBJS += milter/pidfile.o
LIB_OBJS += milter/outbreak_state.o
LIB_OBJS += milter/state.o
LIB_OBJS += milter/state_fallback.o
LIB_OBJS += milter/state_files.o
LIB_OBJS += milter/state_lmdb.o
LIB_OBJS += milter/state_redis.o
LIB_OBJS += milter/state_redis_conn.o
LIB_OBJS += milter/state_redis_each.o
LIB_OBJS += milter/state_redis_many.o
LIB_OBJS += milter/learn.o
LIB_OBJS += milter/learn_rec.o
LIB_OBJS += milter/learn_find.o
LIB_OBJS += milter/learn_batch.o
LIB_OBJS += milter/hijack_learn.o
LIB_OBJS += milter/metrics.o
LIB_OBJS += milter/allow.o
LIB_OBJS += milter/notice.o
LIB_OBJS += milter/confdiff.o
LIB_OBJS += milter/mailbox.o
# msgbuf knows no libmilter: in the library so t/ can test it.
LIB_OBJS += milter/msgbuf.o
# So is the count of callbacks a stop waits for (drain.h).
LIB_OBJS += milter/drain.o

MILTER_OBJS =
MILTER_OBJS += milter/milter.o
MILTER_OBJS += milter/daemon.o
MILTER_OBJS += milter/metrics_http.o

CLI_OBJS =
CLI_OBJS += milter/cli.o
CLI_OBJS += milter/cli_quarantine.o
CLI_OBJS += milter/cli_qhold.o
CLI_OBJS += milter/cli_qremote.o
CLI_OBJS += milter/cli_qview.o
CLI_OBJS += milter/cli_qdigest.o
CLI_OBJS += milter/cli_outbreak.o
CLI_OBJS += milter/cli_stats.o
CLI_OBJS += milter/cli_count.o
CLI_OBJS += milter/cli_verb.o
CLI_OBJS += milter/cli_learn.o
CLI_OBJS += milter/cli_learn_import.o

LIB = milter/liblurewall.a
PROGRAMS = lurewall-milter lurewall
BENCH_PROG = bench/lwbench

# Tests: every t/NNNN-name.c is a TAP program linked with the engine;
# every t/NNNN-name.sh runs as it is.
TEST_SRCS = $(sort $(wildcard t/[0-9][0-9][0-9][0-9]-*.c))
TEST_PROGS = $(TEST_SRCS:.c=)
TEST_SCRIPTS = $(sort $(wildcard t/[0-9][0-9][0-9][0-9]-*.sh))
TEST_HELPERS = t/tap.o

-include t/fuzz/fuzz.mak

.PHONY: all check check-run test run install clean distclean deps \
	configure-if-needed bench bench-state bench-learn bench-learn-redis \
	fuzz

all: $(PROGRAMS)

$(LIB): $(LIB_OBJS)
	$(RM) $@
	$(AR) rcs $@ $(LIB_OBJS)

lurewall-milter: $(MILTER_OBJS) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(MILTER_OBJS) $(LIB) \
	    $(MILTER_LIBS) $(MHD_LIBS) $(ALL_LIBS)

lurewall: $(CLI_OBJS) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(ALL_LIBS)

milter/%.o: milter/%.c config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

t/tap.o: t/tap.c config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -It -c -o $@ $<

t/%: t/%.c $(TEST_HELPERS) $(LIB)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -It $(LDFLAGS) -o $@ $< \
	    $(TEST_HELPERS) $(LIB) $(ALL_LIBS)

# Rebuild everything when the flags change (plain <-> sanitizer build).
FLAGS_NOW = $(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) $(ALL_LIBS) $(MHD_LIBS)
config.mak.stamp: FORCE
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
FORCE:

# Set-up: install what is missing, then configure once.
deps:
	@sh contrib/install-deps

configure-if-needed:
	@test -f config.mak.autogen || { \
	    test -x configure || autoreconf -i; \
	    ./configure; }

check: deps configure-if-needed
	@$(MAKE) --no-print-directory check-run

check-run: all $(TEST_PROGS) $(BENCH_PROG) bench/memwatch bench/nullmilter
	LW_TOP=$(CURDIR) prove $(PROVE_OPTS) $(TEST_PROGS) $(TEST_SCRIPTS)

test: check-run

run: deps configure-if-needed
	@$(MAKE) --no-print-directory all
	./contrib/run-milter

# Benchmarks (bench/bench.sh; figures in README "Performance").  The
# MTA part needs root and Postfix; BENCH_OPTS=--no-mta skips it.

# What lwbench and floor share: the message loader and the clock.
bench/load.o: bench/load.c config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ bench/load.c

$(BENCH_PROG): bench/lwbench.c bench/load.o $(LIB) config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ bench/lwbench.c \
	    bench/load.o $(LIB) $(ALL_LIBS)

# The decode+inflate floor the engine is measured against (issue 22).
bench/floor: bench/floor.c bench/load.o $(LIB) config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ bench/floor.c \
	    bench/load.o $(LIB) $(ALL_LIBS)

# bench/mta.sh's helpers: the milter's memory sampled without forking,
# and a milter that does nothing (the floor under lurewall's ratio).
bench/memwatch: bench/memwatch.c config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ bench/memwatch.c

bench/nullmilter: bench/nullmilter.c config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ bench/nullmilter.c \
	    $(MILTER_LIBS) -lpthread

bench: all $(BENCH_PROG) bench/floor bench/memwatch bench/nullmilter \
    bench/learnbench bench/statebench
	sh bench/bench.sh $(BENCH_OPTS)
	$(MAKE) --no-print-directory bench-state
	$(MAKE) --no-print-directory bench-learn

# The state's cost per message on each backend, Redis on a private
# redis-server on loopback (README).
bench/statebench: bench/statebench.c $(LIB) config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ bench/statebench.c \
	    $(LIB) $(ALL_LIBS)

bench-state: bench/statebench
	bench/statebench bench/out/state 1000

# Learning from outbound mail: ms per message added and looked up with
# 100,000 correspondents and 1,000,000 threads (README).  Minutes.
bench/learnbench: bench/learnbench.c $(LIB) config.mak.stamp
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ bench/learnbench.c \
	    $(LIB) $(ALL_LIBS)

bench-learn: bench/learnbench
	@mkdir -p bench/out
	bench/learnbench bench/out/learn

# The batched add on a private redis-server (README).
bench-learn-redis: bench/learnbench
	sh bench/learn-redis.sh

install: all
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(mandir)/man5 \
	    $(DESTDIR)$(mandir)/man8 $(DESTDIR)$(sysconfdir)/lurewall/policy.d \
	    $(DESTDIR)$(sysconfdir)/lurewall/notice
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(sbindir)/
	install -m 0644 man/*.5 $(DESTDIR)$(mandir)/man5/
	install -m 0644 man/*.8 $(DESTDIR)$(mandir)/man8/
	@# The admin's files are never overwritten; .sample files are
	@# documentation and always follow the release.
	@for f in conf/lurewall.yaml conf/policy.d/*.yaml \
	    conf/policy.d/*.sample conf/notice/*.txt; do \
	    dst=$(DESTDIR)$(sysconfdir)/lurewall/$${f#conf/}; \
	    case $$f in *.sample) install -m 0644 "$$f" "$$dst"; \
	        continue ;; esac; \
	    if test -e "$$dst"; then echo "keeping existing $$dst"; \
	    else install -m 0644 "$$f" "$$dst"; fi; done
	@init='$(INIT)'; \
	if test "$$init" = auto; then \
	    if test -d /run/systemd/system; then init=systemd; \
	    elif test -d /etc/init.d; then init=sysv; else init=none; fi; \
	    echo "INIT=auto: $$init"; fi; \
	case $$init in \
	systemd) src=contrib/lurewall-milter.service; \
	    dir=$(DESTDIR)$(systemdunitdir); \
	    dst=$$dir/lurewall-milter.service; mode=0644 ;; \
	sysv) src=contrib/lurewall-milter.init; dir=$(DESTDIR)$(initdir); \
	    dst=$$dir/lurewall-milter; mode=0755 ;; \
	none) exit 0 ;; \
	*) echo "INIT=$$init: use auto, systemd, sysv or none" >&2; \
	    exit 1 ;; \
	esac; \
	if test -e "$$dst"; then echo "keeping existing $$dst"; exit 0; fi; \
	install -d "$$dir" && \
	sed -e 's|/usr/sbin/lurewall|$(sbindir)/lurewall|g' \
	    -e 's|/etc/lurewall/|$(sysconfdir)/lurewall/|g' "$$src" \
	    >"$$dst.tmp" && chmod $$mode "$$dst.tmp" && \
	mv "$$dst.tmp" "$$dst" && echo "installed $$dst"

clean:
	$(RM) milter/*.o milter/*.a t/*.o $(PROGRAMS) $(TEST_PROGS) \
	    $(BENCH_PROG) bench/floor bench/memwatch bench/nullmilter \
	    bench/statebench bench/learnbench \
	    config.mak.stamp
	$(RM) milter/*.d t/*.d t/fuzz/*.o t/fuzz/*.d bench/*.o bench/*.d
	$(RM) -r t/tmp

# The headers each object and program was built from (DEPFLAGS).
-include $(wildcard milter/*.d t/*.d bench/*.d)

distclean: clean
	$(RM) -r config.mak.autogen config.status config.log configure \
	    autom4te.cache
