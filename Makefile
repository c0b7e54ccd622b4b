# onestack - build, unit tests and the whole test suite.
#   make            build/onestack (release, warnings are errors)
#   make asan       build/asan/onestack (AddressSanitizer + UBSan)
#   make unit       build and run the C unit tests
#   make guest-image  build/guest/onestack-guest.qcow2, the test guest (rebuilt
#                   only when tools/build-guest-image.sh or tools/guest/* change)
#   make test       everything: deps, builds, unit, API (SQLite + PostgreSQL), interop,
#                   e2e (boots the test guest under QEMU)
CC      ?= cc
PKGS    := libmicrohttpd jansson sqlite3 libpq openssl inih uuid zlib
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers \
           -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libbz2 ships no pkg-config file: bulk extraction of .tar.bz2 links it by name
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lbz2 -lcrypt -lpthread
ASAN    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

CORE_SRC := $(wildcard src/core/*.c)
SVC_SRC  := $(wildcard src/identity/*.c) $(wildcard src/object/*.c) $(wildcard src/image/*.c) \
           $(wildcard src/placement/*.c) \
           $(wildcard src/compute/*.c) $(wildcard src/agent/*.c) $(wildcard src/network/*.c)
LIB_SRC  := $(CORE_SRC) $(SVC_SRC)
SRC      := src/main.c $(LIB_SRC)
OBJ      := $(SRC:%.c=build/obj/%.o)
AOBJ     := $(SRC:%.c=build/asan/obj/%.o)
LIB_OBJ  := $(LIB_SRC:%.c=build/obj/%.o)
CORE_OBJ := $(CORE_SRC:%.c=build/obj/%.o)
UNIT_SRC := $(wildcard tests/unit/*_test.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/tests/%)

.PHONY: all asan unit guest-image test clean
all: build/onestack

build/onestack: $(OBJ)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# -MMD: each object depends on exactly the headers it includes
build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

asan: build/asan/onestack
build/asan/onestack: $(AOBJ)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(ASAN) -o $@ $^ $(LDLIBS)

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $< (asan)"
	@$(CC) $(CFLAGS) $(ASAN) -MMD -MP -c -o $@ $<

-include $(OBJ:.o=.d) $(AOBJ:.o=.d)

# core tests link the core only: it must stand without any service
build/tests/core_test build/tests/http_test: build/tests/%: tests/unit/%.c tests/unit/runner.h \
		$(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS)

build/tests/%: tests/unit/%.c tests/unit/runner.h $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

unit: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do $$t || rc=1; done; exit $$rc

# The test guest: Debian's kernel, busybox and dropbear in a bootable qcow2.
# Its .deb files are cached in build/guest/debs (install-deps.sh --test
# fetches them), so a rebuild needs no network.
GUEST_IMAGE := build/guest/onestack-guest.qcow2
GUEST_SRC   := tools/build-guest-image.sh $(wildcard tools/guest/*)
guest-image: $(GUEST_IMAGE)
$(GUEST_IMAGE): $(GUEST_SRC)
	@echo "  GUEST $@"
	@tools/build-guest-image.sh $(dir $@)

# install-deps.sh runs first: it installs the compilers, QEMU and the image
# tools the prerequisites below are built with.
test:
	scripts/install-deps.sh --test
	$(MAKE) all asan $(UNIT_BIN) guest-image
	tests/run.sh

clean:
	rm -rf build
