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
 * that trigger), against the committed company.  Settling applies B1 (or
 * B2 for a move) to persons without status and refuses a status given for
 * a company that is not lead-enabled (B5).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "cascade.h"
#include "company_cache.h"
#include "pending.h"
#include "refusal.h"

PG_FUNCTION_INFO_V1(lm_settle_pending);

typedef struct LmPending
{
	LmLevelNode node;			/* first: the list and the level */
	Datum		key;
	bool		status_given;
	bool		moved;
	char		status[LM_KEY_LEN];
} LmPending;

static MemoryContext pending_cxt = NULL;	/* in TopTransactionContext */
static LmLevelNode *pending = NULL;		/* of LmPending */

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

/*
 * Remember a person whose company was not visible when it was written.
 */
void
LmPendingAdd(LmLayout *layout, Datum key, const char *status, bool moved)
{
	LmPending  *p;

	if (pending_cxt == NULL)
		pending_cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt pending persons",
											ALLOCSET_SMALL_SIZES);
	p = MemoryContextAllocZero(pending_cxt, sizeof(LmPending));
	p->key = LmCopyKey(layout, key, &pending_cxt);
	p->status_given = (status != NULL);
	p->moved = moved;
	if (status != NULL)
		strlcpy(p->status, status, LM_KEY_LEN);
	LmLevelPush(&pending, &p->node);
	LmQueueSettle();
}

/*
 * Settle pending persons whose company is visible by now: in a lead-enabled
 * company, persons without status get the default (B1, or B2 for a move); a
 * status given for a company that is not lead-enabled is refused (B5).
 * Companies still not visible stay pending.
 */
void
LmPendingResolve(bool at_commit)
{
	LmLayout   *layout;
	LmLevelNode *todo;

	if (pending == NULL)
		return;
	layout = LmGetLayout();
	if (layout == NULL)
	{
		pending = NULL;
		return;
	}
	/* make this command's own rows (a CTE's company) visible */
	CommandCounterIncrement();
	todo = pending;
	pending = NULL;
	while (todo != NULL)
	{
		LmPending  *p = (LmPending *) todo;
		LmCompanyState state;

		todo = todo->next;
		LmCompanyLookup(layout, p->key, true, &state);
		if (!state.found)
		{
			/* still pending, at the level it was written at */
			p->node.next = pending;
			pending = &p->node;
			continue;
		}
		if (state.lead_enabled)
			LmCascadeFillEmpty(layout, p->key,
							   p->moved ? LM_EVENT_ENTERED : LM_EVENT_CREATED, at_commit);
		else if (p->status_given)
			LmRefuseHidden(layout, p->status, p->key);
	}
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
		LmPendingResolve(true);
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
	marker_level = 0;
}

void
LmPendingSubXactAbort(int level)
{
	LmLevelAbort(&pending, level);
	if (marker_level >= level)
		marker_level = 0;
}

void
LmPendingSubXactCommit(int level)
{
	LmLevelCommit(pending, level);
	if (marker_level >= level)
		marker_level = level - 1;
}
