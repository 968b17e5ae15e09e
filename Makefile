# SPDX-License-Identifier: GPL-2.0
# pvlock: one entry point. "make help" lists the targets.

PVLOCK_ROOT := $(CURDIR)
KDIR        ?= /lib/modules/$(shell uname -r)/build
export PVLOCK_CACHE ?= $(HOME)/.cache/pvlock

# make install: DESTDIR for staging, PREFIX for the layout
VERSION     := $(shell sed -n 's/.*PVLOCK_VERSION[^"]*"\(.*\)".*/\1/p' include/pvlock/version.h)
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
COMPDIR     ?= $(DATADIR)/bash-completion/completions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR  ?= /etc

.DEFAULT_GOAL := modules

help:
	@echo 'pvlock targets:'
	@echo '  modules      build pvlock_guest.ko and pvlock_host.ko for KDIR'
	@echo '               (default: the running kernel, $(KDIR))'
	@echo '  daemon       build pvlockctl (and pvlockd) into build/daemon/'
	@echo '  deps         install the Debian packages the build and tests need'
	@echo '  check        unit tests and simulator self-tests (cmocka, ASan+UBSan);'
	@echo '               ends "N passed, N failed"'
	@echo '  matrix       build both modules against every Debian kernel in'
	@echo '               scripts/kernels.list (fetched into $$PVLOCK_CACHE)'
	@echo '  test-guest   TCG guests with pvlock_guest: every run on 6.12-trixie, the lock'
	@echo '               and load/unload tests on 6.1-bookworm and 7-sid'
	@echo '  test-nested  L1 (TCG, -cpu max) with kvm_amd + pvlock_host, L2 KVM guests:'
	@echo '               every run on 6.12-trixie, the two-guest host test on the others'
	@echo '  test         all of the above, timed per stage: what CI runs (about 45 min);'
	@echo '               closes with each kernel booted (version, compilers), its runs,'
	@echo '               and "N passed, N failed"'
	@echo '  test-full    the same with every QEMU run on every kernel, 6.12-bookworm'
	@echo '               too (PVLOCK_TEST_SET=full; about 90 min)'
	@echo '  bench-sim    simulator sweep: bench/results/sim.md, sim-*.csv, sim-*.png'
	@echo '  bench-nested nested KVM benchmark, stock vs pvlock: bench/results/nested.md, nested.csv'
	@echo '  bench-workloads  real programs from Debian packages (a parallel build, sysbench,'
	@echo '               redis) in nested L2 VMs, arms none/stock/pvlock and an A/A arm:'
	@echo '               bench/results/workloads.md, workloads.csv, workloads-*.png'
	@echo '  bench        the three benchmarks'
	@echo '  demo         the main job: boot the nested setup and show pvlock at work'
	@echo '  install      modules (for KDIR), pvlockctl, pvlockd, man pages, systemd'
	@echo '               unit, bash completion, example config; honours DESTDIR, PREFIX'
	@echo '  install-daemon  the same without the modules'
	@echo '  dkms-src     the module sources for DKMS in $$DESTDIR/usr/src/pvlock-$(VERSION)'
	@echo '  test-dkms    dkms install for the trixie and sid kernels, a clean skip of 5.10 and'
	@echo '               arm64, in a private DKMS tree (build/dkms; the machine untouched)'
	@echo '  clean        remove build outputs (the kernel cache stays)'
	@echo 'Variables: KDIR=, PVLOCK_CACHE= (default ~/.cache/pvlock),'
	@echo '           TEST_KERNELS="6.12-trixie 7-sid", GUEST_TESTS=, NESTED_TESTS= for the'
	@echo '           QEMU tests (every listed kernel then gets the runs given),'
	@echo '           DESTDIR=, PREFIX= (default /usr/local), SYSCONFDIR= (default /etc),'
	@echo '           CFLAGS=, CPPFLAGS=, LDFLAGS= (added to the daemon'"'"'s own flags).'

modules:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "pvlock: no kernel build tree at KDIR=$(KDIR)."; \
		echo "        Install linux-headers-$$(uname -r), or pass KDIR=/path/to/build;"; \
		echo "        'make matrix' fetches Debian's kernels without installing them."; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(PVLOCK_ROOT) PVLOCK_ROOT=$(PVLOCK_ROOT) modules

daemon:
	$(MAKE) -C daemon

deps:
	@scripts/deps.sh

check: deps
	@$(MAKE) -s -C tests/unit run
	@tests/qemu/runner-selftest.sh >> build/results/check.txt || true
	@tests/bench-selftest.sh >> build/results/check.txt || true
	@rm -f build/results/sim.txt; $(MAKE) -s -C tests/sim test || \
		{ mkdir -p build/results; echo 'FAIL sim/build: make -C tests/sim test failed' >> build/results/sim.txt; }
	@scripts/tally.sh build/results/check.txt build/results/sim.txt

matrix: deps
	@scripts/matrix.sh

test-guest: deps
	@tests/qemu/test-guest.sh; scripts/tally.sh build/results/test-guest.txt

test-nested: deps
	@tests/qemu/test-nested.sh; scripts/tally.sh build/results/test-nested.txt

test-dkms: deps
	@tests/pkg/dkms.sh; scripts/tally.sh build/results/test-dkms.txt

test:
	@scripts/test-all.sh

test-full:
	@PVLOCK_TEST_SET=full scripts/test-all.sh

bench-sim: deps
	@scripts/bench-sim.sh

bench-nested: deps
	@scripts/bench-nested.sh

bench-workloads: deps
	@scripts/bench-workloads.sh

bench: bench-sim bench-nested bench-workloads

demo: deps
	@scripts/demo.sh

install: install-modules install-daemon

install-modules: modules
	$(MAKE) -C $(KDIR) M=$(PVLOCK_ROOT) PVLOCK_ROOT=$(PVLOCK_ROOT) \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=extra/pvlock modules_install

install-daemon: daemon
	install -D -m 0755 build/daemon/pvlockctl $(DESTDIR)$(SBINDIR)/pvlockctl
	install -D -m 0755 build/daemon/pvlockd $(DESTDIR)$(SBINDIR)/pvlockd
	install -D -m 0644 daemon/man/pvlockctl.8 $(DESTDIR)$(MANDIR)/man8/pvlockctl.8
	install -D -m 0644 daemon/man/pvlockd.8 $(DESTDIR)$(MANDIR)/man8/pvlockd.8
	install -D -m 0644 daemon/dist/pvlockctl.bash $(DESTDIR)$(COMPDIR)/pvlockctl
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' daemon/dist/pvlockd.service.in > $(DESTDIR)$(UNITDIR)/pvlockd.service
	install -D -m 0644 daemon/pvlockd.conf $(DESTDIR)$(DATADIR)/doc/pvlock/pvlockd.conf.example
	@# the live file only where there is none: an upgrade keeps the operator's
	test -e $(DESTDIR)$(SYSCONFDIR)/pvlock/pvlockd.conf || \
		install -D -m 0644 daemon/pvlockd.conf $(DESTDIR)$(SYSCONFDIR)/pvlock/pvlockd.conf

dkms-src:
	@grep -q '^PACKAGE_VERSION="$(VERSION)"$$' dkms.conf || \
		{ echo "dkms.conf: PACKAGE_VERSION is not $(VERSION) (include/pvlock/version.h)"; exit 1; }
	install -d $(DESTDIR)/usr/src/pvlock-$(VERSION)
	cp -r Kbuild dkms.conf guest-mod host-mod include $(DESTDIR)/usr/src/pvlock-$(VERSION)/
	@# sources only, whatever a local build left next to them
	find $(DESTDIR)/usr/src/pvlock-$(VERSION) \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.symvers' -o -name modules.order \) -delete

clean:
	-$(MAKE) -C $(KDIR) M=$(PVLOCK_ROOT) PVLOCK_ROOT=$(PVLOCK_ROOT) clean 2>/dev/null
	rm -rf build

.PHONY: help modules daemon deps check matrix test-guest test-nested test-dkms test test-full \
	bench-sim bench-nested bench-workloads bench demo clean install install-modules install-daemon dkms-src
