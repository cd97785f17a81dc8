# privacy-inbox — one non-recursive Makefile.
#
#   make            build build/privacy-inbox
#   make test       build and run every test (unit, spec, integration)
#   make demo       run the whole pipeline against throwaway servers
#   make asan       build and test with AddressSanitizer + UBSan in build-asan/
#   make fuzz       libFuzzer target for the parser (clang); make fuzz-run fuzzes it
#   make valgrind-parser   the parser's corpus tests under valgrind memcheck
#
# Each module folder is built into a static library so a unit test links one
# module plus what it depends on.  BUILD selects the output folder, so parallel
# work (and sanitizer builds) never share objects.

BUILD    ?= build
CC       ?= cc
PYTHON   ?= /usr/bin/python3
PREFIX   ?= /usr/local
# Where the shipped catalogue and rules are read from when the configuration
# does not say: the source tree for an uninstalled build.
DATADIR  ?= $(CURDIR)
VERSION  := 0.1.0

PKGS       := glib-2.0 gio-2.0 gmime-3.0 libcurl sqlite3 json-glib-1.0 gnutls libmagic libarchive uchardet libsodium \
              libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libetpan)
# libetpan's .pc carries -specs=…no-pie-link.specs, which breaks PIE and
# sanitizer links: filter it out.
PKG_LIBS   := $(filter-out -specs=%,$(shell pkg-config --libs $(PKGS) libetpan))

WARN   := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
          -Wcast-qual -Wwrite-strings -Wpointer-arith -Wvla
CSTD   := -std=c11 -D_GNU_SOURCE
OPT    ?= -O2 -g
CFLAGS_ALL  = $(CSTD) $(OPT) $(WARN) $(WERROR) -MMD -MP -I. $(PKG_CFLAGS) \
              -DPI_DATADIR='"$(DATADIR)"' -DPI_VERSION='"$(VERSION)"' $(SAN_FLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL = $(SAN_FLAGS) $(EXTRA_LDFLAGS)

ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ifeq ($(CI),1)
WERROR := -Werror
endif

# Rebuild everything when the flags change (CI=1, SANITIZE=1, OPT=…).
FLAGS_TEXT  = $(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) $(PKG_LIBS)
FLAGS_STAMP = $(BUILD)/flags.stamp
ifneq ($(FLAGS_TEXT),$(file <$(FLAGS_STAMP)))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_STAMP),$(FLAGS_TEXT))
endif

# Modules in link order (a module may only use those after it).
MODULES := web router fetcher sender parser templates store common
# What each module's unit tests link besides the module itself.
common_DEPS    :=
store_DEPS     := common
templates_DEPS := common
parser_DEPS    := common
sender_DEPS    := common
fetcher_DEPS   := common
router_DEPS    := store parser templates common
web_DEPS       := router sender parser templates store common

lib = $(BUILD)/lib$(1).a
srcs = $(wildcard $(1)/*.c)
objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(call srcs,$(1)))

ALL_LIBS := $(foreach m,$(MODULES),$(call lib,$(m)))
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS))

# Unit tests: tests/<module>/test_*.c → $(BUILD)/tests/<module>/test_*
UNIT_SRCS  := $(foreach m,$(MODULES),$(wildcard tests/$(m)/test_*.c))
UNIT_TESTS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))
TEST_SUPPORT_SRCS := $(wildcard tests/lib/*.c)
TEST_SUPPORT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_SUPPORT_SRCS))

.PHONY: all test unit-test integration-test demo asan soak bench-fetch fuzz fuzz-run valgrind-parser format clean install deps check-deps
all: $(BUILD)/privacy-inbox

$(BUILD)/privacy-inbox: $(CLI_OBJS) $(ALL_LIBS)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJS) $(ALL_LIBS) $(PKG_LIBS)

define module_rules
$(call lib,$(1)): $(call objs,$(1))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
$(BUILD)/obj/$(1)/%.o: $(1)/%.c $(FLAGS_STAMP)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) -DG_LOG_DOMAIN='"$(1)"' -c -o $$@ $$<
$(BUILD)/tests/$(1)/%: tests/$(1)/%.c $(FLAGS_STAMP) $(call lib,$(1)) $(foreach d,$($(1)_DEPS),$(call lib,$(d))) $(TEST_SUPPORT_OBJS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) -DG_LOG_DOMAIN='"test"' -DPI_SRCDIR='"$(CURDIR)"' -o $$@ $$< $(TEST_SUPPORT_OBJS) \
	    $(call lib,$(1)) $(foreach d,$($(1)_DEPS),$(call lib,$(d))) $$(LDFLAGS_ALL) $(PKG_LIBS)
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

$(BUILD)/obj/cli/%.o: cli/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DG_LOG_DOMAIN='"privacy-inbox"' -c -o $@ $<
$(BUILD)/obj/tests/lib/%.o: tests/lib/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DG_LOG_DOMAIN='"test"' -DPI_SRCDIR='"$(CURDIR)"' -c -o $@ $<

# ---- tests ---------------------------------------------------------------
check-deps:
	@scripts/install-deps --check

unit-test: $(UNIT_TESTS)
	@scripts/run-tests --build $(BUILD) --unit $(UNIT_TESTS)

integration-test: $(BUILD)/privacy-inbox
	@scripts/run-tests --build $(BUILD) --integration

test: check-deps all $(UNIT_TESTS)
	@scripts/run-tests --build $(BUILD) --unit $(UNIT_TESTS) --integration

demo: check-deps all
	@scripts/demo --build $(BUILD)

# The long SIGKILL test of the daemon: 300 requests, 20 kills (about 10 min).
soak: check-deps all
	@PI_SOAK_MESSAGES=$${PI_SOAK_MESSAGES:-300} PI_SOAK_KILLS=$${PI_SOAK_KILLS:-20} \
	    PI_TEST_TIMEOUT=3600 scripts/run-tests --build $(BUILD) --integration test_daemon.ExactlyOnce

# Fetch-to-ticket throughput and memory next to mbsync (bench/fetch/run.py).
bench-fetch: check-deps all
	$(PYTHON) bench/fetch/run.py --build $(BUILD) $(BENCH_ARGS)

asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 OPT='-O1 -g' test

# ---- fuzzing (clang + libFuzzer; never part of libparser.a or `make test`) ----
# The parser and common sources are compiled again with the fuzzer's
# instrumentation into $(BUILD)/fuzz; `make fuzz-run` copies tests/fixtures and tests/corpus
# into a corpus under /tmp and fuzzes for FUZZ_SECONDS.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 900
FUZZ_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_SRCS    := $(wildcard parser/*.c) $(wildcard common/*.c)
FUZZ_OBJS    := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_SRCS))
FUZZ_CFLAGS   = $(CSTD) -O1 -g $(WARN) $(WERROR) -MMD -MP -I. $(PKG_CFLAGS) -DPI_DATADIR='"$(DATADIR)"' \
                -DPI_VERSION='"$(VERSION)"' -DPI_SRCDIR='"$(CURDIR)"' $(FUZZ_SAN)

fuzz: $(BUILD)/fuzz/fuzz-parser
$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DG_LOG_DOMAIN='"fuzz"' -c -o $@ $<
$(BUILD)/fuzz/fuzz-parser: tests/fuzz/fuzz-parser.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DG_LOG_DOMAIN='"fuzz"' -o $@ $(filter %.c %.o,$^) $(PKG_LIBS)
fuzz-run: fuzz
	tests/fuzz/run --build $(BUILD) --seconds $(FUZZ_SECONDS)

# ---- valgrind (memcheck) over the parser: a second opinion to ASan ------------
VALGRIND ?= valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=30 \
            --suppressions=/usr/share/glib-2.0/valgrind/glib.supp --suppressions=tests/parser/valgrind.supp
valgrind-parser: $(BUILD)/tests/parser/test_public $(BUILD)/tests/parser/test_corpus
	G_SLICE=always-malloc G_DEBUG=gc-friendly $(VALGRIND) $(BUILD)/tests/parser/test_public
	G_SLICE=always-malloc G_DEBUG=gc-friendly $(VALGRIND) $(BUILD)/tests/parser/test_corpus

format:
	clang-format -i $(foreach m,$(MODULES) cli tests/lib,$(wildcard $(m)/*.[ch])) $(foreach m,$(MODULES),$(wildcard tests/$(m)/*.c))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/privacy-inbox
	install -m 0755 $(BUILD)/privacy-inbox $(DESTDIR)$(PREFIX)/bin/privacy-inbox
	cp -r templates $(DESTDIR)$(PREFIX)/share/privacy-inbox/
	install -m 0644 parser/request-rules.ini $(DESTDIR)$(PREFIX)/share/privacy-inbox/

clean:
	rm -rf build build-*

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz -name '*.d' 2>/dev/null)
