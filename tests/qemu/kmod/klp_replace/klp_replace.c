// SPDX-License-Identifier: GPL-2.0
/*
 * Test module: a cumulative livepatch (.replace = true), as a distro's
 * livepatch service would ship, replacing cmdline_proc_show. Loading it
 * reverts every other livepatch, pvlock_guest's included; pvlock_guest must
 * notice and say "replaced".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int klp_replace_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klp_replace\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = klp_replace_cmdline_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .name = NULL, .funcs = funcs, },
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.replace = true,
};

static int __init klp_replace_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klp_replace_exit(void)
{
}

module_init(klp_replace_init);
module_exit(klp_replace_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
