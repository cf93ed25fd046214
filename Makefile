# swrauth: Makefile. Every variable may be overridden on the command line;
# the names are the ones LuaRocks passes (LUA_INCDIR, CFLAGS, LIBFLAG,
# INST_LIBDIR, INST_LUADIR, INST_BINDIR).

LUA_VERSION   ?= 5.4
LUA           ?= lua$(LUA_VERSION)
PKG_CONFIG    ?= pkg-config
LUA_INCDIR    ?= $(shell $(PKG_CONFIG) --variable=includedir lua$(LUA_VERSION) 2>/dev/null)/lua$(LUA_VERSION)
OPENSSL_INCDIR ?= $(shell $(PKG_CONFIG) --variable=includedir openssl 2>/dev/null)
OPENSSL_LIBDIR ?= $(shell $(PKG_CONFIG) --variable=libdir openssl 2>/dev/null)

CC       ?= cc
AR       ?= ar
CFLAGS   ?= -O2 -g
WARN     ?= -Wall -Wextra -Wshadow -Wundef -Wwrite-strings \
            -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
            -Wcast-qual -Wformat=2
WERROR   ?=
LIBFLAG  ?= -shared
DEFS      = -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
ALL_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden \
            $(WARN) $(WERROR) $(DEFS) -Iinclude -Isrc \
            $(if $(OPENSSL_INCDIR),-I$(OPENSSL_INCDIR)) $(CPPFLAGS) $(CFLAGS)
LDLIBS_SSL = $(if $(OPENSSL_LIBDIR),-L$(OPENSSL_LIBDIR)) -lcrypto

PREFIX      ?= /usr/local
INST_LIBDIR ?= $(PREFIX)/lib/lua/$(LUA_VERSION)
INST_LUADIR ?= $(PREFIX)/share/lua/$(LUA_VERSION)
INST_BINDIR ?= $(PREFIX)/bin
INST_INCDIR ?= $(PREFIX)/include
INST_ARDIR  ?= $(PREFIX)/lib
# The man pages go to INST_MANDIR/man1 (uncompressed: dh_compress and the
# like compress them), the shell completions where each shell looks: zsh
# reads /usr/share/zsh/vendor-completions and /usr/local/share/zsh/
# site-functions (Debian's fpath).
INST_MANDIR      ?= $(PREFIX)/share/man
INST_BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INST_ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/$(if $(filter /usr,$(PREFIX)),vendor-completions,site-functions)
INST_FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
# The installed commands start with #!LUA_INTERP instead of the checkout's
# #!/usr/bin/env lua5.4: env's extra exec is a third of a credential
# helper `get` that docker runs on every pull and push (BENCHMARKS.md).
# Empty: keep the env line.
LUA_INTERP  ?= $(shell command -v $(LUA) 2>/dev/null)
# The installed modules are precompiled by LUAC: loading bytecode skips
# the parser, most of a command's start-up (BENCHMARKS.md). Debug
# information is kept, so errors still name file and line. Empty: install
# the sources.
LUAC        ?= $(shell command -v luac$(LUA_VERSION) 2>/dev/null)

BUILD     ?= build
CORE_SRCS := $(sort $(filter-out src/lswrauth.c,$(wildcard src/*.c)))
CORE_OBJS := $(CORE_SRCS:src/%.c=$(BUILD)/%.o)
BIND_OBJ  := $(BUILD)/lswrauth.o
CTESTS    := $(sort $(patsubst tests/c/%.c,$(BUILD)/%,$(wildcard tests/c/test_*.c)))
LUA_MODS  := $(sort $(wildcard lua/swrauth/*.lua))
LUA_CMDS  := $(sort $(wildcard lua/swrauth/cmd/*.lua))
BINS      := $(sort $(wildcard bin/*))
LUA_BC    := $(LUA_MODS:lua/swrauth/%.lua=$(BUILD)/luac/swrauth/%.lua)
LUA_CMD_BC := $(LUA_CMDS:lua/swrauth/%.lua=$(BUILD)/luac/swrauth/%.lua)

.PHONY: all install check ctests lint bench demo clean deps dist man

all: swrauth.so $(BUILD)/libswrauth.a

$(BUILD):
	mkdir -p $(BUILD)

$(BUILD)/%.o: src/%.c include/swrauth.h src/internal.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/lswrauth.o: src/lswrauth.c include/swrauth.h src/internal.h | $(BUILD)
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) -c $< -o $@

# The static archive holds the core and the binding, so a host that embeds
# Lua can link it and call luaopen_swrauth itself.
$(BUILD)/libswrauth.a: $(CORE_OBJS) $(BIND_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libswrauth-core.a: $(CORE_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

swrauth.so: $(CORE_OBJS) $(BIND_OBJ)
	$(CC) $(LIBFLAG) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS_SSL)

$(BUILD)/test_%: tests/c/test_%.c tests/c/tap.h $(BUILD)/libswrauth-core.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libswrauth-core.a $(LDFLAGS) $(LDLIBS_SSL)

# test_sign watches what the core wipes: it wraps swrauth_wipe.
$(BUILD)/test_sign $(BUILD)/asan/test_sign: LDFLAGS += -Wl,--wrap=swrauth_wipe

ctests: $(CTESTS)

# Installs the Debian packages the tests need when they are missing.
deps:
	@sh tools/deps.sh test

# The README's test command: installs what the tests need (as root), builds
# with -Werror and runs every suite; the last line is "N passed, N failed".
check:
	@sh tools/deps.sh test
	@$(MAKE) --no-print-directory WERROR=-Werror all ctests
	@sh tests/run.sh

lint:
	luacheck -q lua bin tests bench tools
	$(MAKE) --no-print-directory -B WERROR=-Werror all ctests

# The README's main command: a real release to a registry on loopback.
demo:
	@sh tools/deps.sh demo
	@$(MAKE) --no-print-directory all
	@sh tools/demo.sh

bench:
	@sh tools/deps.sh bench
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

$(BUILD)/luac/swrauth/%.lua: lua/swrauth/%.lua
	@mkdir -p $(@D)
	$(LUAC) -o $@ $<

install: all $(if $(LUAC),$(LUA_BC) $(LUA_CMD_BC))
	install -d $(DESTDIR)$(INST_LIBDIR) $(DESTDIR)$(INST_LUADIR)/swrauth/cmd \
	  $(DESTDIR)$(INST_BINDIR) $(DESTDIR)$(INST_INCDIR) $(DESTDIR)$(INST_ARDIR)
	install -m 0755 swrauth.so $(DESTDIR)$(INST_LIBDIR)/swrauth.so
	$(if $(LUA_MODS),install -m 0644 $(if $(LUAC),$(LUA_BC),$(LUA_MODS)) \
	  $(DESTDIR)$(INST_LUADIR)/swrauth/)
	$(if $(LUA_CMDS),install -m 0644 $(if $(LUAC),$(LUA_CMD_BC),$(LUA_CMDS)) \
	  $(DESTDIR)$(INST_LUADIR)/swrauth/cmd/)
	$(if $(BINS),install -m 0755 $(BINS) $(DESTDIR)$(INST_BINDIR)/)
	$(if $(and $(BINS),$(LUA_INTERP)),sed -i '1s|^#!/usr/bin/env $(LUA)$$|#!$(LUA_INTERP)|' \
	  $(addprefix $(DESTDIR)$(INST_BINDIR)/,$(notdir $(BINS))))
	install -m 0644 include/swrauth.h $(DESTDIR)$(INST_INCDIR)/swrauth.h
	install -m 0644 $(BUILD)/libswrauth.a $(DESTDIR)$(INST_ARDIR)/libswrauth.a
	install -d $(DESTDIR)$(INST_MANDIR)/man1 $(DESTDIR)$(INST_BASHCOMPDIR) \
	  $(DESTDIR)$(INST_ZSHCOMPDIR) $(DESTDIR)$(INST_FISHCOMPDIR)
	install -m 0644 man/swrauth.1 man/docker-credential-swr.1 $(DESTDIR)$(INST_MANDIR)/man1/
	install -m 0644 completion/swrauth.bash $(DESTDIR)$(INST_BASHCOMPDIR)/swrauth
	install -m 0644 completion/_swrauth $(DESTDIR)$(INST_ZSHCOMPDIR)/_swrauth
	install -m 0644 completion/swrauth.fish $(DESTDIR)$(INST_FISHCOMPDIR)/swrauth.fish

# The man pages (man/) and shell completions (completion/) are generated
# from the argparse parser and docs/ by tools/man.lua, and committed: the
# tarball and the rockspec ship them, LuaRocks cannot run the generator.
# Run after changing a command, an option or those docs; tests/manpages.sh
# fails while the committed files differ from what this writes.
man: swrauth.so
	$(LUA) tools/man.lua

# A release of the commit checked out: the tarball, the release rockspec
# and the source rock in DISTDIR (build/dist); DIST_URL, where the tarball
# will be published (tools/dist.sh).
dist:
	@DISTDIR=$(or $(DISTDIR),$(BUILD)/dist) $(if $(DIST_URL),DIST_URL=$(DIST_URL)) sh tools/dist.sh

clean:
	rm -rf $(BUILD) swrauth.so

# A host that embeds Lua and links swrauth statically.
LUA_LIB ?= $(shell $(PKG_CONFIG) --libs lua$(LUA_VERSION) 2>/dev/null || echo -llua$(LUA_VERSION))
$(BUILD)/test_embed: tests/c/embed.c $(BUILD)/libswrauth.a
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) -o $@ $< $(BUILD)/libswrauth.a $(LUA_LIB) $(LDLIBS_SSL) -lm

ctests: $(BUILD)/test_embed

# The core's tests again on the plain EVP digest path, the one taken when
# the provider's own SHA-256 functions cannot be found.
$(BUILD)/test_core_evp: tests/c/test_core.c tests/c/tap.h $(CORE_SRCS) include/swrauth.h src/internal.h
	$(CC) $(ALL_CFLAGS) -DSWRAUTH_NO_DIRECT_DIGEST -o $@ $< $(CORE_SRCS) $(LDFLAGS) $(LDLIBS_SSL)

ctests: $(BUILD)/test_core_evp

# The memory scans (no key material left after derive, verify, sha256) on
# the EVP path too.
$(BUILD)/test_memscan_evp: tests/c/test_memscan.c tests/c/tap.h $(CORE_SRCS) include/swrauth.h src/internal.h
	$(CC) $(ALL_CFLAGS) -DSWRAUTH_NO_DIRECT_DIGEST -o $@ $< $(CORE_SRCS) $(LDFLAGS) $(LDLIBS_SSL)

ctests: $(BUILD)/test_memscan_evp

# The wipes, observed: swrauth_wipe wrapped (-Wl,--wrap) in the core and
# the binding of the static archive, driven from C and from embedded Lua.
$(BUILD)/test_wipe: tests/c/test_wipe.c tests/c/tap.h $(BUILD)/libswrauth.a
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) -o $@ $< -Wl,--wrap=swrauth_wipe \
	  $(BUILD)/libswrauth.a $(LUA_LIB) $(LDLIBS_SSL) -lm

# ------------------------------------------------------------ fuzzing
# libFuzzer targets (fuzz/fuzz_*.c) built by clang with ASan and UBSan
# against the core's sources (not the gcc-built archive). See fuzz/README.md.
#   make fuzz                 each target for FUZZ_TIME seconds (default 60)
#   make fuzz FUZZ_TIME=600 FUZZ_TARGETS=fuzz_parse_login
#   make fuzz-replay          the committed corpus and regressions, once each
FUZZ_CC     ?= clang
FUZZ_CFLAGS ?= -g -O1 -fno-omit-frame-pointer
FUZZ_SAN    ?= -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_TIME   ?= 60
FUZZ_BUILD   = $(BUILD)/fuzz
FUZZ_ALL_TARGETS := $(sort $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_ALL_TARGETS)
FUZZ_BASE_CFLAGS = -std=c99 $(WARN) $(WERROR) $(DEFS) -Iinclude -Isrc \
            $(if $(OPENSSL_INCDIR),-I$(OPENSSL_INCDIR)) $(FUZZ_CFLAGS) $(FUZZ_SAN)
FUZZ_CORE_OBJS := $(CORE_SRCS:src/%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/%.o: src/%.c include/swrauth.h src/internal.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_BASE_CFLAGS) -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h include/swrauth.h $(FUZZ_CORE_OBJS)
	$(FUZZ_CC) $(FUZZ_BASE_CFLAGS) -D_GNU_SOURCE -fsanitize=fuzzer -o $@ $< \
	  $(FUZZ_CORE_OBJS) $(LDFLAGS) $(LDLIBS_SSL)

# The objects are named so make keeps them (not intermediate files).
fuzz-build: $(FUZZ_CORE_OBJS) $(FUZZ_ALL_TARGETS:%=$(FUZZ_BUILD)/%)

fuzz:
	@sh tools/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_BIN=$(FUZZ_BUILD) FUZZ_TIME=$(FUZZ_TIME) sh fuzz/run.sh $(FUZZ_TARGETS)

fuzz-replay:
	@sh tools/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_BIN=$(FUZZ_BUILD) sh fuzz/run.sh --replay $(FUZZ_TARGETS)

# ------------------------------------------------- sanitizers, valgrind
# asan-check: the C unit tests and every busted spec against an ASan and
# UBSan build (build/asan/swrauth.so, build/asan/test_*); valgrind-check:
# the C unit tests and every busted spec under valgrind memcheck (zero
# errors, zero definite leaks). make check runs both (tests/asan.sh,
# tests/valgrind.sh).
ASAN_CC    ?= gcc
ASAN_FLAGS ?= -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined
ASAN_BUILD  = $(BUILD)/asan
ASAN_CORE_OBJS := $(CORE_SRCS:src/%.c=$(ASAN_BUILD)/%.o)

$(ASAN_BUILD)/%.o: src/%.c include/swrauth.h src/internal.h
	@mkdir -p $(@D)
	$(ASAN_CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) $(ASAN_FLAGS) -c $< -o $@

$(ASAN_BUILD)/swrauth.so: $(ASAN_CORE_OBJS) $(ASAN_BUILD)/lswrauth.o
	$(ASAN_CC) $(LIBFLAG) $(ALL_CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS_SSL)

$(ASAN_BUILD)/test_%: tests/c/test_%.c tests/c/tap.h $(ASAN_CORE_OBJS)
	$(ASAN_CC) $(ALL_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(ASAN_CORE_OBJS) $(LDFLAGS) $(LDLIBS_SSL)

# test_wipe wraps swrauth_wipe and drives the binding too (as above).
$(ASAN_BUILD)/test_wipe: tests/c/test_wipe.c tests/c/tap.h $(ASAN_CORE_OBJS) $(ASAN_BUILD)/lswrauth.o
	$(ASAN_CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) $(ASAN_FLAGS) -o $@ $< -Wl,--wrap=swrauth_wipe \
	  $(ASAN_CORE_OBJS) $(ASAN_BUILD)/lswrauth.o $(LDFLAGS) $(LUA_LIB) $(LDLIBS_SSL) -lm

# Preloaded (after the ASan runtime) into each lua5.4 of the ASan suite:
# drops LD_PRELOAD so the processes lua starts run without ASan.
$(ASAN_BUILD)/noinherit.so: tests/asan_noinherit.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O2 -o $@ $<

asan-build: $(ASAN_BUILD)/swrauth.so $(ASAN_BUILD)/noinherit.so \
            $(CTESTS:$(BUILD)/%=$(ASAN_BUILD)/%)

asan-check:
	@sh tools/deps.sh test
	@$(MAKE) --no-print-directory WERROR=-Werror all asan-build
	@sh tests/asan.sh

valgrind-check:
	@sh tools/deps.sh test
	@$(MAKE) --no-print-directory WERROR=-Werror all ctests
	@sh tests/valgrind.sh

.PHONY: fuzz fuzz-build fuzz-replay asan-build asan-check valgrind-check
