/*
 * catalog_trigger.c
 *		Integrity of the lead_mgmt catalogs, and rule B2 when an administrator
 *		makes a category lead-enabled.
 *
 *	category_guard()		key format, C1, immutable keys once in use, no hard
 *							delete of rows in use or shipped; a change of
 *							whether the category is lead-enabled takes that
 *							category's lock (waits for its writers only)
 *	category_cascade()		B2/B3 for every company of a category that
 *							changed side (see cascade.c)
 *	lead_status_guard()		key format, S1 (the default moves, cannot be
 *							deleted or unset), immutable keys, no hard delete
 *	check_single_default()	deferred: exactly one default at commit (S1)
 *	label_guard()			labels name a known key and language once;
 *							shipped labels keep their key and stay
 *	catalog_changed()		statement trigger: invalidate the catalog caches
 *							of every backend
 *	refuse_truncate()		catalogs are not truncated
 *	restore_shipped_row()	on restore (or any insert of a row marked
 *							shipped), merge the row into the shipped row
 *							CREATE EXTENSION already inserted
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "cascade.h"
#include "catalog_cache.h"
#include "category_lock.h"
#include "company_cache.h"
#include "citus.h"
#include "layout.h"

PG_FUNCTION_INFO_V1(lm_category_guard);
PG_FUNCTION_INFO_V1(lm_category_cascade);
PG_FUNCTION_INFO_V1(lm_lead_status_guard);
PG_FUNCTION_INFO_V1(lm_check_single_default);
PG_FUNCTION_INFO_V1(lm_label_guard);
PG_FUNCTION_INFO_V1(lm_transition_guard);
PG_FUNCTION_INFO_V1(lm_catalog_changed);
PG_FUNCTION_INFO_V1(lm_refuse_truncate);
PG_FUNCTION_INFO_V1(lm_restore_shipped_row);

/* ---- column access on the catalogs' own rows ---- */

static Datum
LmCol(HeapTuple tuple, TupleDesc desc, const char *name, bool *isnull)
{
	int			attno = SPI_fnumber(desc, name);

	if (attno <= 0)
		elog(ERROR, "lead_mgmt catalog has no column \"%s\"", name);
	return heap_getattr(tuple, attno, desc, isnull);
}

static char *
LmColText(HeapTuple tuple, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = LmCol(tuple, desc, name, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static bool
LmColBool(HeapTuple tuple, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = LmCol(tuple, desc, name, &isnull);

	return !isnull && DatumGetBool(d);
}

static char *
LmColGroup(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		d = LmCol(tuple, desc, "category_group", &isnull);

	return isnull ? NULL : OidOutputFunctionCall(F_ENUM_OUT, d);
}

/* lead-enabled: group potential_customer and enable_lead_status */
static bool
LmCategoryTupleEnabled(HeapTuple tuple, TupleDesc desc)
{
	/* the flag alone: the CHECK constraint of rule C1 keeps it to the group */
	return LmColBool(tuple, desc, "enable_lead_status");
}

/* ---- shared checks ---- */

static void
LmCheckKeyFormat(const char *what, const char *key)
{
	bool		ok = key != NULL && key[0] >= 'a' && key[0] <= 'z' &&
		strlen(key) < LM_KEY_LEN;
	const char *p;

	for (p = key ? key + 1 : ""; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s key \"%s\"", what, key ? key : ""),
				 errhint("A key is a lower-case identifier: a letter, then letters, digits or underscores, at most 63 bytes.")));
}

/*
 * Whether a name shows nothing: empty, or only white space, the Unicode
 * spaces (no-break, ideographic, ...) and invisible separators included.
 */
static bool
LmBlank(const char *name)
{
	const unsigned char *p = (const unsigned char *) (name ? name : "");

	while (*p != '\0')
	{
		if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
			p++;
		else if (GetDatabaseEncoding() == PG_UTF8 && *p >= 0x80)
		{
			pg_wchar	c = utf8_to_unicode(p);

			if (c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200B) ||
				c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
				c == 0xFEFF)
				p += pg_utf_mblen(p);
			else
				return false;
		}
		else
			return false;
	}
	return true;
}

/* A catalog row needs a name that is not blank. */
static void
LmCheckName(Relation rel, HeapTuple tuple, const char *key)
{
	char	   *name = LmColText(tuple, RelationGetDescr(rel), "name");

	if (LmBlank(name))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("the name of \"%s\" in lead_mgmt.%s must not be empty", key,
						RelationGetRelationName(rel)),
				 errhint("Give it a name, the English label shown to users.")));
}

/* stale_after_days: a positive number of days, or NULL for never. */
static void
LmCheckStaleAfter(HeapTuple tuple, TupleDesc desc, const char *key)
{
	bool		isnull;
	Datum		d = LmCol(tuple, desc, "stale_after_days", &isnull);

	if (!isnull && DatumGetInt32(d) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("stale_after_days of lead status \"%s\" is %d", key, DatumGetInt32(d)),
				 errhint("Use a positive number of days, or NULL for a status that never goes stale.")));
}

/*
 * Whether the catalogs are reference tables of a Citus cluster: their
 * triggers then fire on every node's copy, and each looks at the shards of
 * its own node (together they see every shard).
 */
static bool
LmCatalogsDistributed(void)
{
	return LmCitusInstalled() && LmCitusTable(LmGetOids()->category);
}

/*
 * A count over the managed tables (0 while nothing is managed), or on a
 * Citus node over the shards of this node.
 */
static int64
LmCatalogUsersCount(LmPlanId id, Datum *arg)
{
	LmLayout   *layout;
	int64		n = 0;

	if (LmCatalogsDistributed())
	{
		ListCell   *lc;

		foreach(lc, LmLocalShardLayouts())
			n += LmCountAsOwner((LmLayout *) lfirst(lc), id, arg);
		return n;
	}
	layout = LmGetLayout();
	return layout == NULL ? 0 : LmCountAsOwner(layout, id, arg);
}

/* How many companies have the category (0 while nothing is managed). */
static int64
LmCategoryUsers(const char *key)
{
	Datum		arg = CStringGetTextDatum(key);

	return LmCatalogUsersCount(LM_PLAN_CATEGORY_USERS, &arg);
}

static bool
LmCategoryInUse(const char *key)
{
	return LmCategoryUsers(key) > 0;
}

/*
 * Who uses a status: how many persons hold it, and the transition rules
 * that name it (NULL when none).
 */
static int64
LmStatusUsers(const char *key, char **rules)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			ret;
	bool		isnull;
	Datum		value;

	args[0] = CStringGetTextDatum(key);
	*rules = NULL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT pg_catalog.string_agg(pg_catalog.format('%s -> %s', from_status, to_status),"
								"                             ', ' ORDER BY from_status, to_status)"
								"  FROM lead_mgmt.status_transition"
								" WHERE from_status OPERATOR(pg_catalog.=) $1"
								"    OR to_status OPERATOR(pg_catalog.=) $1",
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		MemoryContext spi = MemoryContextSwitchTo(CurTransactionContext);

		*rules = TextDatumGetCString(value);
		MemoryContextSwitchTo(spi);
	}
	SPI_finish();
	return LmCatalogUsersCount(LM_PLAN_STATUS_HOLDERS, args);
}

static bool
LmStatusInUse(const char *key)
{
	char	   *rules;

	return LmStatusUsers(key, &rules) > 0 || rules != NULL;
}

/* Shipped catalog rows are retired with deleted = true, never deleted. */
static void
LmCheckShippedDelete(HeapTuple oldtuple, TupleDesc desc, const char *what,
					 const char *key)
{
	if (lm_catalog_internal == 0 && LmColBool(oldtuple, desc, "shipped"))
		ereport(ERROR,
				(errcode(ERRCODE_LM_SHIPPED_ROW),
				 errmsg("%s \"%s\" ships with lead_mgmt and cannot be deleted", what, key),
				 errhint("Set deleted = true to retire it; deleted = false brings it back.")));
}

static void
LmRefuseShippedFlag(Relation rel)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_SHIPPED_ROW),
			 errmsg("column \"shipped\" of lead_mgmt.%s cannot be changed",
					RelationGetRelationName(rel)),
			 errhint("It marks the rows that ship with lead_mgmt and is maintained by the extension.")));
}

/*
 * Keys are immutable once in use; shipped keys always.
 */
static void
LmCheckKeyChange(const char *what, const char *oldkey, const char *newkey,
				 bool shipped, bool in_use)
{
	if (!shipped && !in_use)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_LM_KEY_IMMUTABLE),
			 errmsg("key of %s \"%s\" cannot change to \"%s\"", what, oldkey, newkey),
			 shipped ?
			 errdetail("The %s ships with lead_mgmt.", what) :
			 errdetail("The %s is in use.", what),
			 errhint("Keys are immutable once used; change the name instead, or add a new %s.", what)));
}

/*
 * UPDATE of a catalog row: its key changes only while unused and not
 * shipped, and the shipped flag is the extension's.
 */
static void
LmCheckRowIdentity(TriggerData *trigdata, const char *what,
				   bool (*in_use) (const char *key))
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	char	   *oldkey = LmColText(trigdata->tg_trigtuple, desc, "key");
	char	   *newkey = LmColText(trigdata->tg_newtuple, desc, "key");
	bool		shipped = LmColBool(trigdata->tg_trigtuple, desc, "shipped");

	if (strcmp(oldkey, newkey) != 0)
		LmCheckKeyChange(what, oldkey, newkey,
						 shipped && lm_catalog_internal == 0, in_use(oldkey));
	if (lm_catalog_internal == 0 &&
		shipped != LmColBool(trigdata->tg_newtuple, desc, "shipped"))
		LmRefuseShippedFlag(trigdata->tg_relation);
}

/* ---- category ---- */

/*
 * The companies of a category whose lead-enabled flag is about to change,
 * locked before the category (see LmLockCategoryCompanies): on a Citus node
 * those of this node's shards.
 */
static void
LmLockFlipCompanies(const char *key)
{
	LmLayout   *layout;

	if (!LmRulesActive())
		return;
	if (LmCatalogsDistributed())
	{
		ListCell   *lc;

		foreach(lc, LmLocalShardLayouts())
			LmLockCategoryCompanies((LmLayout *) lfirst(lc), key);
		return;
	}
	layout = LmGetLayout();
	if (layout != NULL)
		LmLockCategoryCompanies(layout, key);
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.category FOR EACH ROW
 */
Datum
lm_category_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtuple;
	HeapTuple	oldtuple;
	char	   *key;
	char	   *group;

	LmCheckTriggerContext(fcinfo, "category_guard", true, true);
	desc = RelationGetDescr(trigdata->tg_relation);
	oldtuple = trigdata->tg_trigtuple;
	LmCatalogInvalidate();
	LmNoteCatalogWrite();

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		int64		users;

		key = LmColText(oldtuple, desc, "key");
		LmCheckShippedDelete(oldtuple, desc, "category", key);
		users = LmCategoryUsers(key);
		if (users > 0)
			ereport(ERROR,
					(errcode(ERRCODE_LM_IN_USE),
					 errmsg("category \"%s\" is in use and cannot be deleted", key),
					 errdetail(INT64_FORMAT " %s this category.", users,
							   users == 1 ? "company has" : "companies have"),
					 errhint("Set deleted = true to retire it (companies that have it keep it), or give those companies another category first.")));
		return PointerGetDatum(oldtuple);
	}

	newtuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : oldtuple;
	key = LmColText(newtuple, desc, "key");
	LmCheckKeyFormat("category", key);
	LmCheckName(trigdata->tg_relation, newtuple, key);
	group = LmColGroup(newtuple, desc);
	if (LmColBool(newtuple, desc, "enable_lead_status") && !LmIsLeadGroup(group))
		ereport(ERROR,
				(errcode(ERRCODE_LM_LEAD_STATUS_GROUP),
				 errmsg("category \"%s\" in group \"%s\" cannot enable lead status",
						key, group ? group : ""),
				 errdetail("enable_lead_status can only be on for categories in group potential_customer."),
				 errhint("Set category_group = 'potential_customer' in the same statement, or leave enable_lead_status off.")));

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		LmCheckRowIdentity(trigdata, "category", LmCategoryInUse);
		if (LmCategoryTupleEnabled(oldtuple, desc) != LmCategoryTupleEnabled(newtuple, desc))
		{
			/*
			 * whether companies show lead status changes: wait for its
			 * writers, locking their companies first, as they do
			 */
			LmLockFlipCompanies(key);
			LmLockCategoryForFlip(key);
			LmCompanyCacheReset();
		}
	}
	return PointerGetDatum(newtuple);
}

/*
 * AFTER UPDATE ON lead_mgmt.category FOR EACH ROW
 * WHEN (group or enable_lead_status changed): rules B2 and B3 by catalog
 * change, for every company of the category.
 */
Datum
lm_category_cascade(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	LmLayout   *layout;
	bool		was_enabled;
	bool		now_enabled;

	LmCheckTriggerContext(fcinfo, "category_cascade", false, true);
	if (!LmRulesActive())
		return PointerGetDatum(NULL);
	desc = RelationGetDescr(trigdata->tg_relation);
	was_enabled = LmCategoryTupleEnabled(trigdata->tg_trigtuple, desc);
	now_enabled = LmCategoryTupleEnabled(trigdata->tg_newtuple, desc);
	if (was_enabled == now_enabled)
		return PointerGetDatum(NULL);

	/*
	 * Nothing to do while the managed tables have no rules yet: during a
	 * restore, catalog rows are merged before manage()'s triggers exist,
	 * and the persons' restored statuses are already right.
	 */
	if (LmCatalogsDistributed())
	{
		/* this node's copy changed: the companies of this node's shards follow */
		ListCell   *lc;

		foreach(lc, LmLocalShardLayouts())
			LmCascadeCategory((LmLayout *) lfirst(lc),
							  LmColText(trigdata->tg_newtuple, desc, "key"), now_enabled);
		return PointerGetDatum(NULL);
	}
	layout = LmGetLayout();
	if (layout == NULL)
		return PointerGetDatum(NULL);
	LmCascadeCategory(layout, LmColText(trigdata->tg_newtuple, desc, "key"), now_enabled);
	return PointerGetDatum(NULL);
}

/* ---- lead_status ---- */

/*
 * Run a statement on a catalog as lead_mgmt itself: the guards let through
 * what only lead_mgmt may do (move the default flag, merge a restored row).
 */
static uint64
LmCatalogInternalUpdate(const char *sql, int nargs, Oid *types, Datum *values,
						const char *nulls)
{
	volatile int ret = 0;
	uint64		processed;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	lm_catalog_internal++;
	PG_TRY();
	{
		ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		lm_catalog_internal--;
	}
	PG_END_TRY();
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args failed for \"%s\": %s", sql,
			 SPI_result_code_string(ret));
	processed = SPI_processed;
	SPI_finish();
	return processed;
}

/*
 * Make the given status the only default (rule S1: the flag moves).
 */
static void
LmMoveDefault(Relation rel, const char *key)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	/* the table the trigger fires on: on a Citus node, this node's copy */
	args[0] = CStringGetTextDatum(key);
	LmCatalogInternalUpdate(psprintf("UPDATE %s SET is_default = false"
									 " WHERE is_default AND key OPERATOR(pg_catalog.<>) $1",
									 LmRelQualifiedName(rel)),
							1, argtypes, args, NULL);
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE ON lead_mgmt.lead_status FOR EACH ROW
 */
Datum
lm_lead_status_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtuple;
	HeapTuple	oldtuple;
	char	   *key;
	bool		is_default;
	bool		was_default = false;

	LmCheckTriggerContext(fcinfo, "lead_status_guard", true, true);
	desc = RelationGetDescr(trigdata->tg_relation);
	oldtuple = trigdata->tg_trigtuple;
	LmCatalogInvalidate();
	LmNoteCatalogWrite();

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		key = LmColText(oldtuple, desc, "key");
		LmCheckShippedDelete(oldtuple, desc, "lead status", key);
		if (LmColBool(oldtuple, desc, "is_default"))
			ereport(ERROR,
					(errcode(ERRCODE_LM_DEFAULT_STATUS),
					 errmsg("lead status \"%s\" is the default and cannot be deleted", key),
					 errhint("Make another status the default first: UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = '...';")));
		{
			char	   *rules;
			int64		holders = LmStatusUsers(key, &rules);

			if (holders > 0 || rules != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_LM_IN_USE),
						 errmsg("lead status \"%s\" is in use and cannot be deleted", key),
						 holders > 0 && rules != NULL ?
						 errdetail(INT64_FORMAT " %s it, and transition rules name it: %s.",
								   holders, holders == 1 ? "person holds" : "persons hold", rules) :
						 holders > 0 ?
						 errdetail(INT64_FORMAT " %s it.", holders,
								   holders == 1 ? "person holds" : "persons hold") :
						 errdetail("Transition rules name it: %s.", rules),
						 errhint("Set deleted = true to retire it (persons who hold it keep it), or move its holders to another status and delete the transition rules first.")));
		}
		return PointerGetDatum(oldtuple);
	}

	newtuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : oldtuple;
	key = LmColText(newtuple, desc, "key");
	LmCheckKeyFormat("lead status", key);
	LmCheckName(trigdata->tg_relation, newtuple, key);
	LmCheckStaleAfter(newtuple, desc, key);
	is_default = LmColBool(newtuple, desc, "is_default");
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		was_default = LmColBool(oldtuple, desc, "is_default");
	if (is_default && LmColBool(newtuple, desc, "deleted"))
	{
		if (was_default)
			ereport(ERROR,
					(errcode(ERRCODE_LM_DEFAULT_STATUS),
					 errmsg("the default lead status \"%s\" cannot be deleted", key),
					 errhint("Make another status the default first: UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = '...';")));
		ereport(ERROR,
				(errcode(ERRCODE_LM_DEFAULT_STATUS),
				 errmsg("deleted lead status \"%s\" cannot be the default", key),
				 errhint("Restore it first with deleted = false.")));
	}

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		LmCheckRowIdentity(trigdata, "lead status", LmStatusInUse);
		if (lm_catalog_internal == 0 && was_default && !is_default)
			ereport(ERROR,
					(errcode(ERRCODE_LM_DEFAULT_STATUS),
					 errmsg("lead status \"%s\" is the default; there must always be exactly one",
							LmColText(oldtuple, desc, "key")),
					 errhint("Make another status the default instead; the flag moves by itself: UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = '...';")));
	}
	if (is_default && !was_default)
		LmMoveDefault(trigdata->tg_relation, key);
	return PointerGetDatum(newtuple);
}

/*
 * Deferred constraint trigger on lead_mgmt.lead_status: exactly one default
 * that is not deleted (rule S1), whatever happened during the transaction.
 */
Datum
lm_check_single_default(PG_FUNCTION_ARGS)
{
	int			ret;
	bool		isnull;
	int64		n;

	LmCheckTriggerContext(fcinfo, "check_single_default", false, true);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* not read-only: the statement that fired this must be visible */
	ret = SPI_execute(psprintf("SELECT pg_catalog.count(*) FROM %s"
							   " WHERE is_default AND NOT deleted",
							   LmRelQualifiedName(((TriggerData *) fcinfo->context)->tg_relation)),
					  false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_LM_DEFAULT_STATUS),
				 errmsg("lead_mgmt.lead_status must have exactly one default status, it has " INT64_FORMAT, n),
				 errhint("Set is_default = true on one status that is not deleted.")));
	return PointerGetDatum(NULL);
}

/* ---- references between catalogs ---- */

/*
 * Whether a key exists in lead_mgmt.category or lead_mgmt.lead_status.  A
 * key not found may be on its way: a parallel pg_restore loads the
 * catalogs side by side, in no particular order (it does not wait for the
 * data of one configuration table before loading another's).  So the
 * lookup waits for in-flight writers of that catalog (a SHARE lock,
 * released at once) and looks again before it says no; and while a dump is
 * being restored (check_function_bodies is off, as pg_dump's output sets
 * it), it also waits up to LM_RESTORE_WAIT_MS for the catalog's data to
 * arrive.
 */
#define LM_RESTORE_WAIT_MS 30000

static bool
LmCatalogKeyExists(Oid catalog, const char *key)
{
	LmCategory	c;
	LmStatus	st;
	bool		category = catalog == LmGetOids()->category;
	int			waited = 0;

	if (strlen(key) >= LM_KEY_LEN)
		return false;
	for (;;)
	{
		if (category ? LmLookupCategory(key, &c) : LmLookupStatus(key, &st))
			return true;
		LockRelationOid(catalog, ShareLock);
		UnlockRelationOid(catalog, ShareLock);
		LmCatalogInvalidate();
		if (category ? LmLookupCategory(key, &c) : LmLookupStatus(key, &st))
			return true;
		if (check_function_bodies || waited >= LM_RESTORE_WAIT_MS)
			return false;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(20 * 1000L);
		waited += 20;
		LmCatalogInvalidate();
	}
}

/*
 * BEFORE INSERT OR UPDATE ON lead_mgmt.status_transition FOR EACH ROW:
 * both statuses exist, and a rule is a move (rule S2).
 */
Datum
lm_transition_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tuple;
	char	   *from;
	char	   *to;
	const char *missing = NULL;

	LmCheckTriggerContext(fcinfo, "transition_guard", true, true);
	desc = RelationGetDescr(trigdata->tg_relation);
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	LmNoteCatalogWrite();
	from = LmColText(tuple, desc, "from_status");
	to = LmColText(tuple, desc, "to_status");
	if (from == NULL || to == NULL)
		return PointerGetDatum(tuple);	/* NOT NULL says so */
	if (!LmCatalogKeyExists(LmGetOids()->lead_status, from))
		missing = from;
	else if (!LmCatalogKeyExists(LmGetOids()->lead_status, to))
		missing = to;
	if (missing != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("lead status \"%s\" of a transition rule does not exist", missing),
				 errhint("Valid lead statuses are: %s.", LmStatusList())));
	if (strcmp(from, to) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("transition rule from \"%s\" to itself", from),
				 errhint("A rule lists a move to another status; a status needs no rule to stay as it is.")));
	return PointerGetDatum(tuple);
}

/* ---- labels ---- */

/* A language tag: en, nb, pt_BR (as lead_mgmt.language accepts). */
static bool
LmLanguageTagValid(const char *tag)
{
	const char *p = tag;
	int			n = 0;

	while (*p >= 'a' && *p <= 'z')
		p++, n++;
	if (n < 2 || n > 3)
		return false;
	if (*p == '\0')
		return true;
	if (*p != '_' && *p != '-')
		return false;
	p++;
	n = 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
		p++, n++;
	return *p == '\0' && n >= 2 && n <= 8;
}

/*
 * A label row: a known key, a valid language, a name, and one label per
 * key and language (checked before the constraints, to say what is wrong).
 */
static void
LmCheckLabel(TriggerData *trigdata, HeapTuple tuple)
{
	Relation	rel = trigdata->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	const char *relname = RelationGetRelationName(rel);
	const char *keycol = trigdata->tg_trigger->tgargs[0];
	int			keyattno = SPI_fnumber(desc, keycol);
	char	   *key = SPI_getvalue(tuple, desc, keyattno);
	char	   *language = LmColText(tuple, desc, "language");
	char	   *name = LmColText(tuple, desc, "name");
	bool		known = true;
	const char *valid = NULL;

	if (key == NULL || language == NULL || name == NULL)
		return;					/* NOT NULL says so */
	if (strcmp(relname, "category_label") == 0)
	{
		known = LmCatalogKeyExists(LmGetOids()->category, key);
		valid = LmCategoryList();
	}
	else if (strcmp(relname, "lead_status_label") == 0)
	{
		known = LmCatalogKeyExists(LmGetOids()->lead_status, key);
		valid = LmStatusList();
	}
	if (!known)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s \"%s\" of a label in lead_mgmt.%s does not exist", keycol, key, relname),
				 errhint("Valid keys are: %s.", valid)));
	if (!LmLanguageTagValid(language))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid language \"%s\" for a label in lead_mgmt.%s", language, relname),
				 errhint("A language is a lower-case language code with an optional region, such as en, nb or pt_BR.")));
	LmCheckName(rel, tuple, key);
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		Oid			argtypes[2] = {TEXTOID, TEXTOID};
		Datum		args[2];
		int			ret;
		bool		taken;

		args[0] = CStringGetTextDatum(key);
		args[1] = CStringGetTextDatum(language);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ret = SPI_execute_with_args(psprintf("SELECT 1 FROM lead_mgmt.%s WHERE %s::pg_catalog.text OPERATOR(pg_catalog.=) $1"
											 " AND language OPERATOR(pg_catalog.=) $2",
											 quote_identifier(relname), quote_identifier(keycol)),
									2, argtypes, args, NULL, true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
		taken = SPI_processed > 0;
		SPI_finish();
		if (taken)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("%s \"%s\" has a label in language \"%s\" already", keycol, key, language),
					 errhint("Change it instead: UPDATE lead_mgmt.%s SET name = ... WHERE %s = '%s' AND language = '%s';",
							 relname, keycol, key, language)));
	}
}

/*
 * BEFORE UPDATE OR DELETE ON lead_mgmt.*_label FOR EACH ROW, arguments: the
 * key columns.  Shipped labels can be edited but keep their key and stay.
 */
Datum
lm_label_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	oldtuple;
	int			i;

	LmCheckTriggerContext(fcinfo, "label_guard", true, true);
	desc = RelationGetDescr(trigdata->tg_relation);
	oldtuple = trigdata->tg_trigtuple;
	if (!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) && lm_catalog_internal == 0)
		LmCheckLabel(trigdata, TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
					 trigdata->tg_newtuple : oldtuple);
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		return PointerGetDatum(oldtuple);
	if (lm_catalog_internal > 0 || !LmColBool(oldtuple, desc, "shipped"))
		return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
							   trigdata->tg_newtuple : oldtuple);

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_LM_SHIPPED_ROW),
				 errmsg("label of lead_mgmt.%s ships with lead_mgmt and cannot be deleted",
						RelationGetRelationName(trigdata->tg_relation)),
				 errhint("Change its name or description instead.")));
	if (!LmColBool(trigdata->tg_newtuple, desc, "shipped"))
		LmRefuseShippedFlag(trigdata->tg_relation);
	for (i = 0; i < trigdata->tg_trigger->tgnargs; i++)
	{
		int			attno = SPI_fnumber(desc, trigdata->tg_trigger->tgargs[i]);
		char	   *before = SPI_getvalue(oldtuple, desc, attno);
		char	   *after = SPI_getvalue(trigdata->tg_newtuple, desc, attno);

		if (before == NULL || after == NULL || strcmp(before, after) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_LM_KEY_IMMUTABLE),
					 errmsg("key column \"%s\" of a shipped label in lead_mgmt.%s cannot change",
							trigdata->tg_trigger->tgargs[i],
							RelationGetRelationName(trigdata->tg_relation)),
					 errhint("Add a label of your own for another language or row.")));
	}
	return PointerGetDatum(trigdata->tg_newtuple);
}

/* ---- statement triggers ---- */

/*
 * AFTER INSERT OR UPDATE OR DELETE [OR TRUNCATE] FOR EACH STATEMENT on the
 * catalogs and the registration: every backend rebuilds its cache.
 */
Datum
lm_catalog_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			relid;

	LmCheckTriggerContext(fcinfo, "catalog_changed", false, false);
	relid = RelationGetRelid(trigdata->tg_relation);
	CacheInvalidateRelcacheByRelid(relid);
	/* on a Citus node this is a copy: the caches watch the table itself */
	if (LmCitusShardIdOf(RelationGetRelationName(trigdata->tg_relation)) > 0 &&
		LmCitusInstalled())
	{
		char	   *name = pstrdup(RelationGetRelationName(trigdata->tg_relation));
		Oid			table;

		*strrchr(name, '_') = '\0';
		table = get_relname_relid(name, RelationGetNamespace(trigdata->tg_relation));
		if (OidIsValid(table))
		{
			CacheInvalidateRelcacheByRelid(table);
			relid = table;
		}
	}
	LmNoteCatalogWrite();
	LmCatalogInvalidate();
	if (relid == LmGetOids()->registration)
		LmLayoutInvalidate();
	LmCompanyCacheReset();
	return PointerGetDatum(NULL);
}

/*
 * BEFORE TRUNCATE FOR EACH STATEMENT on the catalogs.
 */
Datum
lm_refuse_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	LmCheckTriggerContext(fcinfo, "refuse_truncate", true, false);
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot truncate lead_mgmt.%s", RelationGetRelationName(trigdata->tg_relation)),
			 errhint("Retire rows with deleted = true; labels are updated or deleted one by one.")));
	PG_RETURN_NULL();
}

/*
 * BEFORE INSERT FOR EACH ROW on the catalogs, arguments: the key columns.
 *
 * pg_dump dumps every catalog row; restoring runs CREATE EXTENSION first,
 * which inserts the shipped rows again.  A dumped row marked shipped is
 * therefore merged into the existing shipped row (its values win) instead
 * of colliding.  Checks that span rows (one default status) are left to the
 * deferred check at commit, since the order of restored rows is arbitrary.
 */
Datum
lm_restore_shipped_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel = trigdata->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	HeapTuple	tuple = trigdata->tg_trigtuple;
	StringInfoData sql;
	StringInfoData where;
	Datum	   *values;
	bool	   *isnull;
	Oid		   *types;
	char	   *nulls;
	int			nargs = 0;
	int			i;
	bool		first_set = true;
	uint64		merged;

	LmCheckTriggerContext(fcinfo, "restore_shipped_row", true, true);
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.restore_shipped_row() must be fired for INSERT")));
	if (!LmColBool(tuple, desc, "shipped"))
		return PointerGetDatum(tuple);

	values = palloc(desc->natts * sizeof(Datum));
	isnull = palloc(desc->natts * sizeof(bool));
	types = palloc(desc->natts * sizeof(Oid));
	nulls = palloc(desc->natts * sizeof(char));
	heap_deform_tuple(tuple, desc, values, isnull);

	initStringInfo(&sql);
	initStringInfo(&where);
	appendStringInfo(&sql, "UPDATE %s SET ",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = NameStr(att->attname);
		bool		is_key = false;
		int			k;

		if (att->attisdropped)
			continue;
		for (k = 0; k < trigdata->tg_trigger->tgnargs; k++)
			if (strcmp(trigdata->tg_trigger->tgargs[k], name) == 0)
				is_key = true;
		types[nargs] = att->atttypid;
		values[nargs] = values[i];
		nulls[nargs] = isnull[i] ? 'n' : ' ';
		nargs++;
		if (is_key)
			appendStringInfo(&where, "%s%s OPERATOR(pg_catalog.=) $%d",
							 where.len > 0 ? " AND " : "", quote_identifier(name), nargs);
		else
		{
			appendStringInfo(&sql, "%s%s = $%d", first_set ? "" : ", ",
							 quote_identifier(name), nargs);
			first_set = false;
		}
	}
	if (where.len == 0)
		elog(ERROR, "restore_shipped_row() needs the key columns as arguments");
	appendStringInfo(&sql, " WHERE %s", where.data);

	merged = LmCatalogInternalUpdate(sql.data, nargs, types, values, nulls);
	if (merged > 0)
		return PointerGetDatum(NULL);

	/* no such row ships with this version: it is an ordinary row */
	{
		int			attno = SPI_fnumber(desc, "shipped");
		Datum		value = BoolGetDatum(false);
		bool		null = false;

		return PointerGetDatum(heap_modify_tuple_by_cols(tuple, desc, 1, &attno,
														 &value, &null));
	}
}
