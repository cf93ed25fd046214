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
            $(if $(OPENSSL_INCDIR),-I$(OPENSSL_INCDIR)) $(CFLAGS)
LDLIBS_SSL = $(if $(OPENSSL_LIBDIR),-L$(OPENSSL_LIBDIR)) -lcrypto

PREFIX      ?= /usr/local
INST_LIBDIR ?= $(PREFIX)/lib/lua/$(LUA_VERSION)
INST_LUADIR ?= $(PREFIX)/share/lua/$(LUA_VERSION)
INST_BINDIR ?= $(PREFIX)/bin
INST_INCDIR ?= $(PREFIX)/include
INST_ARDIR  ?= $(PREFIX)/lib

BUILD     ?= build
CORE_SRCS := $(sort $(filter-out src/lswrauth.c,$(wildcard src/*.c)))
CORE_OBJS := $(CORE_SRCS:src/%.c=$(BUILD)/%.o)
BIND_OBJ  := $(BUILD)/lswrauth.o
CTESTS    := $(sort $(patsubst tests/c/%.c,$(BUILD)/%,$(wildcard tests/c/test_*.c)))
LUA_MODS  := $(sort $(wildcard lua/swrauth/*.lua))
BINS      := $(sort $(wildcard bin/*))

.PHONY: all install check ctests lint bench demo clean deps

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
	luacheck -q lua bin tests bench
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

install: all
	install -d $(DESTDIR)$(INST_LIBDIR) $(DESTDIR)$(INST_LUADIR)/swrauth \
	  $(DESTDIR)$(INST_BINDIR) $(DESTDIR)$(INST_INCDIR) $(DESTDIR)$(INST_ARDIR)
	install -m 0755 swrauth.so $(DESTDIR)$(INST_LIBDIR)/swrauth.so
	$(if $(LUA_MODS),install -m 0644 $(LUA_MODS) $(DESTDIR)$(INST_LUADIR)/swrauth/)
	$(if $(BINS),install -m 0755 $(BINS) $(DESTDIR)$(INST_BINDIR)/)
	install -m 0644 include/swrauth.h $(DESTDIR)$(INST_INCDIR)/swrauth.h
	install -m 0644 $(BUILD)/libswrauth.a $(DESTDIR)$(INST_ARDIR)/libswrauth.a

clean:
	rm -rf $(BUILD) swrauth.so

# A host that embeds Lua and links swrauth statically.
LUA_LIB ?= $(shell $(PKG_CONFIG) --libs lua$(LUA_VERSION) 2>/dev/null || echo -llua$(LUA_VERSION))
$(BUILD)/test_embed: tests/c/embed.c $(BUILD)/libswrauth.a
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR) -o $@ $< $(BUILD)/libswrauth.a $(LUA_LIB) $(LDLIBS_SSL) -lm

ctests: $(BUILD)/test_embed
