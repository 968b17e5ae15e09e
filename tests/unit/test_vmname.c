// SPDX-License-Identifier: GPL-2.0
/*
 * The VM-name parser pvlock_host and pvlockd share (include/pvlock/vmname.h):
 * QEMU's -name grammar, as QemuOpts reads it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <pvlock/vmname.h>

static char out[PVLOCK_NAME_MAX];

/* The name of a command line given as a NUL-separated literal, "" if none. */
#define NAME(lit)	name_of(lit, sizeof(lit))

static const char *name_of(const char *buf, size_t len)
{
	memset(out, 'x', sizeof(out));
	strcpy(out, "untouched");
	if (!pvlock_vmname_parse(buf, len, out, sizeof(out))) {
		/* no name: the buffer is left as it was */
		assert_string_equal(out, "untouched");
		return "";
	}
	return out;
}

static void plain_and_libvirt(void **state)
{
	(void)state;
	assert_string_equal(NAME("qemu\0-enable-kvm\0-name\0web1\0-m\0" "512"), "web1");
	assert_string_equal(NAME("qemu\0--name\0web1"), "web1");
	/* libvirt */
	assert_string_equal(NAME("qemu\0-name\0guest=db,debug-threads=on\0-S"), "db");
	/* the implied key only for the first element, whatever follows */
	assert_string_equal(NAME("qemu\0-name\0web1,process=qemu-web1"), "web1");
	assert_string_equal(NAME("qemu\0-name\0web1,debug-threads=on"), "web1");
}

static void key_order_and_escapes(void **state)
{
	(void)state;
	/* guest= anywhere, not only first: the old parsers disagreed here */
	assert_string_equal(NAME("qemu\0-name\0debug-threads=on,guest=x"), "x");
	assert_string_equal(NAME("qemu\0-name\0process=p,guest=x,debug-threads=off"), "x");
	/* ",," is a literal comma, in the implied value and in guest= */
	assert_string_equal(NAME("qemu\0-name\0guest=db,,prod"), "db,prod");
	assert_string_equal(NAME("qemu\0-name\0db,,prod,debug-threads=on"), "db,prod");
	assert_string_equal(NAME("qemu\0-name\0a,,,,b"), "a,,b");
	/* "process=" holding "guest=" is not the guest key */
	assert_string_equal(NAME("qemu\0-name\0process=guest=no"), "");
	/* an unknown first key is not a name */
	assert_string_equal(NAME("qemu\0-name\0foo=bar"), "");
	/* a later key without value is skipped */
	assert_string_equal(NAME("qemu\0-name\0web1,debug-threads"), "web1");
}

static void spaces_and_bytes(void **state)
{
	(void)state;
	/* spaces are kept (the kernel side used to turn them into '_') */
	assert_string_equal(NAME("qemu\0-name\0my vm 2"), "my vm 2");
	assert_string_equal(NAME("qemu\0-name\0guest=web 1,debug-threads=on"), "web 1");
	/* control characters are not: they end up in logs and tables */
	assert_string_equal(NAME("qemu\0-name\0a\tb\nc\x7f"), "a_b_c_");
	/* UTF-8 passes */
	assert_string_equal(NAME("qemu\0-name\0caf\xc3\xa9"), "caf\xc3\xa9");
}

static void missing_and_repeated(void **state)
{
	(void)state;
	assert_string_equal(NAME("firecracker\0--api-sock\0/x"), "");
	assert_string_equal(NAME("qemu\0-m\0" "1G\0-name"), "");	/* no value */
	assert_string_equal(NAME("qemu\0-name\0"), "");			/* empty */
	assert_string_equal(NAME("qemu\0-name\0guest="), "");
	assert_string_equal(NAME("qemu\0-name\0debug-threads=on"), "");
	/* -name twice: QEMU merges them; the last guest= wins */
	assert_string_equal(NAME("qemu\0-name\0a\0-name\0debug-threads=on"), "a");
	assert_string_equal(NAME("qemu\0-name\0a\0-name\0guest=b"), "b");
	/* the last argument without its NUL (a cut /proc read) */
	assert_string_equal(name_of("qemu\0-name\0web1", 15), "web1");
	assert_string_equal(name_of("qemu\0-name\0web1", 13), "we");
	/* "-name" as a value is not the option */
	assert_string_equal(NAME("qemu\0-append\0-name\0x"), "x");
}

static void truncation(void **state)
{
	static const char euro[] = "q\0-name\0ab\xe2\x82\xac" "cd";
	char big[200], cmd[256], small[8];
	size_t n;

	(void)state;
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	n = (size_t)snprintf(cmd, sizeof(cmd), "qemu%c-name%c%s", 0, 0, big);
	assert_true(pvlock_vmname_parse(cmd, n + 1, out, sizeof(out)));
	assert_int_equal(strlen(out), PVLOCK_NAME_MAX - 1);
	/* never cut inside a UTF-8 character: "ab" + 3-byte "€" in 5 bytes gives "ab" */
	assert_true(pvlock_vmname_parse(euro, sizeof(euro), small, 5));
	assert_string_equal(small, "ab");
	assert_true(pvlock_vmname_parse(euro, sizeof(euro), small, 6));
	assert_string_equal(small, "ab\xe2\x82\xac");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_and_libvirt),
		cmocka_unit_test(key_order_and_escapes),
		cmocka_unit_test(spaces_and_bytes),
		cmocka_unit_test(missing_and_repeated),
		cmocka_unit_test(truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
