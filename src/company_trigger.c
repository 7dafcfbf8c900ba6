/*
 * company_trigger.c
 *		The lead rules on the managed company table.
 *
 * lead_mgmt.company_rules()	BEFORE INSERT OR UPDATE OF <category> ROW
 *		validates the category (exists, not deleted) and, when the change
 *		alters whether the company is lead-enabled, escalates the row lock to
 *		FOR UPDATE so that in-flight inserts and moves of its persons finish
 *		first (see company_lookup.c).
 * lead_mgmt.company_cascade()	AFTER UPDATE OF <category> ROW
 *		rule B2: the company became lead-enabled, its persons get the default
 *		status (or keep a retained one under lead_mgmt.reentry = restore).
 *		Rule B3 needs no action: statuses stay as they are, hidden.
 *
 * Persons inherit the category of their company (B7): the category lives on
 * the company row only.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "lead_mgmt.h"

PG_FUNCTION_INFO_V1(lm_company_rules);
PG_FUNCTION_INFO_V1(lm_company_cascade);

/*
 * A category that may be newly set on a company: it exists and is not
 * deleted.
 */
static void
LmCheckCategorySettable(Datum value)
{
	char		key[LM_KEY_LEN];
	LmCategory	category;

	if (!LmDatumToKey(value, key) || !LmLookupCategory(key, &category))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("category \"%s\" does not exist", TextDatumGetCString(value)),
				 errhint("Valid categories are: %s.", LmCategoryList())));
	if (category.deleted)
		ereport(ERROR,
				(errcode(ERRCODE_LM_DELETED_VALUE),
				 errmsg("category \"%s\" is deleted", key),
				 errdetail("A deleted category cannot be newly set; companies that already have it keep it."),
				 errhint("Valid categories are: %s.", LmCategoryList())));
}

/* Whether a nullable category datum is lead-enabled. */
static bool
LmDatumEnabled(Datum value, bool isnull)
{
	char		key[LM_KEY_LEN];

	return !isnull && LmDatumToKey(value, key) && LmCategoryEnabled(key);
}

/*
 * Rule B2 for one company (many = false, key is its key) or for an array of
 * companies (many = true): persons get the default status.  With only_empty
 * (lead_mgmt.reentry = restore, or pending persons) only persons without a
 * status get it.  Runs as the person table's owner, past the person rules.
 */
uint64
LmApplyEntry(LmLayout *layout, Datum company_key, bool many, bool only_empty)
{
	LmPlanId	id;
	Datum		values[2];
	uint64		n;

	if (many)
		id = only_empty ? LM_PLAN_ENTRY_RESTORE_MANY : LM_PLAN_ENTRY_RESET_MANY;
	else
		id = only_empty ? LM_PLAN_ENTRY_RESTORE : LM_PLAN_ENTRY_RESET;
	values[0] = company_key;
	values[1] = LmDefaultStatusDatum();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = LmExecuteAsOwner(layout, id, values, NULL, true);
	SPI_finish();
	return n;
}

/* The managed company table, or an error naming the misuse. */
static LmLayout *
LmCompanyLayout(TriggerData *trigdata, const char *funcname)
{
	LmLayout   *layout = LmGetLayout();

	if (layout == NULL || RelationGetRelid(trigdata->tg_relation) != layout->company_relid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not the company table managed by lead_mgmt",
						RelationGetRelationName(trigdata->tg_relation)),
				 errhint("lead_mgmt.manage() attaches lead_mgmt.%s() to the managed company table only; drop trigger \"%s\".",
						 funcname, trigdata->tg_trigger->tgname)));
	return layout;
}

/*
 * BEFORE INSERT OR UPDATE OF <category> ON <company> FOR EACH ROW
 */
Datum
lm_company_rules(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtuple;
	LmLayout   *layout;
	Datum		newcat;
	Datum		oldcat;
	bool		newnull;
	bool		oldnull;

	LmCheckTriggerContext(fcinfo, "company_rules", true, true);
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.company_rules() must be fired for INSERT or UPDATE")));
	newtuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	if (lm_internal_depth > 0 || !LmRulesActive())
	{
		/* a category may change unchecked: forget what we knew */
		LmCompanyCacheReset();
		return PointerGetDatum(newtuple);
	}

	LmLockSentinel(RowShareLock);
	layout = LmCompanyLayout(trigdata, "company_rules");
	desc = RelationGetDescr(trigdata->tg_relation);
	newcat = heap_getattr(newtuple, layout->category_attno, desc, &newnull);

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		if (!newnull)
			LmCheckCategorySettable(newcat);
		return PointerGetDatum(newtuple);
	}

	oldcat = heap_getattr(trigdata->tg_trigtuple, layout->category_attno, desc, &oldnull);
	if (LmTextEqual(oldcat, oldnull, newcat, newnull))
		return PointerGetDatum(newtuple);
	if (!newnull)
		LmCheckCategorySettable(newcat);

	/* what this transaction knows about the company is about to change */
	LmCompanyCacheReset();
	if (LmDatumEnabled(oldcat, oldnull) != LmDatumEnabled(newcat, newnull))
		LmCompanyLockForFlip(trigdata->tg_relation, &trigdata->tg_trigslot->tts_tid);
	return PointerGetDatum(newtuple);
}

/*
 * AFTER UPDATE OF <category> ON <company> FOR EACH ROW
 * WHEN (OLD.<category> IS DISTINCT FROM NEW.<category>)
 */
Datum
lm_company_cascade(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	LmLayout   *layout;
	Datum		newcat;
	Datum		oldcat;
	Datum		key;
	bool		newnull;
	bool		oldnull;
	bool		keynull;

	LmCheckTriggerContext(fcinfo, "company_cascade", false, true);
	if (!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.company_cascade() must be fired for UPDATE")));
	if (lm_internal_depth > 0 || !LmRulesActive())
		return PointerGetDatum(NULL);

	LmLockSentinel(RowShareLock);
	layout = LmCompanyLayout(trigdata, "company_cascade");
	desc = RelationGetDescr(trigdata->tg_relation);
	oldcat = heap_getattr(trigdata->tg_trigtuple, layout->category_attno, desc, &oldnull);
	newcat = heap_getattr(trigdata->tg_newtuple, layout->category_attno, desc, &newnull);
	key = heap_getattr(trigdata->tg_newtuple, layout->company_key_attno, desc, &keynull);

	if (!keynull && !LmDatumEnabled(oldcat, oldnull) && LmDatumEnabled(newcat, newnull))
		LmApplyEntry(layout, key, false, lm_reentry == LM_REENTRY_RESTORE);
	return PointerGetDatum(NULL);
}
