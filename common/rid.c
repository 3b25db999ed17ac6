/*
 * rid.c - random 128-bit ids.
 */
#include <openssl/rand.h>

#include "err.h"
#include "rid.h"

int rid_new(char out[RID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[RID_LEN / 2];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return OP_EIO;
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[RID_LEN] = '\0';
	return OP_OK;
}

bool rid_valid(const char *s, size_t n)
{
	size_t i;

	if (n != RID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}
