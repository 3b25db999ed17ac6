/*
 * hlc.c - hybrid logical clock (Kulkarni et al.), in one 64-bit word.
 */
#include <time.h>

#include "hlc.h"

uint64_t hlc_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t hlc_now(struct hlc *h, uint64_t now_ms)
{
	uint64_t wall = now_ms << HLC_LOGICAL_BITS;

	if (wall > h->last)
		h->last = wall;
	else if (h->last < UINT64_MAX)
		h->last++; /* saturates: a clock pushed to the end never wraps to 0 */
	return h->last;
}

void hlc_observe(struct hlc *h, uint64_t remote)
{
	if (remote > h->last)
		h->last = remote;
}

uint64_t hlc_ms(uint64_t ts)
{
	return ts >> HLC_LOGICAL_BITS;
}
