/*
 * sink.c
 *		The change sink.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Every status change of every path ends here: the person trigger hands
 * over the row it is writing with its decision (the sink writes the default
 * status into it when asked), and cascades that change no row (a company
 * hidden or shown again) hand over the set of persons concerned.
 *
 * Status history (H1): the rows of a statement are buffered and written in
 * bulk, one INSERT from arrays, at the statement's end (or every
 * LM_HISTORY_CHUNK rows); sets are written by one INSERT ... SELECT from the
 * persons of the company.  Each buffered row carries the subtransaction
 * level it was made at: a subtransaction that aborts takes its rows with
 * it, one that commits hands them to its parent, and a flush writes only the
 * rows of the current level, so an inner savepoint cannot lose outer rows.
 * The counts per event are what lead_mgmt.transaction_changes() reports.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog_cache.h"
#include "sink.h"

PG_FUNCTION_INFO_V1(lm_transaction_changes);

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

typedef struct LmHistoryBuffer
{
	MemoryContext cxt;			/* child of TopTransactionContext */
	LmLayout   *layout;
	int			n;
	int			max;
	int		   *level;
	Datum	   *company;
	Datum	   *person;
	Datum	   *from;
	Datum	   *to;
	Datum	   *category;
	Datum	   *event;
	Datum	   *at;				/* the statement's start */
	Datum	   *source;			/* lead_mgmt.source then */
	bool	   *source_null;
	bool	   *from_null;
	bool	   *to_null;
	bool	   *category_null;
} LmHistoryBuffer;

static LmHistoryBuffer history = {NULL};

#define LM_GROW(field, type) \
	history.field = history.field == NULL ? \
		MemoryContextAlloc(history.cxt, newmax * sizeof(type)) : \
		repalloc(history.field, newmax * sizeof(type))

static void
LmHistoryGrow(void)
{
	int			newmax = history.max == 0 ? 256 : history.max * 2;

	LM_GROW(level, int);
	LM_GROW(company, Datum);
	LM_GROW(person, Datum);
	LM_GROW(from, Datum);
	LM_GROW(to, Datum);
	LM_GROW(category, Datum);
	LM_GROW(event, Datum);
	LM_GROW(at, Datum);
	LM_GROW(source, Datum);
	LM_GROW(source_null, bool);
	LM_GROW(from_null, bool);
	LM_GROW(to_null, bool);
	LM_GROW(category_null, bool);
	history.max = newmax;
}

/* An empty buffer (its memory is reset, or gone, by the caller). */
static void
LmHistoryClear(void)
{
	history.n = 0;
	history.max = 0;
	history.level = NULL;
	history.company = history.person = history.from = history.to = NULL;
	history.category = history.event = history.at = history.source = NULL;
	history.from_null = history.to_null = history.category_null = history.source_null = NULL;
}

static void
LmHistoryForget(void)
{
	if (history.cxt != NULL)
		MemoryContextReset(history.cxt);
	LmHistoryClear();
}

/* A text datum in the buffer's context, or NULL. */
static Datum
LmHistoryText(const char *s, bool *isnull)
{
	*isnull = (s == NULL || s[0] == '\0');
	return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

static void LmHistoryWrite(int level);

/* Keep only the buffered rows made below the given level, in order. */
static void
LmHistoryKeepBelow(int level)
{
	int			kept = 0;
	int			i;

	for (i = 0; i < history.n; i++)
	{
		if (history.level[i] >= level)
			continue;
		history.level[kept] = history.level[i];
		history.company[kept] = history.company[i];
		history.person[kept] = history.person[i];
		history.from[kept] = history.from[i];
		history.to[kept] = history.to[i];
		history.category[kept] = history.category[i];
		history.event[kept] = history.event[i];
		history.at[kept] = history.at[i];
		history.source[kept] = history.source[i];
		history.source_null[kept] = history.source_null[i];
		history.from_null[kept] = history.from_null[i];
		history.to_null[kept] = history.to_null[i];
		history.category_null[kept] = history.category_null[i];
		kept++;
	}
	history.n = kept;
}

static void
LmHistoryAdd(LmLayout *layout, LmEvent event, Datum company, Datum person,
			 const char *from, const char *to, const char *category)
{
	MemoryContext old;
	int			i;

	if (history.layout != layout && history.n > 0)
		LmHistoryWrite(GetCurrentTransactionNestLevel());
	if (history.cxt == NULL)
		history.cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt history rows",
											ALLOCSET_DEFAULT_SIZES);
	history.layout = layout;
	if (history.n == history.max)
		LmHistoryGrow();
	i = history.n++;
	old = MemoryContextSwitchTo(history.cxt);
	history.level[i] = GetCurrentTransactionNestLevel();
	history.company[i] = datumCopy(company, layout->company_key_byval, layout->company_key_typlen);
	history.person[i] = datumCopy(person, layout->person_key_byval, layout->person_key_typlen);
	history.from[i] = LmHistoryText(from, &history.from_null[i]);
	history.to[i] = LmHistoryText(to, &history.to_null[i]);
	history.category[i] = LmHistoryText(category, &history.category_null[i]);
	history.event[i] = layout->event_values[event];
	history.at[i] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	history.source[i] = LmHistoryText(lm_source, &history.source_null[i]);
	MemoryContextSwitchTo(old);
	if (history.n >= LM_HISTORY_CHUNK)
		LmHistoryWrite(GetCurrentTransactionNestLevel());
}

/* A one-dimensional array of the buffered rows of one column. */
static Datum
LmHistoryArray(Datum *values, bool *nulls, int *pick, int n, Oid elemtype)
{
	int16		typlen;
	bool		byval;
	char		align;
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum	   *v = palloc(n * sizeof(Datum));
	bool	   *nl = palloc(n * sizeof(bool));
	int			i;

	for (i = 0; i < n; i++)
	{
		v[i] = values[pick[i]];
		nl[i] = nulls != NULL && nulls[pick[i]];
	}
	get_typlenbyvalalign(elemtype, &typlen, &byval, &align);
	return PointerGetDatum(construct_md_array(v, nl, 1, dims, lbs, elemtype, typlen, byval, align));
}

/*
 * Write the buffered rows made at the given level (rows of outer levels
 * wait for their own statement's end).
 */
static void
LmHistoryWrite(int level)
{
	LmLayout   *layout = history.layout;
	int		   *pick;
	int			npick = 0;
	int			i;
	Datum		args[8];
	MemoryContext old;

	if (history.n == 0)
		return;
	old = MemoryContextSwitchTo(history.cxt);
	pick = palloc(history.n * sizeof(int));
	for (i = 0; i < history.n; i++)
		if (history.level[i] >= level)
			pick[npick++] = i;
	if (npick == 0)
	{
		MemoryContextSwitchTo(old);
		return;
	}
	args[0] = LmHistoryArray(history.company, NULL, pick, npick, layout->company_key_type);
	args[1] = LmHistoryArray(history.person, NULL, pick, npick, layout->person_key_type);
	args[2] = LmHistoryArray(history.from, history.from_null, pick, npick, TEXTOID);
	args[3] = LmHistoryArray(history.to, history.to_null, pick, npick, TEXTOID);
	args[4] = LmHistoryArray(history.event, NULL, pick, npick, layout->event_type);
	args[5] = LmHistoryArray(history.category, history.category_null, pick, npick, TEXTOID);
	args[6] = LmHistoryArray(history.at, NULL, pick, npick, TIMESTAMPTZOID);
	args[7] = LmHistoryArray(history.source, history.source_null, pick, npick, TEXTOID);
	MemoryContextSwitchTo(old);

	/* keep the rows of outer levels, in order */
	LmHistoryKeepBelow(level);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) LmExecuteAsOwner(layout, LM_PLAN_HISTORY_INSERT, args, NULL, false);
	SPI_finish();
	if (history.n == 0)
		LmHistoryForget();
}

/* ---- the sink ---- */

bool
LmHistoryActive(LmLayout *layout)
{
	return OidIsValid(layout->history_relid) &&
		LmPrivilegedSettingOn(lm_track_history, "lead_mgmt.track_history",
							  "turn status history off", "it");
}

HeapTuple
LmSinkApplyRow(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc,
			   const LmDecision *decision, Datum company,
			   const char *from, const char *category)
{
	LmLayout   *layout = rl->pair;
	char		to[LM_KEY_LEN];
	bool		isnull;

	if (decision->verdict == LM_VERDICT_DEFAULT)
	{
		int			attno = rl->status_attno;
		Datum		value = LmDefaultStatusCached();
		bool		null = false;

		/* the cached datum is copied into the new tuple right away */
		tuple = heap_modify_tuple_by_cols(tuple, desc, 1, &attno, &value, &null);
	}
	if (decision->event == LM_EVENT_NONE)
		return tuple;
	LmSinkCount(decision->event, 1);
	if (LmHistoryActive(layout))
	{
		Datum		person = heap_getattr(tuple, rl->key_attno, desc, &isnull);
		Datum		status;

		if (isnull)
			return tuple;		/* the primary key refuses the row */
		status = heap_getattr(tuple, rl->status_attno, desc, &isnull);
		if (isnull || !LmDatumToKey(status, to))
			to[0] = '\0';
		LmHistoryAdd(layout, decision->event, company, person, from, to, category);
	}
	return tuple;
}

uint64
LmSinkCompanySet(LmLayout *layout, LmEvent event, Datum company,
				 const char *category, const char *at_status)
{
	Datum		values[6];
	uint64		n;

	values[0] = company;
	if (LmHistoryActive(layout))
	{
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
		bool		source_null;

		/* this set comes after what the statement buffered so far */
		LmSinkFlush();
		values[1] = category && category[0] ? CStringGetTextDatum(category) : (Datum) 0;
		nulls[1] = category && category[0] ? ' ' : 'n';
		values[2] = layout->event_values[event];
		values[3] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
		values[4] = LmHistoryText(lm_source, &source_null);
		nulls[4] = source_null ? 'n' : ' ';
		values[5] = at_status ? CStringGetTextDatum(at_status) : (Datum) 0;
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
LmSinkRecordPerson(LmLayout *layout, LmEvent event, Datum company, Datum person,
				   const char *status, const char *category)
{
	if (event == LM_EVENT_NONE)
		return;
	LmSinkCount(event, 1);
	if (LmHistoryActive(layout))
		LmHistoryAdd(layout, event, company, person, status, status, category);
}

void
LmSinkFlush(void)
{
	LmHistoryWrite(GetCurrentTransactionNestLevel());
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

void
LmSinkSubXactAbort(int level)
{
	while (nlevels > 0 && levels[nlevels - 1].level >= level)
		nlevels--;
	LmHistoryKeepBelow(level);
}

void
LmSinkSubXactCommit(int level)
{
	int			i;

	for (i = 0; i < history.n; i++)
		if (history.level[i] >= level)
			history.level[i] = level - 1;
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
