/*
 * company_trigger.c
 *		The lead rules on the managed company table.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * lead_mgmt.company_rules('company')	BEFORE INSERT OR UPDATE OF <category>,
 *		<key> ROW: validates the category (exists, not deleted); when the
 *		change alters whether the company is lead-enabled, escalates the row
 *		lock to FOR UPDATE so that in-flight inserts and moves of its persons
 *		finish first (see company_probe.c); remembers renumbered keys.
 * lead_mgmt.company_cascade('company')	AFTER UPDATE OF <category> ROW: the
 *		company changed side: its persons are entered (B2) or hidden (B3),
 *		see cascade.c.
 *
 * Persons inherit the category of their company (B7): the category lives on
 * the company row only.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "cascade.h"
#include "catalog_cache.h"
#include "category_lock.h"
#include "company_cache.h"
#include "company_probe.h"
#include "counts.h"

PG_FUNCTION_INFO_V1(lm_company_rules);
PG_FUNCTION_INFO_V1(lm_company_cascade);
PG_FUNCTION_INFO_V1(lm_company_changes);

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

/*
 * Whether a nullable category datum is lead-enabled; with lock, the
 * category's lock is taken first (the decision must stay true).
 */
static bool
LmDatumEnabled(Datum value, bool isnull, bool lock)
{
	char		key[LM_KEY_LEN];

	if (isnull || !LmDatumToKey(value, key))
		return false;
	if (lock)
		LmLockCategoryShared(key);
	return LmCategoryEnabled(key);
}

static void
LmCheckCompanyEvent(TriggerData *trigdata, const char *funcname, bool insert_ok)
{
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		(insert_ok && (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
					   TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("function lead_mgmt.%s() must be fired for %s", funcname,
					insert_ok ? "INSERT, UPDATE or DELETE" : "UPDATE")));
}

static LmRelLayout *
LmCompanyRelLayout(TriggerData *trigdata, const char *funcname)
{
	if (LmTriggerRole(trigdata, LM_ROLE_COMPANY) != LM_ROLE_COMPANY)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.%s() is for the company table", funcname)));
	return LmGetRelLayout(trigdata, LM_ROLE_COMPANY, funcname);
}

/*
 * BEFORE INSERT OR UPDATE OF <category>, <key> ON <company> FOR EACH ROW
 */
Datum
lm_company_rules(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtuple;
	LmRelLayout *rl;
	Datum		newcat;
	Datum		oldcat;
	Datum		newkey;
	Datum		oldkey;
	bool		newnull;
	bool		oldnull;
	bool		newkeynull;
	bool		oldkeynull;

	LmCheckTriggerContext(fcinfo, "company_rules", true, true);
	LmCheckCompanyEvent(trigdata, "company_rules", true);
	newtuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	rl = LmCompanyRelLayout(trigdata, "company_rules");
	desc = RelationGetDescr(trigdata->tg_relation);

	/* its persons are counted out of its category (see counts.c) */
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		char		key[LM_KEY_LEN];

		oldkey = heap_getattr(newtuple, rl->key_attno, desc, &oldkeynull);
		oldcat = heap_getattr(newtuple, rl->status_attno, desc, &oldnull);
		if (!oldkeynull)
			LmCompanyNoteDeleted(rl->pair, oldkey,
								 oldnull || !LmDatumToKey(oldcat, key) ? NULL : key);
		return PointerGetDatum(newtuple);
	}

	if (!LmRulesActive())
	{
		/* a category may change unchecked: forget what we knew */
		LmCompanyCacheReset();
		/* the counts still follow: wait for the writers of its persons */
		if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) && LmCountsActive(rl->pair))
		{
			oldcat = heap_getattr(trigdata->tg_trigtuple, rl->status_attno, desc, &oldnull);
			newcat = heap_getattr(newtuple, rl->status_attno, desc, &newnull);
			if (!LmTextEqual(oldcat, oldnull, newcat, newnull))
				LmCompanyLockForFlip(trigdata->tg_relation, &trigdata->tg_trigslot->tts_tid);
		}
		return PointerGetDatum(newtuple);
	}

	newcat = heap_getattr(newtuple, rl->status_attno, desc, &newnull);
	newkey = heap_getattr(newtuple, rl->key_attno, desc, &newkeynull);

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		if (!newnull)
			LmCheckCategorySettable(newcat);
		/* a key this transaction saw before belonged to a deleted company */
		if (!newkeynull)
			LmCompanyForget(rl->pair, newkey);
		return PointerGetDatum(newtuple);
	}

	oldkey = heap_getattr(trigdata->tg_trigtuple, rl->key_attno, desc, &oldkeynull);
	if (!oldkeynull && !newkeynull && !LmCompanyKeyEqual(rl->pair, oldkey, newkey))
	{
		/* renumbered: the persons' cascaded update is not a move */
		LmCompanyNoteRenumber(rl->pair, oldkey, newkey);
		LmCompanyForget(rl->pair, newkey);
	}

	oldcat = heap_getattr(trigdata->tg_trigtuple, rl->status_attno, desc, &oldnull);
	if (LmTextEqual(oldcat, oldnull, newcat, newnull))
		return PointerGetDatum(newtuple);
	if (!newnull)
		LmCheckCategorySettable(newcat);

	/* what this transaction knows about the company is about to change */
	LmCompanyCacheReset();

	/*
	 * A change of whether the company is lead-enabled waits for in-flight
	 * writers of its persons (see company_probe.c); so does any change of
	 * its category while counts are kept, so that its persons are counted
	 * into the new category with the writers' last changes.
	 */
	if (LmDatumEnabled(oldcat, oldnull, true) != LmDatumEnabled(newcat, newnull, true) ||
		LmCountsActive(rl->pair))
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
	LmRelLayout *rl;
	Datum		newcat;
	Datum		oldcat;
	Datum		key;
	bool		newnull;
	bool		oldnull;
	bool		keynull;

	LmCheckTriggerContext(fcinfo, "company_cascade", false, true);
	LmCheckCompanyEvent(trigdata, "company_cascade", false);
	rl = LmCompanyRelLayout(trigdata, "company_cascade");
	desc = RelationGetDescr(trigdata->tg_relation);
	oldcat = heap_getattr(trigdata->tg_trigtuple, rl->status_attno, desc, &oldnull);
	newcat = heap_getattr(trigdata->tg_newtuple, rl->status_attno, desc, &newnull);
	key = heap_getattr(trigdata->tg_newtuple, rl->key_attno, desc, &keynull);
	if (keynull)
		return PointerGetDatum(NULL);

	/* counts: the company and its persons move to the new category (rules on or off) */
	{
		char	   *from = oldnull ? NULL : TextDatumGetCString(oldcat);
		char	   *to = newnull ? NULL : TextDatumGetCString(newcat);

		LmCountsCompany(rl->pair, key, from, -1);
		LmCountsCompany(rl->pair, key, to, 1);
		LmCountsRegroup(rl->pair, key, from, to);
	}
	if (!LmRulesActive())
		return PointerGetDatum(NULL);
	LmCascadeCompany(rl->pair, key, newnull ? NULL : TextDatumGetCString(newcat),
					 LmDatumEnabled(oldcat, oldnull, false),
					 LmDatumEnabled(newcat, newnull, false));
	return PointerGetDatum(NULL);
}

/*
 * AFTER INSERT OR DELETE ON <company> FOR EACH ROW
 * EXECUTE FUNCTION lead_mgmt.company_changes('company'): the company is
 * counted in, or out of, its category (rules on or off).
 */
Datum
lm_company_changes(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	LmRelLayout *rl;
	Datum		cat;
	Datum		key;
	bool		catnull;
	bool		keynull;
	char		category[LM_KEY_LEN];

	LmCheckTriggerContext(fcinfo, "company_changes", false, true);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.company_changes() must be fired for INSERT or DELETE")));
	rl = LmCompanyRelLayout(trigdata, "company_changes");
	if (!LmCountsActive(rl->pair))
		return PointerGetDatum(NULL);
	desc = RelationGetDescr(trigdata->tg_relation);
	cat = heap_getattr(trigdata->tg_trigtuple, rl->status_attno, desc, &catnull);
	key = heap_getattr(trigdata->tg_trigtuple, rl->key_attno, desc, &keynull);
	if (keynull)
		return PointerGetDatum(NULL);
	if (catnull || !LmDatumToKey(cat, category))
		category[0] = '\0';
	LmCountsCompany(rl->pair, key, category,
					TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ? 1 : -1);
	return PointerGetDatum(NULL);
}
