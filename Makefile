# SPDX-License-Identifier: MIT
# VDF build. `make` builds everything; `make check` runs all tests; `make demo`
# shows the system working in the guest; `make bench` measures against Linux.

CC      ?= gcc
BUILD   ?= build
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -fno-strict-aliasing -D_GNU_SOURCE -Iinclude -MMD -MP
LDLIBS  += -ljson-c -lseccomp -lpthread

# `make V=1` shows the full commands.
Q := $(if $(filter 1,$(V)),,@)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRCS    := $(wildcard lib/*/*.c)
NVME_CORE   := $(filter-out drivers/nvme/main.c,$(wildcard drivers/nvme/*.c))
E1000_CORE  := $(filter-out drivers/e1000/main.c,$(wildcard drivers/e1000/*.c))
BOCHS_CORE  := $(filter-out drivers/bochs/main.c,$(wildcard drivers/bochs/*.c))
# The device manager's logic (everything but its main) is a library the unit tests link.
MANAGER_CORE := $(filter-out manager/vdfd.c,$(wildcard manager/*.c))
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
# Shared test helpers (device models): every tests/unit/*.c that is not a test_*.c.
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
BLKTOOL_SRCS := $(wildcard tools/blk/*.c)

obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

LIB_OBJS    := $(call obj,$(BUILD),$(LIB_SRCS))
NVME_OBJS   := $(call obj,$(BUILD),$(NVME_CORE))
E1000_OBJS  := $(call obj,$(BUILD),$(E1000_CORE))
BOCHS_OBJS  := $(call obj,$(BUILD),$(BOCHS_CORE))
LIBVDF      := $(BUILD)/libvdf.a
BINS        := $(BUILD)/bin/vdf-nvme
BINS        += $(BUILD)/bin/vdf-e1000
BINS        += $(BUILD)/bin/vdf-bochs
BINS        += $(if $(wildcard manager/vdfd.c),$(BUILD)/bin/vdfd)
BINS        += $(if $(wildcard tools/vdfctl/vdfctl.c),$(BUILD)/bin/vdfctl)
BINS        += $(BUILD)/bin/vdf-ringbench
BINS        += $(BUILD)/bin/vdf-nbd
BINS        += $(BUILD)/bin/vdf-ublk
BINS        += $(BUILD)/bin/vdf-blk
BINS        += $(BUILD)/bin/vdf-tap
BINS        += $(BUILD)/bin/vdf-netperf
BINS        += $(BUILD)/bin/vdf-display
BINS        += $(patsubst tests/drivers/%.c,$(BUILD)/bin/%,$(wildcard tests/drivers/*.c))
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

# The same unit tests, built with ASan+UBSan into their own tree.
SAN_BUILD     := $(BUILD)/san
SAN_LIB_OBJS  := $(call obj,$(SAN_BUILD),$(LIB_SRCS) $(NVME_CORE) $(E1000_CORE) $(BOCHS_CORE) \
				       $(MANAGER_CORE))
SAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(SAN_BUILD)/tests/%,$(UNIT_SRCS))

.SECONDARY:
.PHONY: all deps check check-unit check-vm demo bench clean format
all: $(LIBVDF) $(BINS) $(UNIT_BINS) $(BUILD)/manifests/.stamp

# The driver manifests vdfd loads by default (<bindir>/../manifests).
DRIVER_MANIFESTS := $(wildcard drivers/*/*.manifest)
$(BUILD)/manifests/.stamp: $(DRIVER_MANIFESTS)
	@mkdir -p $(dir $@)
	rm -f $(dir $@)*.manifest && cp $^ $(dir $@) && touch $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(SAN_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(LIBVDF): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libvdf-nvme.a: $(NVME_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libvdf-e1000.a: $(E1000_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libvdf-bochs.a: $(BOCHS_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/vdf-bochs: $(BUILD)/obj/drivers/bochs/main.o $(BUILD)/libvdf-bochs.a $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vdf-e1000: $(BUILD)/obj/drivers/e1000/main.o $(BUILD)/libvdf-e1000.a $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libvdf-manager.a: $(call obj,$(BUILD),$(MANAGER_CORE))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/vdfd: $(BUILD)/obj/manager/vdfd.o $(BUILD)/libvdf-manager.a $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vdfctl: $(BUILD)/obj/tools/vdfctl/vdfctl.o $(BUILD)/libvdf-manager.a $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vdf-nbd: $(BUILD)/obj/tools/nbd/vdf-nbd.o $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# vdf-ublk: libvdf plus io_uring (only this tool links liburing).
$(BUILD)/bin/vdf-ublk: $(call obj,$(BUILD),$(wildcard tools/ublk/*.c)) $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -luring

$(BUILD)/bin/vdf-tap: $(BUILD)/obj/tools/tap/vdf-tap.o $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vdf-netperf: $(BUILD)/obj/tools/netperf/vdf-netperf.o $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vdf-display: $(BUILD)/obj/tools/display/vdf-display.o $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vdf-blk: $(BUILD)/obj/tools/client/vdf-blk.o $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The grant launcher starts drivers the way the manager does (manager/spawn.c).
$(BUILD)/bin/vdf-grant-launch: $(BUILD)/obj/tests/drivers/vdf-grant-launch.o \
			       $(BUILD)/libvdf-manager.a $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/vdf-ringbench: $(BUILD)/obj/tools/ringbench/ringbench.o $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Test drivers (e.g. the rogue driver for sandbox tests): one file each.
$(BUILD)/bin/%: $(BUILD)/obj/tests/drivers/%.o $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libblktools.a: $(call obj,$(BUILD),$(BLKTOOL_SRCS))
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/vdf-nvme: $(BUILD)/obj/drivers/nvme/main.o $(BUILD)/libvdf-nvme.a \
		       $(BUILD)/libblktools.a $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(BUILD),$(UNIT_HELPERS)) \
		  $(BUILD)/libvdf-manager.a $(BUILD)/libvdf-nvme.a $(BUILD)/libvdf-e1000.a \
		  $(BUILD)/libvdf-bochs.a $(LIBVDF)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(SAN_BUILD)/tests/%: $(SAN_BUILD)/obj/tests/unit/%.o $(call obj,$(SAN_BUILD),$(UNIT_HELPERS)) \
		      $(SAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ -lcmocka $(LDLIBS)

deps:
	tools/deps.sh

check: deps all $(SAN_UNIT_BINS)
	tools/run-tests.sh

check-unit: all $(SAN_UNIT_BINS)
	VDF_SKIP_VM=1 tools/run-tests.sh

demo: deps all
	tools/demo.sh

bench: deps all
	tools/bench.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
