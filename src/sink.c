/*
 * sink.c
 *		The change sink.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Every status change of every path ends here.  Before a person row is
 * written, the sink writes the default status into it when the decision
 * says so (LmSinkStamp); after it was written, the person trigger's AFTER
 * ROW half hands over what the row change was (LmSinkRecordRow), so that
 * only rows really stored are recorded, as they were stored.  Cascades that
 * change no row (a company hidden or shown again) hand over the set of
 * persons concerned (LmSinkCompanySet).
 *
 * Status history (H1): the rows of a statement are buffered and written in
 * bulk at the statement's end: appended to the table directly (direct.c),
 * or, where its rows are routed (a distributed cluster), by one INSERT ...
 * SELECT from lead_mgmt.history_batch() (or every
 * LM_HISTORY_CHUNK rows); sets are written by one INSERT ... SELECT from the
 * persons of the company.  Each buffered row carries the subtransaction
 * level it was made at, and a write writes every row not written yet, in
 * the order they were made.  A subtransaction that aborts takes the rows
 * made in it with it; rows of outer levels that it wrote are written again,
 * since its INSERT is undone too.  The counts per event are what
 * lead_mgmt.transaction_changes() reports.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog_cache.h"
#include "direct.h"
#include "counts.h"
#include "sink.h"

PG_FUNCTION_INFO_V1(lm_transaction_changes);
PG_FUNCTION_INFO_V1(lm_history_batch);

/* history rows buffered before a statement's end forces a write */
#define LM_HISTORY_CHUNK 8192

/* ---- counts per event, per subtransaction level ---- */

typedef struct LmSinkLevel
{
	int			level;
	int64		counts[LM_NUM_EVENTS];
} LmSinkLevel;

static LmSinkLevel *levels = NULL;
static int	nlevels = 0;
static int	maxlevels = 0;

/* The counts of the given level, created on first use (levels ascend). */
static LmSinkLevel *
LmSinkLevelFor(int level)
{
	int			i;

	for (i = nlevels - 1; i >= 0; i--)
		if (levels[i].level == level)
			return &levels[i];
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

static void
LmSinkCount(LmEvent event, uint64 n)
{
	if (event != LM_EVENT_NONE && n > 0)
		LmSinkLevelFor(GetCurrentTransactionNestLevel())->counts[event] += n;
}

/* ---- buffered history rows ---- */

typedef struct LmHistoryRow
{
	int			level;			/* subtransaction level it was made at */
	int			written_at;		/* level whose INSERT wrote it, 0: not yet */
	LmEvent		event;
	bool		visible;
	bool		from_null;
	bool		to_null;
	bool		category_null;
	bool		source_null;
	Datum		company;
	Datum		person;
	Datum		from;
	Datum		to;
	Datum		category;
	Datum		source;			/* lead_mgmt.source then */
	TimestampTz at;				/* the statement's start */
} LmHistoryRow;

typedef struct LmHistoryBuffer
{
	MemoryContext cxt;			/* child of TopTransactionContext */
	LmLayout   *layout;
	int			n;
	int			max;
	int			unwritten;
	LmHistoryRow *rows;
} LmHistoryBuffer;

static LmHistoryBuffer history = {NULL};

/* An empty buffer (its memory is reset, or gone, by the caller). */
static void
LmHistoryClear(void)
{
	history.n = 0;
	history.max = 0;
	history.unwritten = 0;
	history.rows = NULL;
}

/* A text datum in the buffer's context, or NULL. */
static Datum
LmHistoryText(const char *s, bool *isnull)
{
	*isnull = (s == NULL || s[0] == '\0');
	return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

static void LmHistoryWrite(void);

/* Drop the rows for which keep says no, keeping the order of the rest. */
static void
LmHistoryCompact(bool (*keep) (LmHistoryRow *row, int level), int level)
{
	int			kept = 0;
	int			i;

	history.unwritten = 0;
	for (i = 0; i < history.n; i++)
	{
		if (!keep(&history.rows[i], level))
			continue;
		if (kept != i)
			history.rows[kept] = history.rows[i];
		if (history.rows[kept].written_at == 0)
			history.unwritten++;
		kept++;
	}
	history.n = kept;
	if (history.n == 0 && history.cxt != NULL)
	{
		MemoryContextReset(history.cxt);
		LmHistoryClear();
	}
}

static void
LmHistoryAdd(LmLayout *layout, LmEvent event, Datum company, Datum person,
			 const char *from, const char *to, const char *category, bool visible)
{
	MemoryContext old;
	LmHistoryRow *row;

	if (history.layout != layout && history.unwritten > 0)
		LmHistoryWrite();
	if (history.cxt == NULL)
		history.cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt history rows",
											ALLOCSET_DEFAULT_SIZES);
	history.layout = layout;
	if (history.n == history.max)
	{
		int			newmax = history.max == 0 ? 256 : history.max * 2;

		history.rows = history.rows == NULL ?
			MemoryContextAlloc(history.cxt, newmax * sizeof(LmHistoryRow)) :
			repalloc(history.rows, newmax * sizeof(LmHistoryRow));
		history.max = newmax;
	}
	row = &history.rows[history.n++];
	history.unwritten++;
	old = MemoryContextSwitchTo(history.cxt);
	row->level = GetCurrentTransactionNestLevel();
	row->written_at = 0;
	row->event = event;
	row->visible = visible;
	row->company = datumCopy(company, layout->company_key_byval, layout->company_key_typlen);
	row->person = datumCopy(person, layout->person_key_byval, layout->person_key_typlen);
	row->from = LmHistoryText(from, &row->from_null);
	row->to = LmHistoryText(to, &row->to_null);
	row->category = LmHistoryText(category, &row->category_null);
	row->source = LmHistoryText(lm_source, &row->source_null);
	row->at = GetCurrentStatementStartTimestamp();
	MemoryContextSwitchTo(old);
	if (history.unwritten >= LM_HISTORY_CHUNK)
		LmHistoryWrite();
}

/* A row the write at this level wrote, whose own level is below it, stays. */
static bool
LmHistoryKeepAfterWrite(LmHistoryRow *row, int level)
{
	return row->level < level;
}

/*
 * seq of the next row of a write: a block of numbers per nextval (the
 * sequence's increment), drawn when the rows are written, after the locks
 * that order conflicting changes: rows of one write are consecutive, and a
 * later write draws a later block.
 */
static int64
LmHistoryNextSeq(LmLayout *layout, int64 written, int64 *base)
{
	if (!OidIsValid(layout->history_seq))
		elog(ERROR, "lead_mgmt.status_history.seq has no sequence");
	if (written % layout->history_seq_step == 0)
		*base = nextval_internal(layout->history_seq, false);
	return *base + written % layout->history_seq_step;
}

/*
 * Append the rows not written yet to the history table and its indexes
 * (see direct.c), in the order they were made.
 */
static void
LmHistoryWriteDirect(LmLayout *layout, int level)
{
	LmDirect	d;
	int			natts;
	Datum	   *values;
	bool	   *nulls;
	NameData	who;
	int64		written = 0;
	int64		base = 0;
	int			i;

	namestrcpy(&who, GetUserNameFromId(GetSessionUserId(), false));
	LmDirectOpen(&d, layout->history_relid);
	natts = RelationGetDescr(d.rel)->natts;
	values = palloc0(natts * sizeof(Datum));
	nulls = palloc(natts * sizeof(bool));
	for (i = 0; i < history.n; i++)
	{
		LmHistoryRow *row = &history.rows[i];
		const AttrNumber *att = layout->history_att;

		if (row->written_at != 0)
			continue;
		row->written_at = level;
		memset(nulls, true, natts * sizeof(bool));
#define LM_SET(col, value, isnull) \
		(values[att[col] - 1] = (value), nulls[att[col] - 1] = (isnull))
		LM_SET(LM_HC_SEQ, Int64GetDatum(LmHistoryNextSeq(layout, written++, &base)), false);
		LM_SET(LM_HC_COMPANY, row->company, false);
		LM_SET(LM_HC_PERSON, row->person, false);
		LM_SET(LM_HC_FROM, row->from, row->from_null);
		LM_SET(LM_HC_TO, row->to, row->to_null);
		LM_SET(LM_HC_EVENT, layout->event_values[row->event], false);
		LM_SET(LM_HC_CATEGORY, row->category, row->category_null);
		LM_SET(LM_HC_CHANGED_AT, TimestampTzGetDatum(row->at), false);
		LM_SET(LM_HC_CHANGED_BY, NameGetDatum(&who), false);
		LM_SET(LM_HC_SOURCE, row->source, row->source_null);
		LM_SET(LM_HC_VISIBLE, BoolGetDatum(row->visible), false);
#undef LM_SET
		LmDirectInsert(&d, values, nulls);
	}
	LmDirectClose(&d);
	history.unwritten = 0;
}

/* The rows lead_mgmt.history_batch() returns: those the current write writes. */
static bool history_writing = false;

/*
 * Write every buffered row not written yet, in the order they were made:
 * one INSERT ... SELECT FROM lead_mgmt.history_batch().  A row of an outer
 * subtransaction level stays in the buffer until the level that wrote it
 * commits: should that level abort, its INSERT is undone and the row is
 * written again.
 */
static void
LmHistoryWrite(void)
{
	LmLayout   *layout = history.layout;
	int			level = GetCurrentTransactionNestLevel();
	bool		pushed;

	if (history.unwritten == 0)
		return;
	if (layout->history_direct)
	{
		LmHistoryWriteDirect(layout, level);
		LmHistoryCompact(LmHistoryKeepAfterWrite, level);
		return;
	}
	/* at commit, no snapshot may be active */
	pushed = !ActiveSnapshotSet();
	if (pushed)
		PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	history_writing = true;
	PG_TRY();
	{
		(void) LmExecuteAsOwner(layout, LM_PLAN_HISTORY_INSERT, NULL, NULL, false);
	}
	PG_FINALLY();
	{
		history_writing = false;
	}
	PG_END_TRY();
	SPI_finish();
	if (pushed)
		PopActiveSnapshot();
	LmHistoryCompact(LmHistoryKeepAfterWrite, level);
}

/*
 * lead_mgmt.history_batch() RETURNS SETOF record: the history rows being
 * written (company, person, from, to, event, category, time, source,
 * visible), for the INSERT of LmHistoryWrite() only; nothing elsewhere.
 */
Datum
lm_history_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			level = GetCurrentTransactionNestLevel();
	int			i;

	LmLayout   *layout = history.layout;
	int64		written = 0;
	int64		base = 0;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (rsinfo->setDesc->natts != 10)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("lead_mgmt.history_batch() returns 10 columns, not %d", rsinfo->setDesc->natts)));
	if (!history_writing)
		return (Datum) 0;
	for (i = 0; i < history.n; i++)
	{
		LmHistoryRow *row = &history.rows[i];
		Datum		values[10];
		bool		nulls[10] = {false, false, false, false, false, false, false, false, false, false};

		if (row->written_at != 0)
			continue;
		row->written_at = level;
		values[0] = Int64GetDatum(LmHistoryNextSeq(layout, written++, &base));
		values[1] = row->company;
		values[2] = row->person;
		values[3] = row->from;
		nulls[3] = row->from_null;
		values[4] = row->to;
		nulls[4] = row->to_null;
		values[5] = layout->event_values[row->event];
		values[6] = row->category;
		nulls[6] = row->category_null;
		values[7] = TimestampTzGetDatum(row->at);
		values[8] = row->source;
		nulls[8] = row->source_null;
		values[9] = BoolGetDatum(row->visible);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	history.unwritten = 0;
	return (Datum) 0;
}

/* ---- the sink ---- */

bool
LmHistoryActive(LmLayout *layout)
{
	return OidIsValid(layout->history_relid) &&
		LmPrivilegedSettingOn(lm_track_history, "lead_mgmt.track_history",
							  "turn status history off", "it");
}

bool
LmSinkWanted(LmLayout *layout)
{
	/* the per-event counts of transaction_changes() are always kept */
	return true;
}

HeapTuple
LmSinkStamp(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc, const LmDecision *decision)
{
	if (decision->verdict == LM_VERDICT_DEFAULT)
	{
		int			attno = rl->status_attno;
		Datum		value = LmDefaultStatusCached();
		bool		null = false;

		/* the cached datum is copied into the new tuple right away */
		tuple = heap_modify_tuple_by_cols(tuple, desc, 1, &attno, &value, &null);
	}
	return tuple;
}

void
LmSinkRecordRow(LmLayout *layout, LmEvent event, Datum company, Datum person,
				const char *from, const char *to, const char *category, bool visible)
{
	if (event == LM_EVENT_NONE)
		return;
	LmSinkCount(event, 1);
	if (LmHistoryActive(layout))
		LmHistoryAdd(layout, event, company, person, from, to, category, visible);
}

uint64
LmSinkCompanySet(LmLayout *layout, LmEvent event, Datum company,
				 const char *category, const char *at_status)
{
	Datum		values[7];
	uint64		n;

	values[0] = company;
	if (LmHistoryActive(layout))
	{
		char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
		bool		source_null;

		/* this set comes after what the statement buffered so far */
		LmSinkFlush();
		values[1] = category && category[0] ? CStringGetTextDatum(category) : (Datum) 0;
		nulls[1] = category && category[0] ? ' ' : 'n';
		values[2] = layout->event_values[event];
		values[3] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
		values[4] = LmHistoryText(lm_source, &source_null);
		nulls[4] = source_null ? 'n' : ' ';
		values[5] = BoolGetDatum(event != LM_EVENT_HIDDEN);
		values[6] = at_status ? CStringGetTextDatum(at_status) : (Datum) 0;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		n = LmExecuteAsOwner(layout, at_status ? LM_PLAN_HISTORY_AT : LM_PLAN_HISTORY_HELD,
							 values, nulls, false);
		SPI_finish();
	}
	else
	{
		if (at_status)
			values[1] = CStringGetTextDatum(at_status);
		n = LmCountAsOwner(layout, at_status ? LM_PLAN_COUNT_AT : LM_PLAN_COUNT_HELD, values);
	}
	LmSinkCount(event, n);
	return n;
}

void
LmSinkFlush(void)
{
	if (history.unwritten > 0)
		LmHistoryWrite();
	if (LmCountsShardDeltas())
		LmCountsFlushShards();
}

void
LmSinkXactEnd(void)
{
	nlevels = 0;
	/* the rows' memory goes with TopTransactionContext */
	history.cxt = NULL;
	history.layout = NULL;
	LmHistoryClear();
}

/* After an abort at level: rows made there are gone, rows written there are not. */
static bool
LmHistoryKeepAfterAbort(LmHistoryRow *row, int level)
{
	if (row->level >= level)
		return false;
	if (row->written_at >= level)
		row->written_at = 0;
	return true;
}

/* After a commit at level: a row written at its own level or below is done. */
static bool
LmHistoryKeepAfterCommit(LmHistoryRow *row, int level)
{
	if (row->level >= level)
		row->level = level - 1;
	if (row->written_at >= level)
		row->written_at = level - 1;
	return row->written_at == 0 || row->written_at > row->level;
}

void
LmSinkSubXactAbort(int level)
{
	while (nlevels > 0 && levels[nlevels - 1].level >= level)
		nlevels--;
	if (history.n > 0)
		LmHistoryCompact(LmHistoryKeepAfterAbort, level);
}

void
LmSinkSubXactCommit(int level)
{
	if (history.n > 0)
		LmHistoryCompact(LmHistoryKeepAfterCommit, level);
	if (nlevels > 0 && levels[nlevels - 1].level == level)
	{
		LmSinkLevel done = levels[--nlevels];
		LmSinkLevel *parent = LmSinkLevelFor(level - 1);
		int			e;

		for (e = 0; e < LM_NUM_EVENTS; e++)
			parent->counts[e] += done.counts[e];
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
	memset(totals, 0, sizeof(totals));
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
