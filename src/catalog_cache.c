/*
 * catalog_cache.c
 *		Backend-local cache of lead_mgmt.category, lead_mgmt.lead_status and
 *		lead_mgmt.status_transition.
 *
 * The cache is read with the latest snapshot, so it always reflects the
 * committed catalog plus this transaction's own changes.  It is marked stale
 * by the relcache callback (catalog_changed() sends an invalidation after
 * every catalog statement, and the guards mark it stale at once) and rebuilt
 * on next use.  A lookup that misses or finds a deleted row first processes
 * pending invalidations, so a row another session just committed is seen.
 * A transaction that wrote a catalog and aborts drops the cache (it may hold
 * the uncommitted rows): see LmNoteCatalogWrite().
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#include "postgres.h"

#include "access/xact.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "executor/spi.h"

#include "catalog_cache.h"

typedef struct LmTransitionKey
{
	char		from[LM_KEY_LEN];
	char		to[LM_KEY_LEN];
} LmTransitionKey;

typedef struct LmCatalogCache
{
	MemoryContext cxt;
	HTAB	   *categories;		/* LmCategory by key */
	HTAB	   *statuses;		/* LmStatus by key */
	HTAB	   *transitions;	/* LmTransitionKey set */
	int			nstatuses;
	char	  (*status_order)[LM_KEY_LEN];	/* all statuses by rank */
	char		default_key[LM_KEY_LEN];
	bool		has_default;
	Datum		default_datum;	/* default_key as text */
	char	   *status_list;	/* "open, contacting, ..." (not deleted) */
	char	   *category_list;
} LmCatalogCache;

static LmCatalogCache *catalog = NULL;
static bool catalog_valid = false;
static uint64 catalog_inval_count = 0;

/*
 * Mark the cache stale (called from the relcache callback and the guards).
 */
void
LmCatalogInvalidate(void)
{
	catalog_valid = false;
	catalog_inval_count++;
}

/*
 * Copy a text datum into a key buffer; false when it cannot be a key.
 */
bool
LmDatumToKey(Datum value, char *buf)
{
	text	   *t = DatumGetTextPP(value);
	int			len = VARSIZE_ANY_EXHDR(t);

	if (len >= LM_KEY_LEN)
		return false;
	memcpy(buf, VARDATA_ANY(t), len);
	buf[len] = '\0';
	return true;
}

/*
 * Whether a category group is the one in which lead status exists (rule
 * C1; a category is lead-enabled in it with enable_lead_status on).
 */
bool
LmIsLeadGroup(const char *group)
{
	return group != NULL && strcmp(group, "potential_customer") == 0;
}

/*
 * Byte-wise equality of two nullable text datums (keys are compared so).
 */
bool
LmTextEqual(Datum a, bool anull, Datum b, bool bnull)
{
	text	   *ta;
	text	   *tb;

	if (anull || bnull)
		return anull && bnull;
	ta = DatumGetTextPP(a);
	tb = DatumGetTextPP(b);
	return VARSIZE_ANY_EXHDR(ta) == VARSIZE_ANY_EXHDR(tb) &&
		memcmp(VARDATA_ANY(ta), VARDATA_ANY(tb), VARSIZE_ANY_EXHDR(ta)) == 0;
}

static HTAB *
LmCreateKeyHash(const char *name, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = LM_KEY_LEN;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, 32, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * Run a read-only catalog query with the latest snapshot.
 */
static void
LmCatalogQuery(const char *sql)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);
	int			ret;

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	ret = SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(),
							   InvalidSnapshot, true, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed for \"%s\": %s", sql,
			 SPI_result_code_string(ret));
}

static char *
LmGetText(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static bool
LmGetBool(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/*
 * Fill a fresh cache (in its own memory context) from the catalogs.
 */
static void
LmCatalogFill(LmCatalogCache *c)
{
	MemoryContext cxt = c->cxt;
	MemoryContext old;
	StringInfoData list;
	uint64		i;

	c->categories = LmCreateKeyHash("lead_mgmt categories", sizeof(LmCategory), cxt);
	c->statuses = LmCreateKeyHash("lead_mgmt statuses", sizeof(LmStatus), cxt);
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(LmTransitionKey);
		ctl.entrysize = sizeof(LmTransitionKey);
		ctl.hcxt = cxt;
		c->transitions = hash_create("lead_mgmt transitions", 32, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* categories */
	/*
	 * Lead-enabled is the flag alone: the CHECK constraint of rule C1 keeps
	 * it off outside group potential_customer.
	 */
	LmCatalogQuery("SELECT key, enable_lead_status, deleted"
				   "  FROM lead_mgmt.category ORDER BY rank, key");
	old = MemoryContextSwitchTo(cxt);
	initStringInfo(&list);
	MemoryContextSwitchTo(old);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *key = LmGetText(tup, desc, 1);
		LmCategory *entry;

		if (key == NULL || strlen(key) >= LM_KEY_LEN)
			continue;
		entry = hash_search(c->categories, key, HASH_ENTER, NULL);
		entry->deleted = LmGetBool(tup, desc, 3);
		entry->lead_enabled = LmGetBool(tup, desc, 2);
		if (!entry->deleted)
		{
			old = MemoryContextSwitchTo(cxt);
			appendStringInfo(&list, "%s%s", list.len > 0 ? ", " : "", key);
			MemoryContextSwitchTo(old);
		}
	}
	c->category_list = list.data;

	/* statuses */
	LmCatalogQuery("SELECT key, deleted, is_default FROM lead_mgmt.lead_status ORDER BY rank, key");
	old = MemoryContextSwitchTo(cxt);
	initStringInfo(&list);
	c->status_order = palloc0(sizeof(*c->status_order) * (SPI_processed + 1));
	MemoryContextSwitchTo(old);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *key = LmGetText(tup, desc, 1);
		LmStatus   *entry;

		if (key == NULL || strlen(key) >= LM_KEY_LEN)
			continue;
		entry = hash_search(c->statuses, key, HASH_ENTER, NULL);
		entry->deleted = LmGetBool(tup, desc, 2);
		entry->is_default = LmGetBool(tup, desc, 3);
		entry->has_transitions = false;
		entry->auto_category[0] = '\0';
		strlcpy(c->status_order[c->nstatuses++], key, LM_KEY_LEN);
		if (entry->is_default && !entry->deleted)
		{
			strlcpy(c->default_key, key, LM_KEY_LEN);
			c->has_default = true;
			old = MemoryContextSwitchTo(cxt);
			c->default_datum = CStringGetTextDatum(key);
			MemoryContextSwitchTo(old);
		}
		if (!entry->deleted)
		{
			old = MemoryContextSwitchTo(cxt);
			appendStringInfo(&list, "%s%s", list.len > 0 ? ", " : "", key);
			MemoryContextSwitchTo(old);
		}
	}
	c->status_list = list.data;

	/* transitions */
	LmCatalogQuery("SELECT from_status, to_status FROM lead_mgmt.status_transition");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *from = LmGetText(tup, desc, 1);
		char	   *to = LmGetText(tup, desc, 2);
		LmTransitionKey tkey;
		LmStatus   *status;

		if (from == NULL || to == NULL ||
			strlen(from) >= LM_KEY_LEN || strlen(to) >= LM_KEY_LEN)
			continue;
		memset(&tkey, 0, sizeof(tkey));
		strlcpy(tkey.from, from, LM_KEY_LEN);
		strlcpy(tkey.to, to, LM_KEY_LEN);
		hash_search(c->transitions, &tkey, HASH_ENTER, NULL);
		status = hash_search(c->statuses, from, HASH_FIND, NULL);
		if (status != NULL)
			status->has_transitions = true;
	}

	/* automatic category rules (rule A2); the table is new in 1.1.0 */
	if (OidIsValid(LmGetOids()->category_rule))
	{
		LmCatalogQuery("SELECT status, category FROM lead_mgmt.category_rule"
					   " WHERE enabled AND automatic");
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *from = LmGetText(tup, desc, 1);
			char	   *to = LmGetText(tup, desc, 2);
			LmStatus   *status;

			if (from == NULL || to == NULL || strlen(to) >= LM_KEY_LEN)
				continue;
			status = hash_search(c->statuses, from, HASH_FIND, NULL);
			if (status != NULL)
				strlcpy(status->auto_category, to, LM_KEY_LEN);
		}
	}

	SPI_finish();
}

/*
 * Build a fresh cache; its memory context is freed again on error.
 */
static LmCatalogCache *
LmCatalogBuild(void)
{
	MemoryContext cxt = AllocSetContextCreate(CacheMemoryContext, "lead_mgmt catalog cache",
											  ALLOCSET_SMALL_SIZES);
	LmCatalogCache *c = MemoryContextAllocZero(cxt, sizeof(LmCatalogCache));

	c->cxt = cxt;
	PG_TRY();
	{
		LmCatalogFill(c);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return c;
}

/*
 * Return a valid cache, rebuilding it when stale.  An invalidation that
 * arrives while building makes the build start over.
 */
static LmCatalogCache *
LmCatalog(void)
{
	while (!catalog_valid)
	{
		uint64		before = catalog_inval_count;
		LmCatalogCache *fresh = LmCatalogBuild();

		if (before != catalog_inval_count)
		{
			MemoryContextDelete(fresh->cxt);
			continue;
		}
		if (catalog != NULL)
			MemoryContextDelete(catalog->cxt);
		catalog = fresh;
		catalog_valid = true;
	}
	return catalog;
}

/*
 * Process pending invalidations; true when that made the cache stale.
 */
static bool
LmCatalogRefreshed(void)
{
	AcceptInvalidationMessages();
	return !catalog_valid;
}

bool
LmLookupCategory(const char *key, LmCategory *out)
{
	LmCategory *entry = hash_search(LmCatalog()->categories, key, HASH_FIND, NULL);

	if ((entry == NULL || entry->deleted) && LmCatalogRefreshed())
		entry = hash_search(LmCatalog()->categories, key, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	*out = *entry;
	return true;
}

bool
LmLookupStatus(const char *key, LmStatus *out)
{
	LmStatus   *entry = hash_search(LmCatalog()->statuses, key, HASH_FIND, NULL);

	if ((entry == NULL || entry->deleted) && LmCatalogRefreshed())
		entry = hash_search(LmCatalog()->statuses, key, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	*out = *entry;
	return true;
}

/*
 * Whether companies of this category show lead status (unknown: false).
 */
bool
LmCategoryEnabled(const char *key)
{
	LmCategory	category;

	return LmLookupCategory(key, &category) && category.lead_enabled;
}

/*
 * Rule S2: a move is allowed when the from-status has no transition rules,
 * or the rules list the to-status.
 */
bool
LmTransitionAllowed(const char *from, const char *to)
{
	LmCatalogCache *c = LmCatalog();
	LmStatus   *status = hash_search(c->statuses, from, HASH_FIND, NULL);
	LmTransitionKey tkey;

	if (status == NULL || !status->has_transitions)
		return true;
	memset(&tkey, 0, sizeof(tkey));
	strlcpy(tkey.from, from, LM_KEY_LEN);
	strlcpy(tkey.to, to, LM_KEY_LEN);
	return hash_search(c->transitions, &tkey, HASH_FIND, NULL) != NULL;
}

/*
 * The category an automatic rule gives a company when a person's status is
 * set to status (rule A2), or NULL.
 */
const char *
LmAutomaticCategory(const char *status)
{
	LmStatus   *entry = hash_search(LmCatalog()->statuses, status, HASH_FIND, NULL);

	return entry != NULL && entry->auto_category[0] != '\0' ? entry->auto_category : NULL;
}

/*
 * The key of the default status (rule S1 guarantees exactly one).
 */
const char *
LmDefaultStatusKey(void)
{
	LmCatalogCache *c = LmCatalog();

	if (!c->has_default && LmCatalogRefreshed())
		c = LmCatalog();
	if (!c->has_default)
		ereport(ERROR,
				(errcode(ERRCODE_LM_DEFAULT_STATUS),
				 errmsg("lead_mgmt.lead_status has no default status"),
				 errhint("Set is_default = true on one status that is not deleted.")));
	return c->default_key;
}

/*
 * The default status as a text datum owned by the cache: valid until the
 * cache is next rebuilt, so use it at once (the hot path of rule B1).
 */
Datum
LmDefaultStatusCached(void)
{
	(void) LmDefaultStatusKey();
	return catalog->default_datum;
}

const char *
LmStatusList(void)
{
	return LmCatalog()->status_list;
}

const char *
LmCategoryList(void)
{
	return LmCatalog()->category_list;
}

/*
 * The statuses a person may move to from the given one under rule S2, in
 * rank order, palloc'd in the caller's context.
 */
char *
LmNextStatusList(const char *from)
{
	LmCatalogCache *c = LmCatalog();
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < c->nstatuses; i++)
	{
		const char *to = c->status_order[i];
		LmStatus   *status = hash_search(c->statuses, to, HASH_FIND, NULL);

		if (status == NULL || status->deleted || strcmp(to, from) == 0)
			continue;
		if (LmTransitionAllowed(from, to))
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", to);
	}
	return buf.data;
}
