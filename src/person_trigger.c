/*
 * person_trigger.c
 *		The lead rules on the managed person table.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * lead_mgmt.person_rules('person') is a BEFORE INSERT OR UPDATE OF
 * <company>, <lead_status> row trigger.  It gathers what the decision needs
 * (the companies, locked as in company_probe.c; the statuses), lets
 * LmDecide() decide, runs the checks the decision asks for, and hands the
 * row to the change sink, which writes the default status into it when
 * asked.  It changes nothing but the lead status column of the row being
 * written.  The rows of lead_mgmt's own cascades come through here too,
 * recognised by the cascade context.
 *
 * lead_mgmt.person_changes('person') is the AFTER ROW half: it sees the row
 * as it was stored, lets LmClassify() say which event the change was, and
 * records it in the change sink (and queues category rules, A2).
 *
 * lead_mgmt.resolve_pending('person' | 'company') is an AFTER statement
 * trigger on both tables: it reports the statement's B5 refusals, settles
 * pending persons, flushes the change sink and fires the category rules the
 * statement queued.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"

#include "automation.h"
#include "cascade.h"
#include "catalog_cache.h"
#include "company_cache.h"
#include "counts.h"
#include "decide.h"
#include "pending.h"
#include "refusal.h"
#include "sink.h"

PG_FUNCTION_INFO_V1(lm_person_rules);
PG_FUNCTION_INFO_V1(lm_resolve_pending);
PG_FUNCTION_INFO_V1(lm_person_changes);

/* The status key of a text datum; an over-long value cannot be a key. */
static const char *
LmStatusKey(Datum value, bool isnull, char *key)
{
	if (isnull)
		return NULL;
	if (!LmDatumToKey(value, key))
		LmRefuseUnknownStatus(TextDatumGetCString(value));
	return key;
}

/*
 * Which side a company is on, locked FOR KEY SHARE when lock is set; its
 * category into category (LM_KEY_LEN bytes, "" for none).
 */
static LmCompanySide
LmSideOf(LmLayout *layout, Datum key, bool isnull, bool lock, char *category)
{
	LmCompanyState state;

	category[0] = '\0';
	if (isnull)
		return LM_COMPANY_NONE;
	LmCompanyLookup(layout, key, lock, &state);
	memcpy(category, state.category, LM_KEY_LEN);
	if (!state.found)
		return LM_COMPANY_UNSEEN;
	return state.lead_enabled ? LM_COMPANY_ENABLED : LM_COMPANY_HIDDEN;
}

/* The row with its lead status column replaced (NULL for none). */
static HeapTuple
LmWithStatus(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc, Datum status, bool isnull)
{
	int			attno = rl->status_attno;

	return heap_modify_tuple_by_cols(tuple, desc, 1, &attno, &status, &isnull);
}

/*
 * Decide a row change and act on the decision.  keep is the row to write
 * when the change is refused for B5 (reported at the statement's end).
 */
static HeapTuple
LmPersonApply(LmRelLayout *rl, LmRowChange *change, HeapTuple tuple,
			  HeapTuple keep, TupleDesc desc, Datum company)
{
	LmLayout   *layout = rl->pair;
	LmDecision	d;

	change->reentry = (LmReentry) lm_reentry;
	change->default_status = LmDefaultStatusKey();
	d = LmDecide(change);
	switch (d.verdict)
	{
		case LM_VERDICT_REFUSE_NO_COMPANY:
			LmRefuseNoCompany(change->new_status);
			break;
		case LM_VERDICT_REFUSE_CLEAR:
			LmRefuseClear(layout, company);
			break;
		case LM_VERDICT_REFUSE_HIDDEN:
			LmHiddenNote(rl, tuple, desc, change->new_status, company);
			return keep;
		default:
			break;
	}
	if (d.check_settable)
		LmCheckSettable(change->new_status);
	if (d.check_transition)
		LmCheckTransition(change->old_status, change->new_status);
	if (d.verdict == LM_VERDICT_PENDING)
		LmPendingAdd(rl, tuple, desc, company, change);
	return LmSinkStamp(rl, tuple, desc, &d);
}

/*
 * INSERT: rules B1 and B5.
 */
static HeapTuple
LmPersonInsert(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc)
{
	LmLayout   *layout = rl->pair;
	LmRowChange change;
	bool		company_null;
	bool		status_null;
	Datum		company = heap_getattr(tuple, rl->company_attno, desc, &company_null);
	Datum		status = heap_getattr(tuple, rl->status_attno, desc, &status_null);
	char		key[LM_KEY_LEN];
	char		category[LM_KEY_LEN];

	memset(&change, 0, sizeof(change));
	change.insert = true;
	change.origin = LM_ORIGIN_USER;
	change.new_status = LmStatusKey(status, status_null, key);
	change.status_changed = !status_null;
	if (!company_null)
		company = LmPersonCompanyKey(layout, company);
	if (company_null && status_null)
		return tuple;			/* nothing to decide */
	change.new_side = LmSideOf(layout, company, company_null, true, category);
	return LmPersonApply(rl, &change, tuple,
						 status_null ? tuple : LmWithStatus(rl, tuple, desc, (Datum) 0, true),
						 desc, company);
}

/*
 * The companies of an UPDATE as the company key type (NULL stays NULL), and
 * whether the person moved: the company changed, and not by a renumbering of
 * the company's key.
 */
static bool
LmPersonMoved(LmLayout *layout, Datum *old_company, bool old_null,
			  Datum *new_company, bool new_null)
{
	if (!old_null)
		*old_company = LmPersonCompanyKey(layout, *old_company);
	if (!new_null)
		*new_company = LmPersonCompanyKey(layout, *new_company);
	if (old_null || new_null)
		return old_null != new_null;
	return !LmCompanyKeyEqual(layout, *old_company, *new_company) &&
		!LmCompanyRenumbered(layout, *old_company, *new_company);
}

/*
 * UPDATE of the company and/or lead status columns.
 */
static HeapTuple
LmPersonUpdate(LmRelLayout *rl, HeapTuple oldtuple, HeapTuple newtuple,
			   TupleDesc desc)
{
	LmLayout   *layout = rl->pair;
	LmRowChange change;
	bool		old_company_null;
	bool		new_company_null;
	bool		old_status_null;
	bool		new_status_null;
	Datum		old_company = heap_getattr(oldtuple, rl->company_attno, desc, &old_company_null);
	Datum		new_company = heap_getattr(newtuple, rl->company_attno, desc, &new_company_null);
	Datum		old_status = heap_getattr(oldtuple, rl->status_attno, desc, &old_status_null);
	Datum		new_status = heap_getattr(newtuple, rl->status_attno, desc, &new_status_null);
	char		old_key[LM_KEY_LEN];
	char		new_key[LM_KEY_LEN];
	char		category[LM_KEY_LEN];
	char		old_category[LM_KEY_LEN];
	bool		moved;

	moved = LmPersonMoved(layout, &old_company, old_company_null,
						  &new_company, new_company_null);
	memset(&change, 0, sizeof(change));
	change.status_changed = !LmTextEqual(old_status, old_status_null,
										 new_status, new_status_null);
	if (!moved && !change.status_changed)
		return newtuple;		/* nothing lead_mgmt looks at changed */

	change.insert = false;
	change.moved = moved;
	change.origin = LM_ORIGIN_USER;
	if (old_status_null || !LmDatumToKey(old_status, old_key))
		change.old_status = NULL;
	else
		change.old_status = old_key;
	change.new_status = change.status_changed ?
		LmStatusKey(new_status, new_status_null, new_key) : change.old_status;

	/*
	 * lead_mgmt's own cascade: decided already.  Its company is locked like
	 * for any write, so that a concurrent change of whether the company is
	 * lead-enabled waits for it (or it for that change, and then reads its
	 * result): what is recorded as shown or hidden stays true.
	 */
	if (change.status_changed && !moved &&
		LmCascadeOwnsRow(layout, new_company, new_company_null, change.old_status,
						 new_status, new_status_null, &change.cascade_event))
	{
		change.origin = LM_ORIGIN_CASCADE;
		change.new_side = LmSideOf(layout, new_company, new_company_null, true, category);
		return LmPersonApply(rl, &change, newtuple, newtuple, desc, new_company);
	}

	/*
	 * The target company is locked like for an insert, so that it cannot
	 * stop being lead-enabled between our reading and the write.  The one a
	 * person leaves is locked too while counts are kept: a change of its
	 * category then waits for this transaction (or this one for it), so
	 * that the person is counted out of the category it was counted in.
	 */
	change.new_side = LmSideOf(layout, new_company, new_company_null, true, category);
	if (moved && change.new_side != LM_COMPANY_UNSEEN)
		change.old_side = LmSideOf(layout, old_company, old_company_null,
								   LmCountsActive(layout), old_category);
	return LmPersonApply(rl, &change, newtuple,
						 LmWithStatus(rl, newtuple, desc, old_status, old_status_null),
						 desc, new_company_null ? old_company : new_company);
}

/*
 * BEFORE INSERT OR UPDATE OF <company>, <lead_status> ON <person>
 * FOR EACH ROW EXECUTE FUNCTION lead_mgmt.person_rules('person')
 */
Datum
lm_person_rules(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	result;
	LmRelLayout *rl;

	LmCheckTriggerContext(fcinfo, "person_rules", true, true);
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) &&
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.person_rules() must be fired for INSERT or UPDATE")));

	result = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	if (!LmRulesActive())
		return PointerGetDatum(result); /* rule X1: written as given */

	if (LmTriggerRole(trigdata, LM_ROLE_PERSON) != LM_ROLE_PERSON)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.person_rules() is for the person table")));
	rl = LmGetRelLayout(trigdata, LM_ROLE_PERSON, "person_rules");
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		result = LmPersonInsert(rl, trigdata->tg_trigtuple,
								RelationGetDescr(trigdata->tg_relation));
	else
		result = LmPersonUpdate(rl, trigdata->tg_trigtuple, trigdata->tg_newtuple,
								RelationGetDescr(trigdata->tg_relation));
	return PointerGetDatum(result);
}

/*
 * The side of a company as written; its category into category.  The
 * company is locked FOR KEY SHARE (already, mostly: by the write's BEFORE
 * trigger or its foreign-key check), so that the answer is the version this
 * transaction holds, not the one its snapshot saw: a category change that
 * committed meanwhile is seen, and one to come waits for this transaction.
 */
static LmCompanySide
LmWrittenSide(LmLayout *layout, Datum key, bool isnull, char *category)
{
	return LmSideOf(layout, key, isnull, true, category);
}

/*
 * The person's key changed, or (for a key of company and id) its company was
 * renumbered: its history follows.
 */
static void
LmPersonRekey(LmRelLayout *rl, HeapTuple oldtuple, HeapTuple newtuple, TupleDesc desc,
			  bool moved, Datum old_company, bool old_company_null,
			  Datum new_company, bool new_company_null)
{
	LmLayout   *layout = rl->pair;
	bool		old_null;
	bool		new_null;
	Datum		old_key = heap_getattr(oldtuple, rl->key_attno, desc, &old_null);
	Datum		new_key = heap_getattr(newtuple, rl->key_attno, desc, &new_null);
	bool		company_renumbered = false;

	if (old_null || new_null || !LmHistoryActive(layout))
		return;
	if (layout->person_key_has_company && !moved && !old_company_null && !new_company_null)
		company_renumbered = !LmCompanyKeyEqual(layout, old_company, new_company);
	if (!company_renumbered &&
		datum_image_eq(old_key, new_key, layout->person_key_byval, layout->person_key_typlen))
		return;
	LmHistoryRekey(layout, old_key, new_key, old_company, new_company);
}

/*
 * The category a person row counts under: its company's (the one of a
 * company deleted in this transaction too); none without a company, or while
 * the person waits for its company to be visible (it is moved once settled).
 * The company is locked FOR KEY SHARE like for any write, so that a change
 * of its category waits for this transaction and then moves this person
 * with the others, and its category is read from the version locked (one
 * committed since this statement's snapshot included).
 */
static void
LmCountCategory(LmLayout *layout, Datum person, Datum company, bool isnull,
				char *category)
{
	LmCompanyState state;

	category[0] = '\0';
	if (isnull || LmPendingHasFor(layout, person, company))
		return;
	/* a company this transaction deleted (its persons go with it) */
	if (LmCompanyDeletedCategory(layout, company, category))
		return;
	LmCompanyLookup(layout, company, true, &state);
	if (state.found)
		memcpy(category, state.category, LM_KEY_LEN);
}

/*
 * The person row's changes for the count summary: the old row counted out,
 * the new one in (NULL: none); only when what is counted changed.
 */
static void
LmPersonCount(LmRelLayout *rl, TupleDesc desc, Datum person, HeapTuple oldtuple,
			  Datum old_company, bool old_company_null, HeapTuple newtuple,
			  Datum new_company, bool new_company_null, bool moved)
{
	LmLayout   *layout = rl->pair;
	char		old_category[LM_KEY_LEN];
	char		new_category[LM_KEY_LEN];
	char		old_key[LM_KEY_LEN];
	char		new_key[LM_KEY_LEN];
	const char *old_status = NULL;
	const char *new_status = NULL;
	char	   *old_owner = NULL;
	char	   *new_owner = NULL;
	bool		isnull;
	Datum		value;

	if (!LmCountsActive(layout))
		return;
	if (oldtuple != NULL)
	{
		value = heap_getattr(oldtuple, rl->status_attno, desc, &isnull);
		if (!isnull && LmDatumToKey(value, old_key))
			old_status = old_key;
		old_owner = LmPersonOwnerText(rl, oldtuple, desc);
	}
	if (newtuple != NULL)
	{
		value = heap_getattr(newtuple, rl->status_attno, desc, &isnull);
		if (!isnull && LmDatumToKey(value, new_key))
			new_status = new_key;
		new_owner = LmPersonOwnerText(rl, newtuple, desc);
	}
	if (oldtuple != NULL && newtuple != NULL && !moved &&
		(old_status == NULL ? new_status == NULL : new_status != NULL && strcmp(old_status, new_status) == 0) &&
		(old_owner == NULL ? new_owner == NULL : new_owner != NULL && strcmp(old_owner, new_owner) == 0))
		return;					/* nothing counted changed (a renumbered company, say) */
	if (oldtuple != NULL)
	{
		LmCountCategory(layout, person, old_company, old_company_null, old_category);
		LmCountsPerson(layout, old_company, !old_company_null, old_category, old_status,
					   old_owner, -1);
	}
	if (newtuple != NULL)
	{
		LmCountCategory(layout, person, new_company, new_company_null, new_category);
		LmCountsPerson(layout, new_company, !new_company_null, new_category, new_status,
					   new_owner, 1);
	}
}

/*
 * AFTER INSERT OR UPDATE OF <company>, <lead_status>, <person key>, <owner>
 * OR DELETE ON <person> FOR EACH ROW EXECUTE FUNCTION
 * lead_mgmt.person_changes('person')
 *
 * The row as it was stored, every BEFORE trigger done (a user's trigger
 * after ours, INSERT ... ON CONFLICT that did not insert, a row another
 * trigger skipped): what it changed is classified and handed to the change
 * sink (status history, the count summary).  With the rules off (X1) the
 * same is recorded, so that history keeps replaying to the stored statuses
 * and the counts stay exact.
 */
Datum
lm_person_changes(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	LmRelLayout *rl;
	LmLayout   *layout;
	TupleDesc	desc;
	HeapTuple	newtuple;
	LmWrittenChange change;
	LmRecord	r;
	bool		old_company_null = true;
	bool		new_company_null;
	bool		old_status_null = true;
	bool		new_status_null;
	bool		person_null;
	Datum		old_company = (Datum) 0;
	Datum		new_company;
	Datum		old_status = (Datum) 0;
	Datum		new_status;
	Datum		person;
	char		old_key[LM_KEY_LEN];
	char		new_key[LM_KEY_LEN];
	char		category[LM_KEY_LEN];
	char		old_category[LM_KEY_LEN];
	const char *cascade_category = NULL;

	LmCheckTriggerContext(fcinfo, "person_changes", false, true);
	rl = LmGetRelLayout(trigdata, LM_ROLE_PERSON, "person_changes");
	layout = rl->pair;
	desc = RelationGetDescr(trigdata->tg_relation);

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		person = heap_getattr(trigdata->tg_trigtuple, rl->key_attno, desc, &person_null);
		old_company = heap_getattr(trigdata->tg_trigtuple, rl->company_attno, desc,
								   &old_company_null);
		if (!old_company_null)
			old_company = LmPersonCompanyKey(layout, old_company);
		LmPersonCount(rl, desc, person, trigdata->tg_trigtuple, old_company, old_company_null,
					  NULL, (Datum) 0, true, false);
		return PointerGetDatum(NULL);
	}

	memset(&change, 0, sizeof(change));
	change.insert = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event);
	newtuple = change.insert ? trigdata->tg_trigtuple : trigdata->tg_newtuple;
	new_company = heap_getattr(newtuple, rl->company_attno, desc, &new_company_null);
	new_status = heap_getattr(newtuple, rl->status_attno, desc, &new_status_null);
	person = heap_getattr(newtuple, rl->key_attno, desc, &person_null);
	if (person_null)
		return PointerGetDatum(NULL);	/* the primary key refuses it */
	if (!change.insert)
	{
		old_company = heap_getattr(trigdata->tg_trigtuple, rl->company_attno, desc,
								   &old_company_null);
		old_status = heap_getattr(trigdata->tg_trigtuple, rl->status_attno, desc,
								  &old_status_null);
		change.moved = LmPersonMoved(layout, &old_company, old_company_null,
									 &new_company, new_company_null);
		LmPersonRekey(rl, trigdata->tg_trigtuple, newtuple, desc, change.moved,
					  old_company, old_company_null, new_company, new_company_null);
	}
	else if (!new_company_null)
		new_company = LmPersonCompanyKey(layout, new_company);
	LmPersonCount(rl, desc, person, change.insert ? NULL : trigdata->tg_trigtuple,
				  old_company, old_company_null, newtuple, new_company, new_company_null,
				  change.moved);

	/* status history: a change of the status or of the company only */
	if (change.insert ? new_company_null || new_status_null :
		!change.moved && LmTextEqual(old_status, old_status_null, new_status, new_status_null))
		return PointerGetDatum(NULL);
	/* written before its company was visible: recorded when settled */
	if (!new_company_null && LmPendingHasFor(layout, person, new_company))
		return PointerGetDatum(NULL);

	if (!old_status_null && LmDatumToKey(old_status, old_key))
		change.old_status = old_key;
	if (!new_status_null && LmDatumToKey(new_status, new_key))
		change.new_status = new_key;
	change.default_status = LmDefaultStatusKey();
	if (!change.insert && !change.moved && change.new_status != NULL &&
		LmCascadeOwnsRow(layout, new_company, new_company_null, change.old_status,
						 new_status, false, &change.cascade_event))
	{
		change.cascade = true;
		cascade_category = LmCascadeRowCategory();
	}
	change.new_side = LmWrittenSide(layout, new_company, new_company_null, category);
	if (change.moved)
		change.old_side = LmWrittenSide(layout, old_company, old_company_null, old_category);
	r = LmClassify(&change);
	if (r.event == LM_EVENT_NONE)
		return PointerGetDatum(NULL);
	if (r.in_old_company)
		LmSinkRecordRow(layout, r.event, old_company, person, change.old_status,
						change.new_status, old_category, r.visible);
	else
		LmSinkRecordRow(layout, r.event, new_company, person, change.old_status,
						change.new_status, cascade_category ? cascade_category : category,
						r.visible);
	/* rule A2: a status a user set may move the company on */
	if (r.event == LM_EVENT_SET && r.visible && LmRulesActive() &&
		LmAutomaticCategory(change.new_status) != NULL)
		LmAutomationQueue(layout, new_company, person, change.new_status);
	return PointerGetDatum(NULL);
}

/*
 * AFTER INSERT OR UPDATE ... FOR EACH STATEMENT on the person and company
 * tables: the statement's B5 refusals, pending persons, the sink's buffer.
 */
Datum
lm_resolve_pending(PG_FUNCTION_ARGS)
{
	LmCheckTriggerContext(fcinfo, "resolve_pending", false, false);
	LmHiddenReport();
	if (LmRulesActive())
		LmPendingResolve();
	LmSinkFlush();
	LmAutomationRun();
	return PointerGetDatum(NULL);
}
