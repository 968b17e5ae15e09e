// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include <pvlock/record.h>

static void layout_matches_the_abi(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct pvlock_record), 128);
	assert_int_equal(offsetof(struct pvlock_record, guest_seq), 24);
	assert_int_equal(offsetof(struct pvlock_record, host_seq), 64);
	assert_int_equal(offsetof(struct pvlock_record, spin_threshold), 72);
	assert_int_equal(offsetof(struct pvlock_record, host_gen), 104);
	assert_int_equal(offsetof(struct pvlock_record, curr_gpa), 112);
	assert_int_equal(offsetof(struct pvlock_record, idle_task), 120);
}

static void header_checks(void **state)
{
	struct pvlock_record r;

	(void)state;
	pvlock_record_init(&r, 3, 0x1000, PVLOCK_ECS_X86_PREEMPT_COUNT);
	assert_int_equal(pvlock_record_check_header(&r, 3), 0);
	assert_int_equal(pvlock_record_check_header(&r, 4), -PVLOCK_EINVAL);
	r.ecs_gpa = 0x1002;
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	pvlock_record_init(&r, 3, 0x1000, 7);
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	pvlock_record_init(&r, 3, 0x1000, PVLOCK_ECS_NONE);
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	pvlock_record_init(&r, 3, 0, PVLOCK_ECS_NONE);
	assert_int_equal(pvlock_record_check_header(&r, 3), 0);
	r.magic ^= 1;
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	pvlock_record_init(&r, 3, 0, PVLOCK_ECS_NONE);
	r.size = 64;
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	/* versions 1 and 2 only */
	pvlock_record_init(&r, 3, 0x1000, PVLOCK_ECS_X86_PREEMPT_COUNT);
	r.version = 1;
	assert_int_equal(pvlock_record_check_header(&r, 3), 0);
	r.version = 0;
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	r.version = PVLOCK_RECORD_VERSION + 1;
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
}

static void version2_running_task_pointer(void **state)
{
	struct pvlock_record r;

	(void)state;
	pvlock_record_init(&r, 3, 0x5010, PVLOCK_ECS_X86_PREEMPT_COUNT);
	assert_int_equal(r.version, 2);
	r.curr_gpa = 0x5000;
	r.idle_task = 0xffffffff82a00000ull;
	assert_int_equal(pvlock_record_check_header(&r, 3), 0);
	assert_int_equal(pvlock_record_curr_gpa(&r), 0x5000);
	/* misaligned, another page than the eCS word, or without an eCS word */
	r.curr_gpa = 0x5004;
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	r.curr_gpa = 0x6000;
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	pvlock_record_init(&r, 3, 0, PVLOCK_ECS_NONE);
	r.curr_gpa = 0x5000;
	assert_int_equal(pvlock_record_check_header(&r, 3), -PVLOCK_EINVAL);
	/* a version 1 header's last bytes are reserved: never read */
	pvlock_record_init(&r, 3, 0x5010, PVLOCK_ECS_X86_PREEMPT_COUNT);
	r.version = 1;
	r.curr_gpa = 0x1234567;
	assert_int_equal(pvlock_record_check_header(&r, 3), 0);
	assert_int_equal(pvlock_record_curr_gpa(&r), 0);
}

static void pure_waiters(void **state)
{
	(void)state;
	assert_true(pvlock_guest_pure_waiter(PVLOCK_GF_WAITING));
	assert_true(pvlock_guest_pure_waiter(PVLOCK_GF_WAITING | PVLOCK_GF_QUEUE_HEAD |
					     PVLOCK_GF_HALTED));
	assert_false(pvlock_guest_pure_waiter(PVLOCK_GF_WAITING | PVLOCK_GF_HOLDER));
	assert_false(pvlock_guest_pure_waiter(0));
	assert_false(pvlock_guest_pure_waiter(PVLOCK_GF_HOLDER));
}

static void host_sanitises_guest_values(void **state)
{
	struct pvlock_record r;
	struct pvlock_guest_view v;

	(void)state;
	pvlock_record_init(&r, 0, 0, PVLOCK_ECS_NONE);
	pvlock_guest_write_begin(&r);
	r.guest_flags = 0xffffffff;
	r.wait_target = 99;
	r.last_kicked = 1;
	pvlock_guest_write_end(&r);
	assert_true(pvlock_host_read_guest(&r, 4, &v));
	assert_int_equal(v.flags, PVLOCK_GF_ALL);
	assert_int_equal(v.wait_target, PVLOCK_CPU_NONE);
	assert_int_equal(v.last_kicked, 1);
}

static void stuck_writer_gives_neutral_view(void **state)
{
	struct pvlock_record r;
	struct pvlock_guest_view v;
	struct pvlock_host_view h;

	(void)state;
	pvlock_record_init(&r, 0, 0, PVLOCK_ECS_NONE);
	r.guest_flags = PVLOCK_GF_WAITING;
	r.wait_target = 1;
	r.guest_seq = 7;	/* odd forever: a guest that never finishes */
	assert_false(pvlock_host_read_guest(&r, 4, &v));
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.wait_target, PVLOCK_CPU_NONE);

	r.host_seq = 3;
	assert_false(pvlock_guest_read_host(&r, &h));
	/* the host's next write makes it even again whatever the guest did */
	pvlock_host_write_begin(&r);
	r.spin_threshold = 512;
	pvlock_host_write_end(&r);
	assert_true(pvlock_guest_read_host(&r, &h));
	assert_int_equal(h.spin_threshold, 512);
	assert_int_equal(h.gen, 1);
}

/* A writer thread keeps two fields equal; readers must never see them differ. */
static struct pvlock_record shared;
static atomic_int stop;

static void *writer(void *arg)
{
	uint64_t i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		pvlock_guest_write_begin(&shared);
		pvlock_write_once(shared.wait_lock, i);
		pvlock_write_once(shared.wait_since_ns, i);
		pvlock_guest_write_end(&shared);
		i++;
	}
	return NULL;
}

static void no_torn_reads_under_a_concurrent_writer(void **state)
{
	pthread_t t;
	struct pvlock_guest_view v;
	unsigned long ok = 0, i;

	(void)state;
	pvlock_record_init(&shared, 0, 0, PVLOCK_ECS_NONE);
	atomic_store(&stop, 0);
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	for (i = 0; i < 2000000; i++) {
		if (pvlock_host_read_guest(&shared, 2, &v)) {
			assert_true(v.wait_lock == v.wait_since_ns);
			ok++;
		}
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	assert_true(ok > 0);
}

static void ecs_word(void **state)
{
	(void)state;
	assert_false(pvlock_ecs_active(PVLOCK_ECS_X86_PREEMPT_COUNT, 0x80000000u));
	assert_true(pvlock_ecs_active(PVLOCK_ECS_X86_PREEMPT_COUNT, 0x80000001u));
	assert_true(pvlock_ecs_active(PVLOCK_ECS_X86_PREEMPT_COUNT, 0x00010000u));
	assert_false(pvlock_ecs_active(PVLOCK_ECS_NONE, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_matches_the_abi),
		cmocka_unit_test(header_checks),
		cmocka_unit_test(version2_running_task_pointer),
		cmocka_unit_test(pure_waiters),
		cmocka_unit_test(host_sanitises_guest_values),
		cmocka_unit_test(stuck_writer_gives_neutral_view),
		cmocka_unit_test(no_torn_reads_under_a_concurrent_writer),
		cmocka_unit_test(ecs_word),
	};

	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
