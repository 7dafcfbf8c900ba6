/*
 * counts.c
 *		The count summary behind the dashboard views: exact, transactionally
 *		consistent, read in time independent of the number of persons, and
 *		kept without a row that concurrent writers would queue on.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * lead_mgmt.count_delta (created by manage() with the company key type)
 * holds signed deltas: kind 'p' persons per (category, status), kind 'o'
 * persons per (owner, category, status), kind 'c' companies per category.
 * Whether a status shows is its category's enable_lead_status, read when
 * the counts are read, so a catalog flip changes no count.  The sum of the
 * rows of a key is its count.
 *
 * Writers never update a row: the change sink adds each row change of the
 * managed tables to per-transaction deltas in memory (per subtransaction
 * level, so that a rolled-back savepoint takes its deltas with it), and a
 * transaction appends them, a few rows, when it commits, in the same
 * transaction as its changes.  A reader sees the rows committed before its
 * snapshot plus its own transaction's deltas still in memory
 * (lead_mgmt.count_summary() adds them): the counts of its snapshot, own
 * changes included.  lead_mgmt.compact_counts() folds the rows into one per
 * key; writers fold them on their way out, about every thousand appended
 * rows whoever appends them, when nobody else is folding (a lock that only
 * compactions take, tried without waiting), so the table stays small
 * without a scheduler.
 *
 * Every path counts: inserts, updates and deletes of persons (the person
 * trigger's AFTER ROW half, as written, rules on or off), a company's
 * insert, delete or category change (its persons move with it), TRUNCATE
 * (the kinds of the truncated table are cleared), persons written before
 * their company was visible (counted without a category, and moved once the
 * company is settled).
 *
 * A reader to whom row-level security applies on the managed tables, or
 * who may not read them, gets the views' exact count over the rows it may
 * see instead (lead_mgmt.counts_available() says which).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "citus.h"
#include "compat.h"
#include "counts.h"
#include "direct.h"

PG_FUNCTION_INFO_V1(lm_count_summary);
PG_FUNCTION_INFO_V1(lm_counts_available);
PG_FUNCTION_INFO_V1(lm_compact_counts);
PG_FUNCTION_INFO_V1(lm_counts_truncate);
PG_FUNCTION_INFO_V1(lm_rebuild_counts);

/*
 * The summary is folded about every this many appended rows, or this many
 * per page of the index on kind if more, whoever appends them: a writer
 * folds when it has appended that many itself, and otherwise with a chance
 * proportional to the rows it has just appended (many short sessions that
 * each append a few rows fold it as often as one long one).  Readers and
 * folds go through that index, whose entries of dead rows (marked, so no
 * row is fetched for them) stay until vacuum comes: a fold costs what the
 * index holds, so folding less often as the index grows keeps what a fold
 * costs per appended row bounded, at the price of more rows for readers to
 * add up.
 */
#define LM_COUNTS_COMPACT_AFTER 1024
#define LM_COUNTS_COMPACT_PER_INDEX_PAGE 10

/*
 * The key of a delta: kind, category, status, owner (NULL: none), and on a
 * Citus node the layout of the shard group whose summary shard takes it
 * (NULL: the summary of the managed pair).
 */
typedef struct LmCountKey
{
	LmLayout   *shard;
	char		kind;
	char	   *category;
	char	   *status;
	char	   *owner;
} LmCountKey;

/*
 * A company of the rows counted (keeps the summary's row beside them on a
 * distributed cluster), with its type: the layout may change within a
 * transaction (unmanage() and manage() again), the deltas stay.
 */
typedef struct LmCountCompany
{
	bool		has;
	Datum		value;
	Oid			type;
	int16		typlen;
	bool		byval;
} LmCountCompany;

static const LmCountCompany no_company = {false, (Datum) 0, InvalidOid, 0, false};

typedef struct LmCountEntry
{
	LmCountKey	key;			/* strings in the level's context */
	int64		n;
	LmCountCompany company;		/* value in the level's context */
} LmCountEntry;

typedef struct LmCountLevel
{
	LmLevelNode node;			/* first: the list and the level */
	MemoryContext cxt;			/* keys and company copies */
	HTAB	   *deltas;
} LmCountLevel;

static LmLevelNode *levels = NULL;	/* of LmCountLevel, innermost first */
static LmLayout *counts_layout = NULL;	/* the layout the deltas belong to */
static bool shard_deltas = false;	/* deltas of shard groups not appended yet */
static int64 appended_since_compact = 0;

/*
 * The deltas of the outermost level are kept in a table that lives as long
 * as the backend and is emptied at transaction end (most transactions touch
 * a few keys: creating a table each time would cost more than using it).
 */
static LmCountLevel *outer_level = NULL;

/* An outermost level's table larger than this is not kept for the next one. */
#define LM_COUNTS_KEEP_KEYS 256
/* ---- keys ---- */

static uint32
LmStrHash(const char *s)
{
	return s == NULL ? 0x9e3779b9 : hash_bytes((const unsigned char *) s, strlen(s));
}

static uint32
LmCountKeyHash(const void *key, Size keysize)
{
	const LmCountKey *k = (const LmCountKey *) key;
	uint32		h = (uint32) k->kind;

	if (k->shard != NULL)
		h = hash_combine(h, hash_bytes_uint32((uint32) (uintptr_t) k->shard));

	h = hash_combine(h, LmStrHash(k->category));
	h = hash_combine(h, LmStrHash(k->status));
	return hash_combine(h, LmStrHash(k->owner));
}

static bool
LmStrEqual(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

static int
LmCountKeyMatch(const void *key1, const void *key2, Size keysize)
{
	const LmCountKey *a = (const LmCountKey *) key1;
	const LmCountKey *b = (const LmCountKey *) key2;

	return (a->shard == b->shard && a->kind == b->kind && LmStrEqual(a->category, b->category) &&
			LmStrEqual(a->status, b->status) && LmStrEqual(a->owner, b->owner)) ? 0 : 1;
}

static char *
LmCountStrdup(MemoryContext cxt, const char *s)
{
	return (s == NULL || s[0] == '\0') ? NULL : MemoryContextStrdup(cxt, s);
}

/*
 * A table of count keys in cxt; its entries begin with an LmCountEntry
 * (entrysize may be larger for callers that keep more per key).
 */
static HTAB *
LmCountsTable(const char *name, MemoryContext cxt, Size entrysize, long nelem)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(LmCountKey);
	ctl.entrysize = entrysize;
	ctl.hash = LmCountKeyHash;
	ctl.match = LmCountKeyMatch;
	ctl.hcxt = cxt;
	return hash_create(name, nelem, &ctl,
					   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

/* The deltas of a subtransaction level, created on first use. */
static HTAB *
LmCountsLevelTable(MemoryContext cxt)
{
	return LmCountsTable("lead_mgmt count deltas", cxt, sizeof(LmCountEntry), 32);
}

static LmCountLevel *
LmCountsLevelAt(int level)
{
	LmLevelNode **link = &levels;
	LmCountLevel *l;

	while (*link != NULL && (*link)->level > level)
		link = &(*link)->next;
	if (*link != NULL && (*link)->level == level)
		return (LmCountLevel *) *link;
	if (level == 1)
	{
		if (outer_level == NULL)
		{
			MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "lead_mgmt count deltas",
													  ALLOCSET_SMALL_SIZES);

			outer_level = MemoryContextAllocZero(cxt, sizeof(LmCountLevel));
			outer_level->deltas = LmCountsLevelTable(cxt);
		}
		l = outer_level;
		l->cxt = TopTransactionContext;
	}
	else
	{
		l = MemoryContextAllocZero(TopTransactionContext, sizeof(LmCountLevel));
		l->cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt count deltas",
									   ALLOCSET_SMALL_SIZES);
		l->deltas = LmCountsLevelTable(l->cxt);
	}
	l->node.level = level;
	l->node.next = *link;
	*link = &l->node;
	return l;
}

/* Empty the outermost level's table for the next transaction (or drop it). */
static void
LmCountsOuterReset(void)
{
	HASH_SEQ_STATUS status;
	LmCountEntry *e;

	if (outer_level == NULL)
		return;
	if (hash_get_num_entries(outer_level->deltas) > LM_COUNTS_KEEP_KEYS)
	{
		MemoryContextDelete(GetMemoryChunkContext(outer_level));
		outer_level = NULL;
		return;
	}
	hash_seq_init(&status, outer_level->deltas);
	while ((e = hash_seq_search(&status)) != NULL)
		(void) hash_search(outer_level->deltas, &e->key, HASH_REMOVE, NULL);
}

static LmCountLevel *
LmCountsLevel(void)
{
	return LmCountsLevelAt(GetCurrentTransactionNestLevel());
}

static LmCountCompany
LmCountCompanyOf(LmLayout *layout, Datum value, bool has)
{
	LmCountCompany c;

	c.has = has;
	c.value = value;
	c.type = layout->company_key_type;
	c.typlen = layout->company_key_typlen;
	c.byval = layout->company_key_byval;
	return c;
}

/* Add n to a key of the given level's deltas. */
static void
LmCountsAddTo(LmCountLevel *l, LmLayout *shard, char kind, const char *category,
			  const char *status, const char *owner, int64 n, const LmCountCompany *company)
{
	LmCountKey	key;
	LmCountEntry *e;
	bool		found;

	if (n == 0)
		return;
	key.shard = shard;
	if (shard != NULL)
		shard_deltas = true;
	key.kind = kind;
	key.category = (char *) (category != NULL && category[0] != '\0' ? category : NULL);
	key.status = (char *) (status != NULL && status[0] != '\0' ? status : NULL);
	key.owner = (char *) owner;
	e = hash_search(l->deltas, &key, HASH_ENTER, &found);
	if (!found)
	{
		e->key.shard = shard;
		e->key.kind = kind;
		e->key.category = LmCountStrdup(l->cxt, key.category);
		e->key.status = LmCountStrdup(l->cxt, key.status);
		e->key.owner = owner == NULL ? NULL : MemoryContextStrdup(l->cxt, owner);
		e->n = 0;
		e->company = no_company;
	}
	e->n += n;
	if (company->has && !e->company.has)
	{
		MemoryContext old = MemoryContextSwitchTo(l->cxt);

		e->company = *company;
		e->company.value = datumCopy(company->value, company->byval, company->typlen);
		MemoryContextSwitchTo(old);
	}
}

/* ---- what the change sink hands over ---- */

bool
LmCountsActive(LmLayout *layout)
{
	return OidIsValid(layout->counts_relid) && layout->counts_direct;
}

void
LmCountsPerson(LmLayout *layout, Datum company, bool has_company, const char *category,
			   const char *status, const char *owner, int64 n)
{
	LmCountLevel *l;
	LmCountCompany c;

	if (!LmCountsActive(layout) || n == 0)
		return;
	if (!layout->shard)
		counts_layout = layout;
	l = LmCountsLevel();
	c = LmCountCompanyOf(layout, company, has_company);
	LmCountsAddTo(l, layout->shard ? layout : NULL, 'p', category, status, NULL, n, &c);
	if (layout->has_owner)
		LmCountsAddTo(l, layout->shard ? layout : NULL, 'o', category, status, owner, n, &c);
}

void
LmCountsCompany(LmLayout *layout, Datum company, const char *category, int64 n)
{
	LmCountCompany c;

	if (!LmCountsActive(layout) || n == 0)
		return;
	if (!layout->shard)
		counts_layout = layout;
	c = LmCountCompanyOf(layout, company, true);
	LmCountsAddTo(LmCountsLevel(), layout->shard ? layout : NULL, 'c', category, NULL, NULL, n, &c);
}

/*
 * The persons of a company move from one category to another (the
 * company's category changed, or it became visible with its persons written
 * before it): one query groups them by status and owner.
 */
void
LmCountsRegroup(LmLayout *layout, Datum company, const char *from_category,
				const char *to_category)
{
	uint64		i;
	uint64		n;
	Datum		values[1];

	if (!LmCountsActive(layout) || LmStrEqual(from_category, to_category))
		return;
	values[0] = company;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = LmExecuteAsOwner(layout, LM_PLAN_COUNT_GROUPS, values, NULL, false);
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *status = SPI_getvalue(tup, desc, 1);
		char	   *owner = SPI_getvalue(tup, desc, 2);
		bool		isnull;
		int64		count = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));

		LmCountsPerson(layout, company, true, from_category, status, owner, -count);
		LmCountsPerson(layout, company, true, to_category, status, owner, count);
	}
	SPI_finish();
}

/* ---- writing the deltas, at commit ---- */

/* Fold the deltas of every level into the outermost one's entries. */
static HTAB *
LmCountsMerged(void)
{
	LmLevelNode *node;
	LmCountLevel *outer = NULL;

	for (node = levels; node != NULL; node = node->next)
		outer = (LmCountLevel *) node;
	if (outer == NULL)
		return NULL;
	for (node = levels; node != NULL && node != &outer->node; node = node->next)
	{
		LmCountLevel *l = (LmCountLevel *) node;
		HASH_SEQ_STATUS status;
		LmCountEntry *e;

		hash_seq_init(&status, l->deltas);
		while ((e = hash_seq_search(&status)) != NULL)
			LmCountsAddTo(outer, e->key.shard, e->key.kind, e->key.category, e->key.status,
					  e->key.owner, e->n, &e->company);
	}
	levels = &outer->node;
	outer->node.next = NULL;
	return outer->deltas;
}

static Datum
LmTextOrNull(const char *s, bool *isnull)
{
	*isnull = s == NULL;
	return s == NULL ? (Datum) 0 : CStringGetTextDatum(s);
}

/*
 * Append one row of the summary: a key, its count and a company, written
 * only if of the type of the column (another type means the key was
 * retyped).
 */
static void
LmCountsWriteRow(LmDirect *d, LmLayout *layout, LmCountEntry *e, Datum *values, bool *nulls)
{
	const AttrNumber *att = layout->counts_att;
	int			natts = RelationGetDescr(d->rel)->natts;
	Oid			company_type = TupleDescAttr(RelationGetDescr(d->rel), att[LM_CC_COMPANY] - 1)->atttypid;

	memset(nulls, true, natts * sizeof(bool));
	if (e->company.has &&
		(e->company.type == company_type || getBaseType(e->company.type) == company_type))
	{
		values[att[LM_CC_COMPANY] - 1] = e->company.value;
		nulls[att[LM_CC_COMPANY] - 1] = false;
	}
	values[att[LM_CC_KIND] - 1] = CharGetDatum(e->key.kind);
	nulls[att[LM_CC_KIND] - 1] = false;
	values[att[LM_CC_CATEGORY] - 1] = LmTextOrNull(e->key.category, &nulls[att[LM_CC_CATEGORY] - 1]);
	values[att[LM_CC_STATUS] - 1] = LmTextOrNull(e->key.status, &nulls[att[LM_CC_STATUS] - 1]);
	values[att[LM_CC_OWNER] - 1] = LmTextOrNull(e->key.owner, &nulls[att[LM_CC_OWNER] - 1]);
	values[att[LM_CC_N] - 1] = Int64GetDatum(e->n);
	nulls[att[LM_CC_N] - 1] = false;
	LmDirectInsert(d, values, nulls);
}

static char *
LmSlotText(TupleTableSlot *slot, AttrNumber att)
{
	return slot->tts_isnull[att - 1] ? NULL : TextDatumGetCString(slot->tts_values[att - 1]);
}

/* The index is lead_mgmt's B-tree on the summary's kind. */
static void
LmCountsCheckIndex(LmLayout *layout, Relation idx)
{
	if (idx->rd_index->indrelid != layout->counts_relid ||
		idx->rd_index->indnkeyatts < 1 ||
		idx->rd_index->indkey.values[0] != layout->counts_att[LM_CC_KIND] ||
		idx->rd_rel->relam != BTREE_AM_OID)
		elog(ERROR, "index \"%s\" is not lead_mgmt's index of the count summary",
			 RelationGetRelationName(idx));
}

/* The rows of one key met by a fold. */
typedef struct LmFoldEntry
{
	LmCountEntry sum;			/* key, sum and a company */
	int			rows;
	List	   *tids;			/* of ItemPointer */
} LmFoldEntry;

/*
 * Fold the summary through its index: every key split over several rows,
 * or adding up to zero, is replaced by one row with the sum.  The caller
 * holds the lock that folds, clears and rebuilds take, so the rows of the
 * latest snapshot taken now are all there is to fold and nobody else
 * deletes them.  The cost is that of the rows there are (dead ones are
 * skipped in the index once a scan has met them), not of the table's size.
 * Returns the rows deleted.
 */
static uint64
LmCountsFoldIndex(LmLayout *layout)
{
	const AttrNumber *att = layout->counts_att;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "lead_mgmt fold",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	Relation	rel = table_open(layout->counts_relid, RowExclusiveLock);
	Relation	idx = index_open(layout->counts_index, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TupleDesc	desc = RelationGetDescr(rel);
	Form_pg_attribute company_att = TupleDescAttr(desc, att[LM_CC_COMPANY] - 1);
	IndexScanDesc scan;
	HTAB	   *keys;
	HASH_SEQ_STATUS status;
	LmFoldEntry *f;
	LmCountLevel tmp;
	List	   *folded = NIL;
	ListCell   *lc;
	uint64		deleted = 0;

	LmCountsCheckIndex(layout, idx);
	keys = LmCountsTable("lead_mgmt fold", cxt, sizeof(LmFoldEntry), 256);
	memset(&tmp, 0, sizeof(tmp));
	tmp.cxt = cxt;
	tmp.deltas = keys;

	scan = LmIndexBeginScan(rel, idx, snapshot, 0);
	index_rescan(scan, NULL, 0, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		LmCountCompany company = no_company;
		LmCountKey	key;
		bool		found;
		ItemPointer tid = palloc(sizeof(ItemPointerData));

		slot_getallattrs(slot);
		key.kind = DatumGetChar(slot->tts_values[att[LM_CC_KIND] - 1]);
		key.category = LmSlotText(slot, att[LM_CC_CATEGORY]);
		key.status = LmSlotText(slot, att[LM_CC_STATUS]);
		key.owner = LmSlotText(slot, att[LM_CC_OWNER]);
		if (!slot->tts_isnull[att[LM_CC_COMPANY] - 1])
		{
			company.has = true;
			company.value = slot->tts_values[att[LM_CC_COMPANY] - 1];
			company.type = company_att->atttypid;
			company.typlen = company_att->attlen;
			company.byval = company_att->attbyval;
		}
		f = hash_search(keys, &key, HASH_FIND, &found);
		if (!found)
		{
			/* the entry's key and company are copied into cxt */
			LmCountsAddTo(&tmp, NULL, key.kind, key.category, key.status, key.owner, 1, &company);
			f = hash_search(keys, &key, HASH_FIND, &found);
			Assert(found);
			f->sum.n = 0;
			f->rows = 0;
			f->tids = NIL;
		}
		if (!slot->tts_isnull[att[LM_CC_N] - 1])
			f->sum.n += DatumGetInt64(slot->tts_values[att[LM_CC_N] - 1]);
		f->rows++;
		ItemPointerCopy(&slot->tts_tid, tid);
		f->tids = lappend(f->tids, tid);
		CHECK_FOR_INTERRUPTS();
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);

	hash_seq_init(&status, keys);
	while ((f = hash_seq_search(&status)) != NULL)
	{
		if (f->rows < 2 && f->sum.n != 0)
			continue;
		foreach(lc, f->tids)
		{
			TM_FailureData tmfd;
			TM_Result	result;

			result = table_tuple_delete(rel, (ItemPointer) lfirst(lc), GetCurrentCommandId(true),
										snapshot, InvalidSnapshot, true, &tmfd, false);
			/* the calling statement deleted or changed the row itself */
			if (result == TM_SelfModified)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("lead_mgmt.compact_counts() cannot fold rows of lead_mgmt.count_delta that its own statement changes"),
						 errhint("Call lead_mgmt.compact_counts() in a statement of its own.")));
			if (result != TM_Ok)
				elog(ERROR, "unexpected table_tuple_delete status: %u", result);
			deleted++;
		}
		if (f->sum.n != 0)
			folded = lappend(folded, &f->sum);
	}
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	MemoryContextSwitchTo(old);

	if (folded != NIL)
	{
		LmDirect	d;
		int			natts;
		Datum	   *values;
		bool	   *nulls;

		CommandCounterIncrement();
		LmDirectOpen(&d, layout->counts_relid);
		natts = RelationGetDescr(d.rel)->natts;
		values = palloc0(natts * sizeof(Datum));
		nulls = palloc(natts * sizeof(bool));
		foreach(lc, folded)
			LmCountsWriteRow(&d, layout, (LmCountEntry *) lfirst(lc), values, nulls);
		LmDirectClose(&d);
	}
	MemoryContextDelete(cxt);
	return deleted;
}

/* Fold the summary (the caller holds the folding lock); the rows deleted. */
static uint64
LmCountsFold(LmLayout *layout)
{
	uint64		n;

	if (OidIsValid(layout->counts_index))
		return LmCountsFoldIndex(layout);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = LmExecuteAsOwner(layout, LM_PLAN_COUNTS_COMPACT, NULL, NULL, false);
	SPI_finish();
	return n;
}

/*
 * Whether a fold is due, this transaction having just appended appended
 * rows through d (the summary's indexes open).  The index's size (a system
 * call) is read only when the shortest interval says a fold may be due: a
 * longer interval can only say no where the shortest one does.
 */
static bool
LmCountsFoldDue(LmDirect *d, LmLayout *layout, int64 appended)
{
	double		draw = pg_prng_double(&pg_global_prng_state);
	int64		every = LM_COUNTS_COMPACT_AFTER;

	if (appended_since_compact < every && draw * (double) every >= (double) appended)
		return false;
	for (int i = 0; i < d->rri->ri_NumIndices; i++)
		if (RelationGetRelid(d->rri->ri_IndexRelationDescs[i]) == layout->counts_index)
			every = Max(every, (int64) RelationGetNumberOfBlocks(d->rri->ri_IndexRelationDescs[i]) *
						LM_COUNTS_COMPACT_PER_INDEX_PAGE);
	return appended_since_compact >= every || draw * (double) every < (double) appended;
}

/* Fold the summary at commit, without waiting for another folder. */
static void
LmCountsCommitFold(LmLayout *layout)
{
	bool		pushed;

	/* a fold reads every row: a serializable transaction leaves it to others */
	if (IsolationIsSerializable())
		return;
	if (!ConditionalLockRelationOid(layout->counts_relid, ShareUpdateExclusiveLock))
		return;
	appended_since_compact = 0;
	/* at commit, no snapshot may be active */
	pushed = !ActiveSnapshotSet();
	if (pushed)
		PushActiveSnapshot(GetTransactionSnapshot());
	(void) LmCountsFold(layout);
	if (pushed)
		PopActiveSnapshot();
}

/*
 * Appends rows to one summary at a time (the pair's, or on a Citus node a
 * shard group's): a row for another summary closes the open one, folding
 * it if due, and opens the other.
 */
typedef struct LmCountsWriter
{
	LmLayout   *layout;			/* the layout of the summary open in d */
	LmDirect	d;
	int64		appended;		/* rows appended to it */
	Datum	   *values;
	bool	   *nulls;
} LmCountsWriter;

/* The rows of the open summary are appended: close it, and fold if due. */
static void
LmCountsWriterClose(LmCountsWriter *w)
{
	bool		due;

	if (w->layout == NULL)
		return;
	due = LmCountsFoldDue(&w->d, w->layout, w->appended);
	LmDirectClose(&w->d);
	if (due)
		LmCountsCommitFold(w->layout);
	w->layout = NULL;
}

static void
LmCountsWriterPut(LmCountsWriter *w, LmLayout *target, LmCountEntry *e)
{
	if (target != w->layout)
	{
		int			natts;

		LmCountsWriterClose(w);
		LmDirectOpen(&w->d, target->counts_relid);
		natts = RelationGetDescr(w->d.rel)->natts;
		w->values = palloc0(natts * sizeof(Datum));
		w->nulls = palloc(natts * sizeof(bool));
		w->layout = target;
		w->appended = 0;
	}
	LmCountsWriteRow(&w->d, target, e, w->values, w->nulls);
	appended_since_compact++;
	w->appended++;
}

/*
 * The transaction commits: append its deltas (those not zero) to the
 * summary, in the same transaction.
 */
void
LmCountsFlush(void)
{
	HASH_SEQ_STATUS status;
	LmCountEntry *e;
	LmCountsWriter w = {0};

	if (levels == NULL)
		return;
	hash_seq_init(&status, LmCountsMerged());
	while ((e = hash_seq_search(&status)) != NULL)
	{
		/* the pair's summary, or the summary shard of a group (Citus) */
		LmLayout   *target = e->key.shard != NULL ? e->key.shard : counts_layout;

		if (e->n != 0 && target != NULL && OidIsValid(target->counts_relid))
			LmCountsWriterPut(&w, target, e);
	}
	levels = NULL;
	LmCountsWriterClose(&w);
}

/*
 * End of a statement on a Citus node: append the deltas of shard groups
 * now, in the statement's (sub)transaction, so that a reader on the
 * coordinator sees its own transaction's changes in the summary (the deltas
 * themselves stay in the memory of the node that made them).  Several
 * appends per transaction leave more rows to fold; the pair's own deltas
 * still wait for commit.
 */
bool
LmCountsShardDeltas(void)
{
	return shard_deltas;
}

void
LmCountsFlushShards(void)
{
	LmLevelNode *node;
	LmCountsWriter w = {0};

	for (node = levels; node != NULL; node = node->next)
	{
		HASH_SEQ_STATUS status;
		LmCountEntry *e;

		hash_seq_init(&status, ((LmCountLevel *) node)->deltas);
		while ((e = hash_seq_search(&status)) != NULL)
		{
			if (e->key.shard == NULL || e->n == 0 || !OidIsValid(e->key.shard->counts_relid))
				continue;
			LmCountsWriterPut(&w, e->key.shard, e);
			e->n = 0;
		}
	}
	LmCountsWriterClose(&w);
	shard_deltas = false;
}

/*
 * Cancel this transaction's deltas of the given kinds (a TRUNCATE cleared
 * them, or a rebuild counted them in): the opposite deltas are added at the
 * current subtransaction level, so that a rollback of that level brings
 * them back.
 */
static void
LmCountsForgetKinds(const char *kinds)
{
	LmLevelNode *node;
	LmCountLevel *current = LmCountsLevel();
	List	   *cancel = NIL;
	ListCell   *lc;

	for (node = levels; node != NULL; node = node->next)
	{
		LmCountLevel *l = (LmCountLevel *) node;
		HASH_SEQ_STATUS status;
		LmCountEntry *e;

		hash_seq_init(&status, l->deltas);
		while ((e = hash_seq_search(&status)) != NULL)
			if (e->n != 0 && strchr(kinds, e->key.kind) != NULL)
				cancel = lappend(cancel, e);
	}
	/* (entries of the current level may move while it grows: copy first) */
	foreach(lc, cancel)
	{
		LmCountEntry *e = (LmCountEntry *) lfirst(lc);
		LmCountEntry copy = *e;

		lfirst(lc) = palloc(sizeof(LmCountEntry));
		*(LmCountEntry *) lfirst(lc) = copy;
	}
	foreach(lc, cancel)
	{
		LmCountEntry *e = (LmCountEntry *) lfirst(lc);

		LmCountsAddTo(current, e->key.shard, e->key.kind, e->key.category, e->key.status,
					  e->key.owner, -e->n, &e->company);
	}
}

/* Forget every delta (rebuild_counts() counted them in). */
void
LmCountsForget(void)
{
	LmCountsForgetKinds("pco");
}

void
LmCountsXactEnd(void)
{
	LmCountsOuterReset();
	levels = NULL;				/* the rest goes with TopTransactionContext */
	counts_layout = NULL;
	shard_deltas = false;
}

void
LmCountsSubXactAbort(int level)
{
	LmLevelAbort(&levels, level);
}

void
LmCountsSubXactCommit(int level)
{
	LmCountLevel *l = (LmCountLevel *) levels;
	LmCountLevel *parent;
	HASH_SEQ_STATUS status;
	LmCountEntry *e;

	if (l == NULL || l->node.level < level)
		return;
	/* the parent level's deltas take the committed level's */
	levels = l->node.next;
	parent = LmCountsLevelAt(level - 1);
	hash_seq_init(&status, l->deltas);
	while ((e = hash_seq_search(&status)) != NULL)
		LmCountsAddTo(parent, e->key.shard, e->key.kind, e->key.category, e->key.status,
					  e->key.owner, e->n, &e->company);
}

/* ---- reading ---- */

/*
 * Whether the summary may answer for the current user: it may read the
 * managed tables, and row-level security does not apply to it on either
 * (a summary cannot know a reader's policies).
 */
static bool
LmCountsAvailable(LmLayout *layout)
{
	Oid			user = GetUserId();

	if (layout == NULL || !OidIsValid(layout->counts_relid))
		return false;
	if (pg_class_aclcheck(layout->person_relid, user, ACL_SELECT) != ACLCHECK_OK ||
		pg_class_aclcheck(layout->company_relid, user, ACL_SELECT) != ACLCHECK_OK)
		return false;
	return check_enable_rls(layout->person_relid, InvalidOid, true) != RLS_ENABLED &&
		check_enable_rls(layout->company_relid, InvalidOid, true) != RLS_ENABLED;
}

/*
 * lead_mgmt.counts_available() RETURNS boolean: whether the count views
 * read the summary for the current user (else they count the rows it may
 * see).
 */
Datum
lm_counts_available(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(LmCountsAvailable(LmGetLayout()));
}

/*
 * The committed rows of a kind, as of the active snapshot, added to sums:
 * read through the index on kind, so that the cost is that of the rows
 * there are, not of the table's size (the caller has checked who asks).
 */
static void
LmCountsReadIndex(LmLayout *layout, char kind, LmCountLevel *sums)
{
	const AttrNumber *att = layout->counts_att;
	Relation	rel = table_open(layout->counts_relid, AccessShareLock);
	Relation	idx = index_open(layout->counts_index, AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	ScanKeyData key;

	LmCountsCheckIndex(layout, idx);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_CHAREQ, CharGetDatum(kind));
	scan = LmIndexBeginScan(rel, idx, GetActiveSnapshot(), 1);
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		slot_getallattrs(slot);
		if (slot->tts_isnull[att[LM_CC_N] - 1])
			continue;
		LmCountsAddTo(sums, NULL, kind, LmSlotText(slot, att[LM_CC_CATEGORY]),
					  LmSlotText(slot, att[LM_CC_STATUS]), LmSlotText(slot, att[LM_CC_OWNER]),
					  DatumGetInt64(slot->tts_values[att[LM_CC_N] - 1]), &no_company);
		CHECK_FOR_INTERRUPTS();
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
}

/*
 * The counts of a kind counted now from the rows the current user may see,
 * as that user (its privileges and row-level security apply): for a reader
 * the summary cannot answer for.
 */
static void
LmCountsScan(LmLayout *layout, char kind, ReturnSetInfo *rsinfo)
{
	LmPlanId	id = kind == 'c' ? LM_PLAN_COUNTS_SCAN_C :
		kind == 'o' ? LM_PLAN_COUNTS_SCAN_O : LM_PLAN_COUNTS_SCAN_P;
	uint64		n;

	if (kind == 'o' && !layout->has_owner)
		return;					/* as the summary: no owner, no such rows */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = LmExecuteAsCaller(layout, id);
	for (uint64 i = 0; i < n; i++)
	{
		Datum		values[4];
		bool		nulls[4];

		for (int c = 0; c < 4; c++)
			values[c] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
		/* (the tuplestore copies the values, out of SPI's memory) */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
}

/*
 * lead_mgmt.count_summary(kind "char") RETURNS TABLE (category text, status
 * text, owner text, n bigint): the counts of a kind, as of the caller's
 * snapshot, its own transaction's changes included: from the summary for a
 * user it may answer for (counts_available()), else counted now from the
 * rows the user may see.  The count views read this function only, so that
 * their plans cost what reading the summary costs (a view that also held
 * the scan, never run, was costed as the scan, and compiled with JIT on
 * large tables at every read).
 */
Datum
lm_count_summary(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char		kind = PG_GETARG_CHAR(0);
	LmLayout   *layout = LmGetLayout();
	HTAB	   *sums;
	MemoryContext cxt;
	LmCountLevel tmp;
	LmLevelNode *node;
	HASH_SEQ_STATUS status;
	LmCountEntry *e;
	Datum		arg[1];
	uint64		i;
	uint64		n;

	InitMaterializedSRF(fcinfo, 0);
	if (kind != 'p' && kind != 'o' && kind != 'c')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown kind of count \"%s\"",
						DatumGetCString(DirectFunctionCall1(charout, CharGetDatum(kind)))),
				 errhint("The kinds are p (persons per category and status), o (per owner too) and c (companies per category).")));
	if (layout == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("lead_mgmt manages no tables"),
				 errhint("Call lead_mgmt.manage(company_table => ..., person_table => ...) first.")));
	if (!LmCountsAvailable(layout))
	{
		LmCountsScan(layout, kind, rsinfo);
		return (Datum) 0;
	}

	/* sum the committed rows and this transaction's deltas per key */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "lead_mgmt count sums", ALLOCSET_SMALL_SIZES);
	sums = LmCountsTable("lead_mgmt count sums", cxt, sizeof(LmCountEntry), 64);
	memset(&tmp, 0, sizeof(tmp));
	tmp.cxt = cxt;
	tmp.deltas = sums;

	if (OidIsValid(layout->counts_index))
		LmCountsReadIndex(layout, kind, &tmp);
	else
	{
		arg[0] = CharGetDatum(kind);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		n = LmExecuteAsOwner(layout, LM_PLAN_COUNTS_READ, arg, NULL, false);
		for (i = 0; i < n; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			int64		count = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));

			LmCountsAddTo(&tmp, NULL, kind, SPI_getvalue(tup, desc, 1), SPI_getvalue(tup, desc, 2),
						  SPI_getvalue(tup, desc, 3), count, &no_company);
		}
		SPI_finish();
	}
	for (node = levels; node != NULL; node = node->next)
	{
		HASH_SEQ_STATUS ls;

		hash_seq_init(&ls, ((LmCountLevel *) node)->deltas);
		while ((e = hash_seq_search(&ls)) != NULL)
			if (e->key.kind == kind)
				LmCountsAddTo(&tmp, NULL, kind, e->key.category, e->key.status, e->key.owner,
							  e->n, &no_company);
	}

	hash_seq_init(&status, sums);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		Datum		values[4];
		bool		nulls[4];

		if (e->n == 0)
			continue;
		values[0] = LmTextOrNull(e->key.category, &nulls[0]);
		values[1] = LmTextOrNull(e->key.status, &nulls[1]);
		values[2] = LmTextOrNull(e->key.owner, &nulls[2]);
		values[3] = Int64GetDatum(e->n);
		nulls[3] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---- maintenance ---- */

static void
LmCountsRequireTable(LmLayout *layout)
{
	if (layout == NULL || !OidIsValid(layout->counts_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("lead_mgmt.count_delta does not exist"),
				 errhint("lead_mgmt.manage() creates it; lead_mgmt.start_history() creates it for tables managed before 1.1.0.")));
}

/*
 * compact_counts() on every Citus worker (their own connections: folding
 * is maintenance, each fold commits on its own); the rows they folded.
 */
static uint64
LmCountsCompactWorkers(void)
{
	uint64		n = 0;
	uint64		i;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute("SELECT nodename, nodeport, success, result"
					  "  FROM pg_catalog.run_command_on_workers('SELECT lead_mgmt.compact_counts()')",
					  false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *result = SPI_getvalue(tup, desc, 4);

		if (!DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("lead_mgmt.compact_counts() failed on worker %s:%s: %s",
							SPI_getvalue(tup, desc, 1), SPI_getvalue(tup, desc, 2),
							result ? result : "no result"),
					 errhint("The workers that answered have folded their shards; run it again once the worker is back.")));
		if (result != NULL)
			n += pg_strtoint64(result);
	}
	SPI_finish();
	return n;
}

/*
 * lead_mgmt.compact_counts() RETURNS bigint: fold the summary's rows into
 * one per key (waiting for another compaction, never for writers); the
 * number of rows folded.
 */
Datum
lm_compact_counts(PG_FUNCTION_ARGS)
{
	LmLayout   *layout = LmGetLayout();
	uint64		n = 0;

	LmCheckAdmin("compact_counts");
	LmCountsRequireTable(layout);
	if (!layout->counts_direct)
	{
		/*
		 * Citus: each node folds the summary's shards it holds (a fold
		 * groups rows of one shard); the coordinator asks every worker.
		 */
		ListCell   *lc;

		foreach(lc, LmLocalShardLayouts())
		{
			LmLayout   *l = (LmLayout *) lfirst(lc);

			LockRelationOid(l->counts_relid, ShareUpdateExclusiveLock);
			n += LmCountsFold(l);
		}
		if (!LmCitusWorker())
			n += LmCountsCompactWorkers();
		appended_since_compact = 0;
		PG_RETURN_INT64((int64) n);
	}
	LockRelationOid(layout->counts_relid, ShareUpdateExclusiveLock);
	n = LmCountsFold(layout);
	appended_since_compact = 0;
	PG_RETURN_INT64((int64) n);
}

/*
 * AFTER TRUNCATE ON <person> | <company> FOR EACH STATEMENT: the counts of
 * the truncated table are gone.  TRUNCATE holds the table exclusively, so no
 * writer of it has deltas left to append; a compaction is waited for.
 */
Datum
lm_counts_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	LmLayout   *layout;
	bool		person;
	Datum		kinds[1];

	LmCheckTriggerContext(fcinfo, "counts_truncate", false, false);
	if (!TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.counts_truncate() must be fired for TRUNCATE")));
	layout = LmGetLayout();
	if (layout == NULL || !OidIsValid(layout->counts_relid))
		return PointerGetDatum(NULL);
	person = LmTriggerRole(trigdata, LM_ROLE_PERSON) == LM_ROLE_PERSON;
	/* on a Citus node a shard is truncated: the summary shard beside it */
	if (RelationGetRelid(trigdata->tg_relation) !=
		(person ? layout->person_relid : layout->company_relid))
		layout = LmGetRelLayout(trigdata, person ? LM_ROLE_PERSON : LM_ROLE_COMPANY,
								"counts_truncate")->pair;
	if (!OidIsValid(layout->counts_relid))
		return PointerGetDatum(NULL);
	LmCountsForgetKinds(person ? "po" : "c");
	LockRelationOid(layout->counts_relid, ShareUpdateExclusiveLock);
	kinds[0] = CStringGetTextDatum(person ? "po" : "c");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) LmExecuteAsOwner(layout, LM_PLAN_COUNTS_CLEAR, kinds, NULL, false);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * lead_mgmt.rebuild_counts() RETURNS bigint: recount the summary from the
 * managed tables; the rows it has then.  The tables are locked in SHARE mode
 * for the length of the transaction: writers wait for the recount (and it
 * for them), so nothing is counted twice or missed.
 */
Datum
lm_rebuild_counts(PG_FUNCTION_ARGS)
{
	LmLayout   *layout = LmGetLayout();
	Datum		kinds[1];
	uint64		n;

	LmCheckAdmin("rebuild_counts");
	if (layout == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("lead_mgmt manages no tables"),
				 errhint("Call lead_mgmt.manage(company_table => ..., person_table => ...) first.")));
	LmCountsRequireTable(layout);
	LockRelationOid(layout->company_relid, ShareLock);
	LockRelationOid(layout->person_relid, ShareLock);
	LockRelationOid(layout->counts_relid, ShareUpdateExclusiveLock);
	kinds[0] = CStringGetTextDatum("pco");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!layout->counts_direct)
	{
		/*
		 * Citus: the locks above hold this node's tables only.  LOCK TABLE
		 * takes them on every node with Citus's metadata, where a writer
		 * through that node takes its own: writers through any node wait.
		 */
		int			ret = SPI_execute(psprintf("LOCK TABLE %s, %s IN SHARE MODE",
											   layout->company_qname, layout->person_qname),
									  false, 0);

		if (ret != SPI_OK_UTILITY)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	}
	(void) LmExecuteAsOwner(layout, LM_PLAN_COUNTS_CLEAR, kinds, NULL, false);
	n = LmExecuteAsOwner(layout, LM_PLAN_COUNTS_SEED, NULL, NULL, false);
	SPI_finish();
	/* this transaction's own changes are in the recount */
	LmCountsForget();
	PG_RETURN_INT64((int64) n);
}
