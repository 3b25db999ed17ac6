/*
 * demo.c - reproducible demo data (see demo.h). A tiny LCG picks from
 * word lists; it is not random enough for anything but sample names.
 */
#include <stdio.h>
#include <string.h>

#include "demo.h"

static const char *const firsts[] = {
	"Anna", "Ben", "Carla", "David", "Elena", "Farid", "Greta", "Hugo",
	"Ines", "Jonas", "Kira", "Luis", "Maja", "Nils", "Olga", "Pavel",
	"Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Yusuf", "Zoe",
};
static const char *const lasts[] = {
	"Almeida", "Berger", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia",
	"Hansen", "Ivanova", "Jensen", "Kowalski", "Lopez", "Meyer", "Novak",
	"Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Urban",
};
static const char *const words[] = {
	"Alpine", "Harbor", "Summit", "Northern", "Granite", "Silver", "Meadow",
	"Coastal", "Pioneer", "Cedar", "Horizon", "Keystone", "Riverside",
	"Golden", "Prairie", "Atlas", "Beacon", "Crescent", "Evergreen", "Falcon",
};
static const char *const kinds[] = {
	"Foods", "Hardware", "Pharmacy", "Logistics", "Textiles", "Motors",
	"Farm Supply", "Builders", "Electric", "Bakery", "Clinic", "Outfitters",
};
static const char *const suffixes[] = { "Ltd", "GmbH", "& Co", "Inc", "SA", "Group" };
static const char *const industries[] = {
	"retail", "wholesale", "healthcare", "construction", "agriculture",
	"manufacturing", "hospitality", "transport",
};
static const char *const regions[] = { "north", "south", "east", "west", "central" };
static const char *const grades[] = { "potential", "existing", "key" };
static const char *const streets[] = {
	"Station Road", "Mill Lane", "High Street", "Market Square", "Church Way",
	"Harbour Quay", "Oak Avenue", "Bridge Street",
};
static const char *const towns[] = {
	"Kingsford", "Ashby", "Linton", "Marlow", "Eastgate", "Westbrook",
	"Norham", "Southwell",
};
static const char *const titles[] = {
	"Owner", "Purchasing Manager", "Store Manager", "Head of Operations",
	"Buyer", "Managing Director", "Accountant",
};
static const char *const owners[] = { "alice", "bob", "carol", "dan" };

#define PICK(st, a) ((a)[lcg(st) % (sizeof(a) / sizeof((a)[0]))])

static unsigned lcg(unsigned *st)
{
	*st = *st * 1103515245u + 12345u;
	return (*st >> 16) & 0x7fff;
}

static int put(struct rec *r, const char *field, const char *text)
{
	int i = tbl_field(r->t, field, strlen(field));

	r->f[i].set = true;
	return val_set_text(&r->f[i].v, text, strlen(text));
}

static int put_num(struct rec *r, const char *field, double v, bool integer)
{
	int i = tbl_field(r->t, field, strlen(field));

	r->f[i].set = true;
	if (integer)
		val_set_int(&r->f[i].v, (int64_t)v);
	else
		val_set_real(&r->f[i].v, v);
	return OP_OK;
}

static int demo_customer(struct rec *r, unsigned *st)
{
	char name[128], addr[128], phone[40], mail[128], web[128], word[32];
	const char *w = PICK(st, words);
	int rc = 0;

	snprintf(word, sizeof(word), "%s", w);
	for (char *p = word; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(name, sizeof(name), "%s %s %s", w, PICK(st, kinds), PICK(st, suffixes));
	snprintf(addr, sizeof(addr), "%u %s, %s", 1 + lcg(st) % 200, PICK(st, streets),
		 PICK(st, towns));
	snprintf(phone, sizeof(phone), "+44 20 %04u %04u", lcg(st) % 10000, lcg(st) % 10000);
	snprintf(web, sizeof(web), "https://www.%s%u.example", word, lcg(st) % 1000);
	snprintf(mail, sizeof(mail), "info@%s%u.example", word, lcg(st) % 1000);
	rc |= put(r, "name", name);
	rc |= put(r, "grade", PICK(st, grades));
	rc |= put(r, "region", PICK(st, regions));
	rc |= put(r, "industry", PICK(st, industries));
	rc |= put(r, "address", addr);
	rc |= put(r, "phone", phone);
	rc |= put(r, "email", mail);
	rc |= put(r, "website", web);
	rc |= put(r, "owner", PICK(st, owners));
	rc |= put_num(r, "credit", (double)(lcg(st) % 200) * 500.0, false);
	rc |= put_num(r, "satisfaction", 1 + lcg(st) % 5, true);
	return rc ? OP_ENOMEM : OP_OK;
}

static int demo_contact(struct rec *r, const char *customer, unsigned *st)
{
	char name[96], mail[128], phone[40], bday[16];
	const char *first = PICK(st, firsts), *last = PICK(st, lasts);
	int rc = 0;

	snprintf(name, sizeof(name), "%s %s", first, last);
	snprintf(mail, sizeof(mail), "%s.%s@mail.example", first, last);
	for (char *p = mail; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(phone, sizeof(phone), "+44 7%03u %06u", lcg(st) % 1000, lcg(st) % 1000000);
	snprintf(bday, sizeof(bday), "%04u-%02u-%02u", 1955 + lcg(st) % 45,
		 1 + lcg(st) % 12, 1 + lcg(st) % 28);
	rc |= put(r, "customer", customer);
	rc |= put(r, "name", name);
	rc |= put(r, "title", PICK(st, titles));
	rc |= put(r, "mobile", phone);
	rc |= put(r, "email", mail);
	rc |= put(r, "birthday", bday);
	return rc ? OP_ENOMEM : OP_OK;
}

/* Builds a record with fill(), then writes it as the server. */
static int demo_write(struct srv *s, const char *table, char id[RID_LEN + 1],
		      const char *customer, unsigned *st)
{
	struct rec *r;
	int rc;

	if (rid_new(id) || !(r = rec_new(tbl_find(table, strlen(table)), id)))
		return OP_ENOMEM;
	rc = customer ? demo_contact(r, customer, st) : demo_customer(r, st);
	if (!rc)
		rc = srv_write(s, r);
	rec_free(r);
	return rc;
}

/* Customers per transaction: a running server waits at most one chunk. */
#define DEMO_CHUNK 200

int demo_seed(struct srv *s, int ncustomers, unsigned seed)
{
	char cid[RID_LEN + 1], kid[RID_LEN + 1];
	unsigned st = seed;
	int i, k, rc = OP_OK;

	for (i = 0; i < ncustomers && !rc; i++) {
		if (i % DEMO_CHUNK == 0 && (rc = srv_begin(s)))
			return rc;
		rc = demo_write(s, "customer", cid, NULL, &st);
		for (k = 0; !rc && k < 1 + (int)(lcg(&st) % 3); k++)
			rc = demo_write(s, "contact", kid, cid, &st);
		if (!rc && (i % DEMO_CHUNK == DEMO_CHUNK - 1 || i == ncustomers - 1))
			rc = db_commit(srv_db(s));
	}
	if (rc)
		db_rollback(srv_db(s));
	return rc;
}
