/*
 * json.c - JSON string escaping and value output.
 */
#include <math.h>

#include "err.h"
#include "json.h"

int json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	int rc = buf_addc(b, '"');

	for (i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			rc = buf_add(b, esc, 2);
		} else if (c == '\n') {
			rc = buf_add(b, "\\n", 2);
		} else if (c == '\t') {
			rc = buf_add(b, "\\t", 2);
		} else if (c == '\r') {
			rc = buf_add(b, "\\r", 2);
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			rc = buf_add(b, esc, 6);
		} else {
			rc = buf_addc(b, (char)c);
		}
	}
	return rc ? rc : buf_addc(b, '"');
}

int json_val(struct buf *b, const struct val *v)
{
	switch (v->t) {
	case VAL_TEXT:
		return json_str(b, v->s, v->n);
	case VAL_INT:
		return buf_addf(b, "%lld", (long long)v->i);
	case VAL_REAL:
		if (!isfinite(v->r))
			return buf_adds(b, "null");
		return buf_addf(b, "%.17g", v->r);
	default:
		return buf_adds(b, "null");
	}
}
