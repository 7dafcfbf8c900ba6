/*
 * sink.c
 *		The change sink.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Every status change of every path ends here: the person trigger hands
 * over the row it is writing with its decision (the sink writes the default
 * status into it when asked), and cascades that change no row (a company
 * hidden or shown again) hand over the set of persons concerned.  What a
 * statement records is buffered and folded into the transaction's record at
 * the statement's end; a (sub)transaction that aborts leaves nothing.  The
 * record is what lead_mgmt.transaction_changes() reports, and where status
 * history and count deltas attach.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "catalog_cache.h"
#include "sink.h"

PG_FUNCTION_INFO_V1(lm_transaction_changes);

/* Events recorded at one subtransaction level. */
typedef struct LmSinkLevel
{
	int			level;
	int64		counts[LM_NUM_EVENTS];
} LmSinkLevel;

/* the current statement's buffer */
static int64 stmt_counts[LM_NUM_EVENTS];
static int	stmt_level = 0;
static bool stmt_dirty = false;

/* the transaction's record, one entry per subtransaction level in use */
static LmSinkLevel *levels = NULL;
static int	nlevels = 0;
static int	maxlevels = 0;

static void
LmSinkBuffer(LmEvent event, uint64 n)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event == LM_EVENT_NONE || n == 0)
		return;
	if (stmt_dirty && stmt_level != level)
		LmSinkFlush();
	stmt_level = level;
	stmt_counts[event] += n;
	stmt_dirty = true;
}

HeapTuple
LmSinkApplyRow(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc,
			   const LmDecision *decision)
{
	if (decision->verdict == LM_VERDICT_DEFAULT)
	{
		int			attno = rl->status_attno;
		Datum		value = LmDefaultStatusCached();
		bool		isnull = false;

		/* the cached datum is copied into the new tuple right away */
		tuple = heap_modify_tuple_by_cols(tuple, desc, 1, &attno, &value, &isnull);
	}
	LmSinkBuffer(decision->event, 1);
	return tuple;
}

void
LmSinkRecordSet(LmEvent event, uint64 persons)
{
	LmSinkBuffer(event, persons);
}

/* The record of the given level, created on first use. */
static LmSinkLevel *
LmSinkLevelFor(int level)
{
	if (nlevels > 0 && levels[nlevels - 1].level == level)
		return &levels[nlevels - 1];
	if (nlevels == maxlevels)
	{
		int			newmax = maxlevels == 0 ? 4 : maxlevels * 2;

		if (levels == NULL)
			levels = MemoryContextAlloc(TopMemoryContext, newmax * sizeof(LmSinkLevel));
		else
			levels = repalloc(levels, newmax * sizeof(LmSinkLevel));
		maxlevels = newmax;
	}
	memset(&levels[nlevels], 0, sizeof(LmSinkLevel));
	levels[nlevels].level = level;
	return &levels[nlevels++];
}

void
LmSinkFlush(void)
{
	LmSinkLevel *l;
	int			i;

	if (!stmt_dirty)
		return;
	l = LmSinkLevelFor(stmt_level);
	for (i = 0; i < LM_NUM_EVENTS; i++)
		l->counts[i] += stmt_counts[i];
	memset(stmt_counts, 0, sizeof(stmt_counts));
	stmt_dirty = false;
}

void
LmSinkXactEnd(void)
{
	memset(stmt_counts, 0, sizeof(stmt_counts));
	stmt_dirty = false;
	nlevels = 0;
}

void
LmSinkSubXactAbort(int level)
{
	if (stmt_dirty && stmt_level >= level)
	{
		memset(stmt_counts, 0, sizeof(stmt_counts));
		stmt_dirty = false;
	}
	while (nlevels > 0 && levels[nlevels - 1].level >= level)
		nlevels--;
}

void
LmSinkSubXactCommit(int level)
{
	LmSinkFlush();
	if (nlevels > 0 && levels[nlevels - 1].level == level)
	{
		LmSinkLevel done = levels[--nlevels];
		LmSinkLevel *parent = LmSinkLevelFor(level - 1);
		int			i;

		for (i = 0; i < LM_NUM_EVENTS; i++)
			parent->counts[i] += done.counts[i];
	}
}

/*
 * lead_mgmt.transaction_changes() RETURNS TABLE (event history_event,
 * persons bigint): the status changes the current transaction made so far,
 * per event, as the change sink recorded them.
 */
Datum
lm_transaction_changes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		totals[LM_NUM_EVENTS];
	Oid			event_type;
	int			i;
	int			e;

	InitMaterializedSRF(fcinfo, 0);
	event_type = TupleDescAttr(rsinfo->setDesc, 0)->atttypid;
	memcpy(totals, stmt_counts, sizeof(totals));
	for (i = 0; i < nlevels; i++)
		for (e = 0; e < LM_NUM_EVENTS; e++)
			totals[e] += levels[i].counts[e];
	for (e = 0; e < LM_NUM_EVENTS; e++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		if (totals[e] == 0)
			continue;
		values[0] = DirectFunctionCall2(enum_in, CStringGetDatum(lm_event_names[e]),
										ObjectIdGetDatum(event_type));
		values[1] = Int64GetDatum(totals[e]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
