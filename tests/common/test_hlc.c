/*
 * test_hlc.c - the hybrid logical clock (common/hlc.c): timestamps only
 * grow, whether the wall clock moves forward, stands still or goes back;
 * observing a remote timestamp makes every later local one exceed it; and
 * hlc_ms recovers the wall-clock part.
 */
#include <criterion/criterion.h>

#include "hlc.h"

#define TS(ms, l) (((uint64_t)(ms) << HLC_LOGICAL_BITS) | (uint64_t)(l))

Test(hlc, forward_clock_uses_wall_time)
{
	struct hlc h = { 0 };
	uint64_t t1 = hlc_now(&h, 1000);
	uint64_t t2 = hlc_now(&h, 1001);

	cr_assert_eq(t1, TS(1000, 0));
	cr_assert_eq(t2, TS(1001, 0));
	cr_assert_eq(hlc_ms(t2), 1001);
}

Test(hlc, standing_clock_is_strictly_monotonic)
{
	struct hlc h = { 0 };
	uint64_t prev = hlc_now(&h, 5000), t;
	int i;

	for (i = 0; i < 1000; i++) {
		t = hlc_now(&h, 5000);
		cr_assert_gt(t, prev);
		cr_assert_eq(hlc_ms(t), 5000);
		prev = t;
	}
	cr_assert_eq(prev, TS(5000, 1000));
}

Test(hlc, logical_overflow_stays_monotonic)
{
	struct hlc h = { 0 };
	uint64_t prev = hlc_now(&h, 7), t;
	int i;

	for (i = 0; i < (1 << HLC_LOGICAL_BITS) + 10; i++) {
		t = hlc_now(&h, 7);
		cr_assert_gt(t, prev);
		prev = t;
	}
	/* Once the wall clock overtakes the logical spill, it takes over. */
	t = hlc_now(&h, 100);
	cr_assert_eq(t, TS(100, 0));
}

Test(hlc, backward_clock_is_strictly_monotonic)
{
	struct hlc h = { 0 };
	uint64_t t1 = hlc_now(&h, 10000);
	uint64_t t2 = hlc_now(&h, 9000);
	uint64_t t3 = hlc_now(&h, 1);
	uint64_t t4 = hlc_now(&h, 10000);
	uint64_t t5 = hlc_now(&h, 10001);

	cr_assert_gt(t2, t1);
	cr_assert_gt(t3, t2);
	cr_assert_gt(t4, t3);
	cr_assert_gt(t5, t4);
	cr_assert_eq(hlc_ms(t4), 10000);
	cr_assert_eq(t5, TS(10001, 0));
}

Test(hlc, random_clock_walk_is_monotonic)
{
	struct hlc h = { 0 };
	uint64_t s = 12345, prev = 0, t, now = 1700000000000ull;
	int i;

	for (i = 0; i < 100000; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		/* Jitter of -500..+499 ms around a slowly rising clock. */
		now += (s >> 60) & 1;
		t = hlc_now(&h, now + ((s >> 33) % 1000) - 500);
		cr_assert_gt(t, prev, "step %d", i);
		prev = t;
	}
}

Test(hlc, observe_makes_later_local_timestamps_exceed_remote)
{
	struct hlc h = { 0 };
	uint64_t remote = TS(50000, 12), t;

	hlc_now(&h, 1000);
	hlc_observe(&h, remote);
	t = hlc_now(&h, 1000);
	cr_assert_gt(t, remote);
	cr_assert_eq(t, remote + 1);
	t = hlc_now(&h, 50000);
	cr_assert_gt(t, remote + 1);
	/* Wall time past the remote: back to wall time. */
	t = hlc_now(&h, 60000);
	cr_assert_eq(t, TS(60000, 0));
}

Test(hlc, observe_older_timestamp_changes_nothing)
{
	struct hlc h = { 0 };
	uint64_t t1 = hlc_now(&h, 9000), t2;

	hlc_observe(&h, TS(10, 0));
	hlc_observe(&h, t1);
	t2 = hlc_now(&h, 8000);
	cr_assert_eq(t2, t1 + 1);
}

Test(hlc, observe_equal_wall_and_remote)
{
	struct hlc h = { 0 };
	uint64_t remote = TS(3000, 0), t;

	hlc_observe(&h, remote);
	t = hlc_now(&h, 3000);
	cr_assert_gt(t, remote);
}

Test(hlc, ms_part)
{
	cr_assert_eq(hlc_ms(TS(123, 456)), 123);
	cr_assert_eq(hlc_ms(TS(123, 0xffff)), 123);
	cr_assert_eq(hlc_ms(0), 0);
	cr_assert_eq(hlc_ms(TS(1700000000000ull, 1)), 1700000000000ull);
}

Test(hlc, wall_clock_is_plausible)
{
	uint64_t a = hlc_wall_ms(), b = hlc_wall_ms();

	/* After 2020-01-01 and not running backwards by much. */
	cr_assert_gt(a, 1577836800000ull);
	cr_assert_geq(b + 1000, a);
}

Test(hlc, saturates_instead_of_wrapping)
{
	struct hlc h = { 0 };

	hlc_observe(&h, UINT64_MAX);
	cr_assert_eq(hlc_now(&h, 1000), UINT64_MAX);
	cr_assert_eq(hlc_now(&h, 1000), UINT64_MAX);
}
