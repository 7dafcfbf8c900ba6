/*
 * catalog_trigger.c
 *		Integrity of the lead_mgmt catalogs, and rule B2 when an administrator
 *		makes a category lead-enabled.
 *
 *	category_guard()		key format, C1, immutable keys once in use, no hard
 *							delete of rows in use or shipped; a change of
 *							whether the category is lead-enabled takes the
 *							sentinel in ExclusiveLock (waits for writers)
 *	category_cascade()		B2 for every company of a category that became
 *							lead-enabled
 *	lead_status_guard()		key format, S1 (the default moves, cannot be
 *							deleted or unset), immutable keys, no hard delete
 *	check_single_default()	deferred: exactly one default at commit (S1)
 *	label_guard()			shipped labels keep their key and stay
 *	catalog_changed()		statement trigger: invalidate the catalog caches
 *							of every backend
 *	refuse_truncate()		catalogs are not truncated
 *	restore_shipped_row()	on restore (or any insert of a row marked
 *							shipped), merge the row into the shipped row
 *							CREATE EXTENSION already inserted
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "lead_mgmt.h"

PG_FUNCTION_INFO_V1(lm_category_guard);
PG_FUNCTION_INFO_V1(lm_category_cascade);
PG_FUNCTION_INFO_V1(lm_lead_status_guard);
PG_FUNCTION_INFO_V1(lm_check_single_default);
PG_FUNCTION_INFO_V1(lm_label_guard);
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
	char	   *group = LmColGroup(tuple, desc);

	return LmColBool(tuple, desc, "enable_lead_status") && LmIsLeadGroup(group);
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
 * Run a one-row existence query of the layout as the owner of its table.
 */
static bool
LmLayoutHasRow(LmLayout *layout, LmPlanId id, const char *key)
{
	Datum		arg = CStringGetTextDatum(key);
	uint64		n;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = LmExecuteAsOwner(layout, id, &arg, NULL, false);
	SPI_finish();
	return n > 0;
}

/* Whether a company has the category. */
static bool
LmCategoryInUse(const char *key)
{
	LmLayout   *layout = LmGetLayout();

	return layout != NULL &&
		LmLayoutHasRow(layout, LM_PLAN_CATEGORY_IN_USE, key);
}

/* Whether a transition rule names the status, or a person holds it. */
static bool
LmStatusInUse(const char *key)
{
	LmLayout   *layout = LmGetLayout();
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			ret;
	bool		in_use;

	args[0] = CStringGetTextDatum(key);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT 1 FROM lead_mgmt.status_transition"
								" WHERE from_status OPERATOR(pg_catalog.=) $1"
								"    OR to_status OPERATOR(pg_catalog.=) $1 LIMIT 1",
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	in_use = SPI_processed > 0;
	SPI_finish();
	return in_use ||
		(layout != NULL &&
		 LmLayoutHasRow(layout, LM_PLAN_STATUS_IN_USE, key));
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

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		key = LmColText(oldtuple, desc, "key");
		LmCheckShippedDelete(oldtuple, desc, "category", key);
		if (LmCategoryInUse(key))
			ereport(ERROR,
					(errcode(ERRCODE_LM_IN_USE),
					 errmsg("category \"%s\" is in use and cannot be deleted", key),
					 errdetail("At least one company has this category."),
					 errhint("Set deleted = true to retire it; companies that have it keep it.")));
		return PointerGetDatum(oldtuple);
	}

	newtuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : oldtuple;
	key = LmColText(newtuple, desc, "key");
	LmCheckKeyFormat("category", key);
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
			/* whether companies show lead status changes: wait for writers */
			LmLockSentinel(ExclusiveLock);
			LmCompanyCacheReset();
		}
	}
	return PointerGetDatum(newtuple);
}

/*
 * AFTER UPDATE ON lead_mgmt.category FOR EACH ROW
 * WHEN (group or enable_lead_status changed): rule B2 by catalog change.
 * Rule B3 needs no action: statuses stay, hidden.
 */
Datum
lm_category_cascade(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	LmLayout   *layout;
	Datum		arg;
	bool		isnull;
	Datum		companies;
	uint64		n;

	LmCheckTriggerContext(fcinfo, "category_cascade", false, true);
	if (lm_internal_depth > 0 || !LmRulesActive())
		return PointerGetDatum(NULL);
	desc = RelationGetDescr(trigdata->tg_relation);
	if (LmCategoryTupleEnabled(trigdata->tg_trigtuple, desc) ||
		!LmCategoryTupleEnabled(trigdata->tg_newtuple, desc))
		return PointerGetDatum(NULL);
	LmLockSentinel(ExclusiveLock);
	layout = LmGetLayout();

	/*
	 * Nothing to do while the managed tables have no rules yet: during a
	 * restore, catalog rows are merged before manage()'s triggers exist,
	 * and the persons' restored statuses are already right.
	 */
	if (layout == NULL || !layout->rules_installed)
		return PointerGetDatum(NULL);

	arg = CStringGetTextDatum(LmColText(trigdata->tg_newtuple, desc, "key"));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = LmExecuteAsOwner(layout, LM_PLAN_COMPANIES_OF_CATEGORY, &arg, NULL, false);
	if (n == 1)
	{
		companies = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
			LmApplyEntry(layout, companies, true, lm_reentry == LM_REENTRY_RESTORE);
	}
	SPI_finish();
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
LmMoveDefault(const char *key)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	args[0] = CStringGetTextDatum(key);
	LmCatalogInternalUpdate("UPDATE lead_mgmt.lead_status SET is_default = false"
							" WHERE is_default AND key OPERATOR(pg_catalog.<>) $1",
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

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		key = LmColText(oldtuple, desc, "key");
		LmCheckShippedDelete(oldtuple, desc, "lead status", key);
		if (LmColBool(oldtuple, desc, "is_default"))
			ereport(ERROR,
					(errcode(ERRCODE_LM_DEFAULT_STATUS),
					 errmsg("lead status \"%s\" is the default and cannot be deleted", key),
					 errhint("Make another status the default first: UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = '...';")));
		if (LmStatusInUse(key))
			ereport(ERROR,
					(errcode(ERRCODE_LM_IN_USE),
					 errmsg("lead status \"%s\" is in use and cannot be deleted", key),
					 errdetail("A person holds it, or a transition rule names it."),
					 errhint("Set deleted = true to retire it; persons who hold it keep it.")));
		return PointerGetDatum(oldtuple);
	}

	newtuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : oldtuple;
	key = LmColText(newtuple, desc, "key");
	LmCheckKeyFormat("lead status", key);
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
		LmMoveDefault(key);
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
	ret = SPI_execute("SELECT pg_catalog.count(*) FROM lead_mgmt.lead_status"
					  " WHERE is_default AND NOT deleted", false, 1);
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

/* ---- labels ---- */

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
