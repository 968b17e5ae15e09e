/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VM's name from its VMM's command line, one parser for pvlock_host (which
 * reads the VMM's arguments) and pvlockd/pvlockctl (which read
 * /proc/PID/cmdline), so that one VM has one name everywhere.
 *
 * QEMU's option, as QemuOpts parses it:
 *   -name [guest=]NAME[,process=P][,debug-threads=on|off]
 * comma-separated key=value pairs; ",," inside a value is a literal comma;
 * the first element without '=' is the value of the implied key "guest"
 * (so "-name web1" and libvirt's "-name guest=web1,debug-threads=on" both
 * name web1, and "-name debug-threads=on,guest=x" names x). "-name" may be
 * given more than once: QEMU merges them and the last guest= wins.
 *
 * The name keeps spaces and any printable byte; control characters become
 * '_' (names end up in logs, tables and metric labels); a name longer than
 * the buffer is cut at a UTF-8 character boundary. Pure: no allocation, no
 * library calls, so that it compiles unchanged in the kernel.
 */
#ifndef _PVLOCK_VMNAME_H
#define _PVLOCK_VMNAME_H

#include "types.h"

static inline bool pvlock_vmname_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (!b[i] || a[i] != b[i])
			return false;
	return !b[alen];
}

/* Cut @n bytes of @out back to whole UTF-8 characters. */
static inline size_t pvlock_vmname_utf8_cut(const char *out, size_t n)
{
	size_t i = n, want;
	unsigned char lead;

	while (i && ((unsigned char)out[i - 1] & 0xc0) == 0x80)
		i--;
	if (!i)
		return n;
	lead = (unsigned char)out[i - 1];
	want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return n - (i - 1) < want ? i - 1 : n;
}

/*
 * One -name value @v of @l bytes: its guest name into @out (NUL-terminated,
 * @outlen >= 1). Returns true if it names the guest (maybe as empty).
 */
static inline bool pvlock_vmname_opts(const char *v, size_t l, char *out, size_t outlen)
{
	bool found = false, first = true;
	size_t pos = 0;

	while (pos < l) {
		size_t k = pos, j, n = 0;
		bool guest, cut = false;

		while (k < l && v[k] != '=' && v[k] != ',')
			k++;
		if (k < l && v[k] == '=') {
			guest = pvlock_vmname_eq(v + pos, k - pos, "guest");
			j = k + 1;
		} else if (first) {
			guest = true;		/* the implied key */
			j = pos;
		} else {
			/* a key without a value ("debug-threads"): skip it */
			pos = k + 1;
			continue;
		}
		first = false;
		for (; j < l; j++) {
			char c = v[j];

			if (c == ',') {
				if (j + 1 < l && v[j + 1] == ',')
					j++;		/* ",," is a comma */
				else
					break;
			}
			if (!guest)
				continue;
			if (n + 1 >= outlen) {
				cut = true;
				continue;
			}
			out[n++] = (unsigned char)c < 0x20 || c == 0x7f ? '_' : c;
		}
		if (guest) {
			if (cut)
				n = pvlock_vmname_utf8_cut(out, n);
			out[n] = '\0';
			found = true;
		}
		pos = j + 1;
	}
	return found;
}

/*
 * The VM name in a VMM's command line: @buf holds @len bytes of
 * NUL-separated arguments (the last one may lack its NUL). true and @out
 * set (non-empty) if a "-name"/"--name" option names the guest; false and
 * @out untouched otherwise.
 */
static inline bool pvlock_vmname_parse(const char *buf, size_t len, char *out, size_t outlen)
{
	char name[PVLOCK_NAME_MAX], one[PVLOCK_NAME_MAX];
	size_t p = 0, max = outlen < sizeof(name) ? outlen : sizeof(name), i;
	bool found = false;

	if (!max)
		return false;
	while (p < len) {
		size_t l = 0;
		const char *a = buf + p;

		while (p + l < len && a[l])
			l++;
		p += l + 1;
		if (!pvlock_vmname_eq(a, l, "-name") && !pvlock_vmname_eq(a, l, "--name"))
			continue;
		if (p >= len)
			break;
		a = buf + p;
		for (l = 0; p + l < len && a[l]; l++)
			;
		p += l + 1;
		/* the options merge: a later -name's guest= replaces an earlier one */
		if (pvlock_vmname_opts(a, l, one, max)) {
			for (i = 0; one[i]; i++)
				name[i] = one[i];
			name[i] = '\0';
			found = i != 0;
		}
	}
	if (!found)
		return false;
	for (i = 0; name[i]; i++)
		out[i] = name[i];
	out[i] = '\0';
	return true;
}

#endif /* _PVLOCK_VMNAME_H */
