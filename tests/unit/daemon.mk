# SPDX-License-Identifier: GPL-2.0
# The daemon's unit tests link the daemon's own .c files (pure ones: no
# netlink, no BPF); included by the Makefile before its CFLAGS.
D := $(ROOT)/daemon
EXTRA_CFLAGS += -DSRCDIR='"$(CURDIR)"' -I$(D) -I$(ROOT)/tests/qemu/tools \
		$(shell pkg-config --cflags json-c inih smartcols)
EXTRA_DEPS += $(wildcard $(D)/*.c $(D)/*.h) $(ROOT)/tests/qemu/tools/promcheck.h

EXTRA_SRCS_pparse  := $(D)/pparse.c
TABLE_SRCS := $(D)/table.c $(D)/tab.c $(D)/out.c $(shell pkg-config --libs json-c smartcols) -lm
EXTRA_SRCS_args    := $(D)/args.c $(D)/opt.c -lm
EXTRA_SRCS_table   := $(TABLE_SRCS)
EXTRA_SRCS_conf    := $(D)/conf.c $(shell pkg-config --libs inih) -lm
EXTRA_SRCS_tuner   := $(D)/tuner.c
EXTRA_SRCS_proc    := $(D)/proc.c
EXTRA_SRCS_metrics := $(D)/metrics.c $(TABLE_SRCS)
EXTRA_SRCS_obs     := $(D)/obs.c -DPVLOCK_NO_BPF
