/*
 * person_trigger.c
 *		The lead rules on the managed person table.
 *
 * lead_mgmt.person_rules() is a BEFORE INSERT OR UPDATE OF <company>,
 * <lead_status> row trigger.  It decides with the company row locked (see
 * company_lookup.c) and the catalog cache, and changes nothing but the lead
 * status column of the row being written:
 *
 *	B1	insert under a lead-enabled company without status: the default
 *	B2	move from a company that is not lead-enabled (or none) into one that
 *		is: the default (lead_mgmt.reentry = reset) or the retained status
 *		(restore; empty ones get the default)
 *	B3	move out of a lead-enabled company: the status stays, hidden
 *	B4	each person row is decided on its own
 *	B5	a status can be set or changed only while visible
 *	B6	a deleted status cannot be newly set
 *	S2	where transition rules exist for the old status, only listed moves
 *
 * Other columns of the person are never looked at: the trigger only fires
 * when the company or lead status column is named in the statement.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "lead_mgmt.h"

PG_FUNCTION_INFO_V1(lm_person_rules);
PG_FUNCTION_INFO_V1(lm_resolve_pending);

/* Equality of two nullable company keys, by the key type's equality. */
static bool
LmKeyEqual(LmLayout *layout, Datum a, bool anull, Datum b, bool bnull)
{
	if (anull || bnull)
		return anull && bnull;
	return DatumGetBool(FunctionCall2Coll(&layout->key_eq,
										  layout->company_key_collation, a, b));
}

static void
LmRefuseUnknownStatus(const char *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("lead status \"%s\" does not exist", value),
			 errhint("Valid lead statuses are: %s.", LmStatusList())));
}

/*
 * The status key of a text datum; an over-long value cannot be a key.
 */
static void
LmStatusKey(Datum value, char *key)
{
	if (!LmDatumToKey(value, key))
		LmRefuseUnknownStatus(TextDatumGetCString(value));
}

/*
 * A status that may be newly set: it exists and is not deleted (B6).
 */
static void
LmCheckSettable(const char *key)
{
	LmStatus	status;

	if (!LmLookupStatus(key, &status))
		LmRefuseUnknownStatus(key);
	if (status.deleted)
		ereport(ERROR,
				(errcode(ERRCODE_LM_DELETED_VALUE),
				 errmsg("lead status \"%s\" is deleted", key),
				 errdetail("A deleted status cannot be newly set; persons who already hold it keep it."),
				 errhint("Valid lead statuses are: %s.", LmStatusList())));
}

/*
 * Rule S2.
 */
static void
LmCheckTransition(const char *from, const char *to)
{
	if (!LmTransitionAllowed(from, to))
	{
		char	   *next = LmNextStatusList(from);

		ereport(ERROR,
				(errcode(ERRCODE_LM_TRANSITION),
				 errmsg("lead status cannot move from \"%s\" to \"%s\"", from, to),
				 errdetail("lead_mgmt.status_transition lists the moves allowed from \"%s\".", from),
				 *next ? errhint("Allowed next statuses: %s.", next)
				 : errhint("No move away from \"%s\" is allowed.", from)));
	}
}

/*
 * Rule B5: the person's company is not lead-enabled.
 */
void
LmRefuseHidden(LmLayout *layout, const char *status, Datum company)
{
	char	   *category = LmCompanyCategory(layout, company);

	ereport(ERROR,
			(errcode(ERRCODE_LM_STATUS_HIDDEN),
			 status ?
			 errmsg("cannot set lead status \"%s\" on a person whose company is not lead-enabled",
					status) :
			 errmsg("cannot clear the lead status of a person whose company is not lead-enabled"),
			 category ?
			 errdetail("Company %s has category \"%s\".",
					   LmCompanyKeyText(layout, company), category) :
			 errdetail("Company %s has no category.", LmCompanyKeyText(layout, company)),
			 errhint("Lead status is visible and editable only while the company's category is in group potential_customer with enable_lead_status on; a hidden status is kept as it is.")));
}

/*
 * Rule B5: the person has no company.
 */
static void
LmRefuseNoCompany(const char *status)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_NO_COMPANY),
			 status ?
			 errmsg("cannot set lead status \"%s\" on a person without a company", status) :
			 errmsg("cannot clear the lead status of a person without a company"),
			 errhint("Assign the person to a company whose category is lead-enabled, in the same statement or before.")));
}

/*
 * A visible status cannot be emptied: a person of a lead-enabled company
 * always has a status.
 */
static void
LmRefuseClear(LmLayout *layout, Datum company)
{
	ereport(ERROR,
			(errcode(ERRCODE_NOT_NULL_VIOLATION),
			 errmsg("lead status of a person in lead-enabled company %s cannot be empty",
					LmCompanyKeyText(layout, company)),
			 errhint("Set another status instead. Valid lead statuses are: %s.", LmStatusList())));
}

static HeapTuple
LmWithStatus(HeapTuple tuple, TupleDesc desc, LmLayout *layout, Datum status)
{
	int			attno = layout->status_attno;
	bool		isnull = false;

	return heap_modify_tuple_by_cols(tuple, desc, 1, &attno, &status, &isnull);
}

static HeapTuple
LmWithDefault(HeapTuple tuple, TupleDesc desc, LmLayout *layout)
{
	/* the cached datum is copied into the new tuple right away */
	return LmWithStatus(tuple, desc, layout, LmDefaultStatusCached());
}

/*
 * INSERT: rules B1 and B5.
 */
static HeapTuple
LmPersonInsert(LmLayout *layout, HeapTuple tuple, TupleDesc desc)
{
	bool		company_null;
	bool		status_null;
	Datum		company = heap_getattr(tuple, layout->person_company_attno, desc, &company_null);
	Datum		status = heap_getattr(tuple, layout->status_attno, desc, &status_null);
	char		key[LM_KEY_LEN];
	LmCompanyState state;

	if (!status_null)
		LmStatusKey(status, key);
	if (!company_null)
		company = LmPersonCompanyKey(layout, company);
	if (company_null)
	{
		if (!status_null)
			LmRefuseNoCompany(key);
		return tuple;
	}

	LmCompanyLookup(layout, company, true, &state);
	if (!state.found)
	{
		/* not visible yet (or missing: the foreign key will say so) */
		if (!status_null)
			LmCheckSettable(key);
		LmPendingAdd(layout, company, status_null ? NULL : key);
		return tuple;
	}
	if (state.lead_enabled)
	{
		if (status_null)
			return LmWithDefault(tuple, desc, layout);	/* B1 */
		LmCheckSettable(key);
		return tuple;
	}
	if (!status_null)
		LmRefuseHidden(layout, key, company);
	return tuple;
}

/*
 * UPDATE of the company and/or lead status columns.
 */
static HeapTuple
LmPersonUpdate(LmLayout *layout, HeapTuple oldtuple, HeapTuple newtuple,
			   TupleDesc desc)
{
	bool		old_company_null;
	bool		new_company_null;
	bool		old_status_null;
	bool		new_status_null;
	Datum		old_company = heap_getattr(oldtuple, layout->person_company_attno, desc, &old_company_null);
	Datum		new_company = heap_getattr(newtuple, layout->person_company_attno, desc, &new_company_null);
	Datum		old_status = heap_getattr(oldtuple, layout->status_attno, desc, &old_status_null);
	Datum		new_status = heap_getattr(newtuple, layout->status_attno, desc, &new_status_null);
	bool		company_changed;
	bool		status_changed;
	char		old_key[LM_KEY_LEN];
	char		new_key[LM_KEY_LEN];
	LmCompanyState old_state;
	LmCompanyState new_state;

	if (!old_company_null)
		old_company = LmPersonCompanyKey(layout, old_company);
	if (!new_company_null)
		new_company = LmPersonCompanyKey(layout, new_company);
	company_changed = !LmKeyEqual(layout, old_company, old_company_null,
								  new_company, new_company_null);
	status_changed = !LmTextEqual(old_status, old_status_null,
								  new_status, new_status_null);
	if (!company_changed && !status_changed)
		return newtuple;

	old_key[0] = '\0';
	if (!old_status_null && !LmDatumToKey(old_status, old_key))
		old_key[0] = '\0';
	if (status_changed && !new_status_null)
		LmStatusKey(new_status, new_key);

	memset(&new_state, 0, sizeof(new_state));
	memset(&old_state, 0, sizeof(old_state));

	if (!company_changed)
	{
		/*
		 * Only the status changes: B5, B6, S2.  The company is locked like
		 * for an insert, so that it cannot stop being lead-enabled between
		 * our reading and the write.
		 */
		if (new_company_null)
			LmRefuseNoCompany(new_status_null ? NULL : new_key);
		LmCompanyLookup(layout, new_company, true, &new_state);
		if (!new_state.lead_enabled)
			LmRefuseHidden(layout, new_status_null ? NULL : new_key, new_company);
		if (new_status_null)
			LmRefuseClear(layout, new_company);
		LmCheckSettable(new_key);
		if (!old_status_null && old_key[0] != '\0')
			LmCheckTransition(old_key, new_key);
		return newtuple;
	}

	/* the person moves to another company (or to none) */
	if (!new_company_null)
	{
		LmCompanyLookup(layout, new_company, true, &new_state);
		if (!new_state.found)
		{
			if (status_changed && !new_status_null)
				LmCheckSettable(new_key);
			LmPendingAdd(layout, new_company,
						 status_changed && !new_status_null ? new_key : NULL);
			return newtuple;
		}
	}
	if (!old_company_null)
		LmCompanyLookup(layout, old_company, false, &old_state);

	if (status_changed)
	{
		/* moved and given a status in one statement: valid at the target */
		if (new_company_null)
			LmRefuseNoCompany(new_status_null ? NULL : new_key);
		if (!new_state.lead_enabled)
			LmRefuseHidden(layout, new_status_null ? NULL : new_key, new_company);
		if (new_status_null)
			LmRefuseClear(layout, new_company);
		LmCheckSettable(new_key);
		if (old_state.lead_enabled && !old_status_null && old_key[0] != '\0')
			LmCheckTransition(old_key, new_key);
		return newtuple;
	}

	if (!new_state.lead_enabled)
		return newtuple;		/* B3: hidden and kept (or stays hidden) */
	if (new_status_null)
		return LmWithDefault(newtuple, desc, layout);
	if (!old_state.lead_enabled && lm_reentry == LM_REENTRY_RESET &&
		strcmp(old_key, LmDefaultStatusKey()) != 0)
		return LmWithDefault(newtuple, desc, layout);	/* B2 */
	return newtuple;			/* B2 restore, or between lead-enabled companies */
}

/*
 * BEFORE INSERT OR UPDATE OF <company>, <lead_status> ON <person>
 * FOR EACH ROW
 */
Datum
lm_person_rules(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	result;
	LmLayout   *layout;

	LmCheckTriggerContext(fcinfo, "person_rules", true, true);
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.person_rules() must be fired for INSERT or UPDATE")));

	result = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	if (lm_internal_depth > 0 || !LmRulesActive())
		return PointerGetDatum(result);

	LmLockSentinel(RowShareLock);
	layout = LmGetLayout();
	rel = trigdata->tg_relation;
	if (layout == NULL || RelationGetRelid(rel) != layout->person_relid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not the person table managed by lead_mgmt",
						RelationGetRelationName(rel)),
				 errhint("lead_mgmt.manage() attaches lead_mgmt.person_rules() to the managed person table only; drop trigger \"%s\".",
						 trigdata->tg_trigger->tgname)));

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		result = LmPersonInsert(layout, trigdata->tg_trigtuple, RelationGetDescr(rel));
	else
		result = LmPersonUpdate(layout, trigdata->tg_trigtuple, trigdata->tg_newtuple,
								RelationGetDescr(rel));
	return PointerGetDatum(result);
}

/*
 * AFTER INSERT OR UPDATE ... FOR EACH STATEMENT on the person and company
 * tables: settle persons written before their company was visible.
 */
Datum
lm_resolve_pending(PG_FUNCTION_ARGS)
{
	LmCheckTriggerContext(fcinfo, "resolve_pending", false, false);
	if (LmRulesActive())
		LmPendingResolve();
	return PointerGetDatum(NULL);
}
