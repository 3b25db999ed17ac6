/*
 * hlc.h - hybrid logical clock. A timestamp is 48 bits of wall-clock
 * milliseconds and 16 bits of logical counter, so it orders like time yet
 * never runs backwards and always exceeds every timestamp a replica has
 * seen. It is the first key of the deterministic tie-break between
 * concurrent writes (then replica id, then counter).
 */
#ifndef OP_HLC_H
#define OP_HLC_H

#include <stdint.h>

struct hlc {
	uint64_t last; /* the highest timestamp issued or observed */
};

#define HLC_LOGICAL_BITS 16

/* Current wall clock in milliseconds since the Unix epoch. */
uint64_t hlc_wall_ms(void);
/* Issues a timestamp for a local event at wall time now_ms. */
uint64_t hlc_now(struct hlc *h, uint64_t now_ms);
/* Takes a remote timestamp into account so later local ones exceed it. */
void hlc_observe(struct hlc *h, uint64_t remote);
/* Milliseconds part of a timestamp. */
uint64_t hlc_ms(uint64_t ts);

#endif
