/*
 * pending.c
 *		Persons written before their company was visible: a company created
 *		in the same statement by a data-modifying WITH, a deferred foreign
 *		key whose company comes later (from this session or another one), a
 *		company committed between our lookup and the foreign-key check.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Such a person is remembered and settled as soon as its company can be
 * seen: at the end of each statement on the managed tables, and at commit,
 * by a deferred constraint trigger on lead_mgmt.settle_marker (a row there
 * is written once per transaction that has pending persons, only to queue
 * that trigger), against the committed company.  Settling reads the person
 * as it is by then and lets the same decision as for any write decide, now
 * that the company's side is known: B1 or B2 give the default, B5 refuses a
 * status given for a company that is not lead-enabled.
 *
 * An entry stays in the list once settled, marked with the subtransaction
 * level that settled it: if that subtransaction rolls back, the entry is
 * pending again (and an error while settling loses nothing).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "access/htup_details.h"
#include "cascade.h"
#include "catalog_cache.h"
#include "sink.h"
#include "company_cache.h"
#include "counts.h"
#include "pending.h"
#include "refusal.h"

PG_FUNCTION_INFO_V1(lm_settle_pending);

typedef struct LmPending
{
	LmLevelNode node;			/* first: the list and the level written at */
	LmLayout   *shard;			/* the shard group's layout (Citus), or NULL */
	int			settled;		/* level that settled it, 0 while pending */
	Datum		key;			/* the company */
	Datum		person;			/* the person's key */
	bool		insert;
	bool		moved;
	bool		status_changed;
	LmCompanySide old_side;
	LmReentry	reentry;
	int			counted;		/* level that moved its count, 0 while not */
	bool		has_old_status;
	char		old_status[LM_KEY_LEN];
} LmPending;

static MemoryContext pending_cxt = NULL;	/* in TopTransactionContext */
static LmLevelNode *pending = NULL;		/* of LmPending */

/*
 * The entries by their person key (a hash of the key's bytes, then the
 * entries with that hash), built on first use; an abort drops it.
 */
typedef struct LmPendingBucket
{
	uint32		hash;
	List	   *entries;
} LmPendingBucket;

static HTAB *pending_index = NULL;

/* nesting level at which this transaction queued the commit-time settle, or 0 */
static int	marker_level = 0;

/*
 * Queue the commit-time settle: one row in lead_mgmt.settle_marker, written
 * as the owner of that table (writers need no rights on it).
 */
static void
LmMarkerExecute(const char *sql, int nargs, Oid *types, Datum *values, int expected)
{
	Oid			save_userid;
	int			save_sec_context;
	volatile int ret = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(LmRelOwner(LmGetOids()->settle_marker),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		ret = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	if (ret != expected)
		elog(ERROR, "SPI_execute_with_args failed for \"%s\": %s", sql,
			 SPI_result_code_string(ret));
	SPI_finish();
}

static void
LmQueueSettle(void)
{
	if (marker_level > 0)
		return;
	if (!OidIsValid(LmGetOids()->settle_marker))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table lead_mgmt.settle_marker does not exist"),
				 errhint("Update the extension: ALTER EXTENSION lead_mgmt UPDATE;")));
	LmMarkerExecute("INSERT INTO lead_mgmt.settle_marker DEFAULT VALUES", 0, NULL, NULL,
					SPI_OK_INSERT);
	marker_level = GetCurrentTransactionNestLevel();
}

static uint32
LmPersonHash(LmLayout *layout, Datum person)
{
	return datum_image_hash(person, layout->person_key_byval, layout->person_key_typlen);
}

static void
LmPendingIndexAdd(LmLayout *layout, LmPending *p)
{
	uint32		hash = LmPersonHash(layout, p->person);
	LmPendingBucket *b;
	bool		found;
	MemoryContext old;

	b = hash_search(pending_index, &hash, HASH_ENTER, &found);
	old = MemoryContextSwitchTo(pending_cxt);
	b->entries = found ? lappend(b->entries, p) : list_make1(p);
	MemoryContextSwitchTo(old);
}

/* The unsettled entries of a person at a company (NIL when none). */
static List *
LmPendingEntries(LmLayout *layout, Datum person, Datum company, bool unsettled)
{
	uint32		hash;
	LmPendingBucket *b;
	ListCell   *lc;
	List	   *found = NIL;

	if (pending == NULL)
		return NIL;
	if (pending_index == NULL)
	{
		HASHCTL		ctl;
		LmLevelNode *n;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(LmPendingBucket);
		ctl.hcxt = pending_cxt;
		pending_index = hash_create("lead_mgmt pending persons", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		for (n = pending; n != NULL; n = n->next)
			LmPendingIndexAdd(layout, (LmPending *) n);
	}
	hash = LmPersonHash(layout, person);
	b = hash_search(pending_index, &hash, HASH_FIND, NULL);
	if (b == NULL)
		return NIL;
	foreach(lc, b->entries)
	{
		LmPending  *p = (LmPending *) lfirst(lc);

		if ((!unsettled || p->settled == 0) &&
			datum_image_eq(p->person, person, layout->person_key_byval,
						   layout->person_key_typlen) &&
			LmCompanyKeyEqual(layout, p->key, company))
			found = lappend(found, p);
	}
	return found;
}

/*
 * Whether the person was written at this company before the company was
 * visible and is not settled yet: its change is recorded, and counted under
 * its company's category, when it is settled.
 */
bool
LmPendingHasFor(LmLayout *layout, Datum person, Datum company)
{
	return LmPendingEntries(layout, person, company, true) != NIL;
}

/*
 * Remember a person whose company was not visible when it was written.
 */
void
LmPendingAdd(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc, Datum company,
			 const LmRowChange *change)
{
	LmLayout   *layout = rl->pair;
	LmPending  *p;
	MemoryContext old;
	bool		isnull;
	Datum		person = heap_getattr(tuple, rl->key_attno, desc, &isnull);

	if (isnull)
		return;					/* the primary key refuses it */
	if (pending_cxt == NULL)
		pending_cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt pending persons",
											ALLOCSET_SMALL_SIZES);
	p = MemoryContextAllocZero(pending_cxt, sizeof(LmPending));
	p->shard = layout->shard ? layout : NULL;
	p->key = LmCopyKey(layout, company, &pending_cxt);
	old = MemoryContextSwitchTo(pending_cxt);
	p->person = datumCopy(person, layout->person_key_byval, layout->person_key_typlen);
	MemoryContextSwitchTo(old);
	p->insert = change->insert;
	p->moved = change->moved;
	p->status_changed = change->status_changed;
	p->old_side = change->old_side;
	p->reentry = change->reentry;
	if (change->old_status != NULL)
	{
		p->has_old_status = true;
		strlcpy(p->old_status, change->old_status, LM_KEY_LEN);
	}
	LmLevelPush(&pending, &p->node);
	if (pending_index != NULL)
		LmPendingIndexAdd(layout, p);
	LmQueueSettle();
}

/*
 * The person's status now, if it is still a person of the company.
 */
static bool
LmPendingPersonStatus(LmLayout *layout, LmPending *p, char *status, bool *isnull, char **owner)
{
	Datum		values[2];
	bool		found = false;
	MemoryContext caller = CurrentMemoryContext;

	values[0] = p->person;
	values[1] = p->key;
	*isnull = true;
	*owner = NULL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (LmExecuteAsOwner(layout, LM_PLAN_PERSON_STATUS, values, NULL, false) > 0)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
		char	   *o = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		found = true;
		if (!*isnull && !LmDatumToKey(d, status))
			*isnull = true;
		if (o != NULL)
			*owner = MemoryContextStrdup(caller, o);
	}
	SPI_finish();
	return found;
}

/*
 * The person was counted without a category while its company was not
 * visible: it moves to the company's category now, once, whichever of its
 * entries is settled first.
 */
static void
LmPendingMoveCount(LmLayout *layout, LmPending *p, const char *category,
				   const char *status, const char *owner)
{
	ListCell   *lc;

	foreach(lc, LmPendingEntries(layout, p->person, p->key, false))
	{
		if (((LmPending *) lfirst(lc))->counted > 0)
			return;
	}
	p->counted = GetCurrentTransactionNestLevel();
	LmCountsPerson(layout, p->key, true, NULL, status, owner, -1);
	LmCountsPerson(layout, p->key, true, category, status, owner, 1);
}

/*
 * Settle one pending person whose company is visible now.
 */
static void
LmPendingSettle(LmLayout *layout, LmPending *p, bool lead_enabled, const char *category)
{
	LmRowChange change;
	LmDecision	d;
	char		status[LM_KEY_LEN];
	bool		status_null;
	char	   *owner;

	/* gone, or moved on (a later write decided again) */
	if (!LmPendingPersonStatus(layout, p, status, &status_null, &owner))
		return;
	LmPendingMoveCount(layout, p, category, status_null ? NULL : status, owner);
	memset(&change, 0, sizeof(change));
	change.insert = p->insert;
	change.moved = p->moved;
	change.status_changed = p->status_changed;
	change.old_side = p->old_side;
	change.new_side = lead_enabled ? LM_COMPANY_ENABLED : LM_COMPANY_HIDDEN;
	change.old_status = p->has_old_status ? p->old_status : NULL;
	change.new_status = status_null ? NULL : status;
	change.origin = LM_ORIGIN_USER;
	change.reentry = p->reentry;
	change.default_status = LmDefaultStatusKey();
	d = LmDecide(&change);
	switch (d.verdict)
	{
		case LM_VERDICT_REFUSE_HIDDEN:
			LmRefuseHidden(layout, change.new_status, p->key);
			break;
		case LM_VERDICT_REFUSE_CLEAR:
			LmRefuseClear(layout, p->key);
			break;
		case LM_VERDICT_DEFAULT:
			LmCascadePerson(layout, p->person, p->key, category, d.event);
			break;
		default:
			/* nothing written: the change as it stands is recorded now */
			if (d.event != LM_EVENT_NONE)
				LmSinkRecordRow(layout, p->insert && d.event == LM_EVENT_SET ? LM_EVENT_CREATED : d.event,
								p->key, p->person, change.old_status, change.new_status,
								category, lead_enabled);
			break;
	}
}

/*
 * Settle pending persons whose company is visible by now.  Companies still
 * not visible stay pending.
 */
void
LmPendingResolve(void)
{
	LmLayout   *layout;
	LmLevelNode *n;
	bool		incremented = false;

	for (n = pending; n != NULL; n = n->next)
	{
		LmPending  *p = (LmPending *) n;
		LmCompanyState state;

		if (p->settled > 0)
			continue;
		if (!incremented)
		{
			layout = LmGetLayout();
			if (layout == NULL)
				return;
			/* make this command's own rows (a CTE's company) visible */
			CommandCounterIncrement();
			incremented = true;
		}
		/* on a shard, the company is looked up in its own group */
		LmCompanyLookup(p->shard ? p->shard : layout, p->key, true, &state);
		if (!state.found)
			continue;
		p->settled = GetCurrentTransactionNestLevel();
		LmPendingSettle(p->shard ? p->shard : layout, p, state.lead_enabled, state.category);
	}
	LmSinkFlush();
}

/*
 * Deferred constraint trigger on lead_mgmt.settle_marker: settle what is
 * still pending at commit, against the committed companies.
 */
Datum
lm_settle_pending(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			tidtype[1] = {TIDOID};
	Datum		tid[1];

	LmCheckTriggerContext(fcinfo, "settle_pending", false, true);
	marker_level = 0;
	if (LmRulesActive())
		LmPendingResolve();
	/* the marker has done its work */
	tid[0] = PointerGetDatum(&trigdata->tg_trigtuple->t_self);
	LmMarkerExecute("DELETE FROM ONLY lead_mgmt.settle_marker WHERE ctid OPERATOR(pg_catalog.=) $1",
					1, tidtype, tid, SPI_OK_DELETE);
	return PointerGetDatum(NULL);
}

void
LmPendingXactEnd(void)
{
	/* pending persons go with TopTransactionContext */
	pending_cxt = NULL;
	pending = NULL;
	pending_index = NULL;
	marker_level = 0;
}

void
LmPendingSubXactAbort(int level)
{
	LmLevelNode *n;

	LmLevelAbort(&pending, level);
	if (pending_index != NULL)
	{
		hash_destroy(pending_index);
		pending_index = NULL;
	}
	/* what the aborted subtransaction settled is pending again */
	for (n = pending; n != NULL; n = n->next)
	{
		if (((LmPending *) n)->settled >= level)
			((LmPending *) n)->settled = 0;
		if (((LmPending *) n)->counted >= level)
			((LmPending *) n)->counted = 0;
	}
	if (marker_level >= level)
		marker_level = 0;
}

void
LmPendingSubXactCommit(int level)
{
	LmLevelNode *n;

	LmLevelCommit(pending, level);
	for (n = pending; n != NULL; n = n->next)
	{
		if (((LmPending *) n)->settled >= level)
			((LmPending *) n)->settled = level - 1;
		if (((LmPending *) n)->counted >= level)
			((LmPending *) n)->counted = level - 1;
	}
	if (marker_level >= level)
		marker_level = level - 1;
}
