// SPDX-License-Identifier: GPL-2.0
/*
 * Test tool: issue pvlock's HELLO hypercall from user mode (CPL 3) inside a
 * KVM guest. The host must refuse it (-EPERM, as KVM does for its own
 * numbers) and count it. Prints "ret=<value>".
 */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

#include <linux/pvlock.h>

int main(void)
{
	unsigned int a, b, c, d;
	char vendor[13];
	long ret;

	__cpuid(0, a, b, c, d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = '\0';
	if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
		__asm__ volatile("vmmcall"
				 : "=a"(ret)
				 : "a"((long)PVLOCK_HC_HELLO), "b"(1L), "c"((long)PVLOCK_F_ALL),
				   "d"(1L), "S"(0L)
				 : "memory");
	else
		__asm__ volatile("vmcall"
				 : "=a"(ret)
				 : "a"((long)PVLOCK_HC_HELLO), "b"(1L), "c"((long)PVLOCK_F_ALL),
				   "d"(1L), "S"(0L)
				 : "memory");
	printf("vendor=%s ret=%ld\n", vendor, ret);
	return 0;
}
