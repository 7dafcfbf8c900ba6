/*
 * company_lookup.c
 *		Lock a company row, then read its category; remember the answer for
 *		the rest of the transaction.
 *
 * Lock, then read: the row is locked FOR KEY SHARE through its primary key
 * index (the foreign-key check of the person row takes the very same lock
 * right after, and finds it already held).  Only then is the category read,
 * and the catalog lookup happens separately, in the catalog cache.  A change
 * of category that alters whether the company is lead-enabled escalates to
 * FOR UPDATE first (LmCompanyLockForFlip), so it waits for us, or we wait for
 * it and then read its result.  A concurrent change that keeps the company on
 * the same side cannot alter our decision.
 *
 * While this transaction holds the KEY SHARE lock, no such change can commit,
 * so the answer is cached per transaction: a bulk load of a million persons
 * into a hundred thousand companies looks up each company once.  The cache
 * is dropped when a subtransaction aborts (its row locks are gone), when this
 * backend changes a category or a company's category, and at transaction end.
 *
 * A person written before its company is visible (a data-modifying CTE, a
 * deferred foreign key, a company committed between our lookup and the
 * foreign-key check) is remembered as pending and settled by a statement
 * trigger once the company can be seen.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "lead_mgmt.h"

/* Upper bound of cached companies per transaction (about 64 MB). */
#define LM_COMPANY_CACHE_MAX 1000000

typedef struct LmCompanyEntry
{
	Datum		key;			/* hash key: a copy of the company key */
	LmCompanyState state;
} LmCompanyEntry;

static MemoryContext company_cxt = NULL;
static HTAB *company_cache = NULL;
static bool company_cache_reset_pending = false;

/* key support of the table being cached, for the hash callbacks */
static LmLayout *company_cache_layout = NULL;

/* persons written while their company was not visible */
typedef struct LmPending
{
	Datum		key;
	bool		status_given;
	char		status[LM_KEY_LEN];
	int			level;			/* subtransaction nesting level */
	struct LmPending *next;
} LmPending;

static LmPending *pending = NULL;

static uint32
LmCompanyHash(const void *key, Size keysize)
{
	return DatumGetUInt32(FunctionCall1Coll(&company_cache_layout->key_hash,
											company_cache_layout->company_key_collation,
											*(const Datum *) key));
}

static int
LmCompanyMatch(const void *key1, const void *key2, Size keysize)
{
	return DatumGetBool(FunctionCall2Coll(&company_cache_layout->key_eq,
										  company_cache_layout->company_key_collation,
										  *(const Datum *) key1,
										  *(const Datum *) key2)) ? 0 : 1;
}

/*
 * Mark the per-transaction cache for reset; done at the start of the next
 * lookup (this may run inside an invalidation callback).
 */
void
LmCompanyCacheReset(void)
{
	company_cache_reset_pending = true;
}

/* The memory of the cache and the pending list lives until transaction end. */
static MemoryContext
LmCompanyContext(void)
{
	if (company_cxt == NULL)
		company_cxt = AllocSetContextCreate(TopTransactionContext,
											"lead_mgmt company cache",
											ALLOCSET_DEFAULT_SIZES);
	return company_cxt;
}

static HTAB *
LmCompanyCache(LmLayout *layout)
{
	if (company_cache_reset_pending || company_cache_layout != layout)
	{
		if (company_cache != NULL)
			hash_destroy(company_cache);
		company_cache = NULL;
		company_cache_reset_pending = false;
	}
	if (company_cache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Datum);
		ctl.entrysize = sizeof(LmCompanyEntry);
		ctl.hash = LmCompanyHash;
		ctl.match = LmCompanyMatch;
		ctl.hcxt = LmCompanyContext();
		company_cache_layout = layout;
		company_cache = hash_create("lead_mgmt companies", 1024, &ctl,
									HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	}
	return company_cache;
}

/* A key value that stays valid in the cache's memory. */
static Datum
LmCopyKey(LmLayout *layout, Datum key, MemoryContext cxt)
{
	MemoryContext old;
	Datum		copy;

	if (layout->company_key_byval)
		return key;
	old = MemoryContextSwitchTo(cxt);
	if (layout->company_key_typlen == -1)
		copy = PointerGetDatum(PG_DETOAST_DATUM_COPY(key));
	else
		copy = datumCopy(key, false, layout->company_key_typlen);
	MemoryContextSwitchTo(old);
	return copy;
}

/*
 * Whether the tuple in the slot has a newer version (it was updated).
 */
static bool
LmSlotWasUpdated(TupleTableSlot *slot)
{
	BufferHeapTupleTableSlot *bslot = (BufferHeapTupleTableSlot *) slot;
	HeapTuple	tuple = bslot->base.tuple;
	bool		updated;

	LockBuffer(bslot->buffer, BUFFER_LOCK_SHARE);
	updated = !ItemPointerEquals(&tuple->t_self, &tuple->t_data->t_ctid);
	LockBuffer(bslot->buffer, BUFFER_LOCK_UNLOCK);
	return updated;
}

/*
 * Find the company by primary key with the latest snapshot and, when asked,
 * lock it FOR KEY SHARE (the latest version, waiting if needed); then read
 * its category.
 */
static void
LmCompanyProbe(LmLayout *layout, Datum key, bool lock, LmCompanyState *out)
{
	Relation	rel;
	Relation	idx;
	Snapshot	snapshot;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	ScanKeyData skey;
	bool		found;
	bool		reread = false;

	memset(out, 0, sizeof(*out));
	rel = table_open(layout->company_relid, lock ? RowShareLock : AccessShareLock);
	idx = index_open(layout->company_pk_index, AccessShareLock);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);

	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   layout->company_key_collation,
						   layout->company_key_eqproc, key);
	scan = index_beginscan(rel, idx, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);

	if (found && lock)
	{
		TM_FailureData tmfd;
		TM_Result	result;

		result = table_tuple_lock(rel, &slot->tts_tid, snapshot, slot,
								  GetCurrentCommandId(false),
								  LockTupleKeyShare, LockWaitBlock,
								  TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
		switch (result)
		{
			case TM_Ok:
				/* a concurrent update that kept the key: read the newest */
				reread = LmSlotWasUpdated(slot);
				break;
			case TM_SelfModified:
				/* changed by this very command: this transaction holds it */
				reread = true;
				break;
			case TM_Deleted:
				found = false;
				break;
			case TM_Updated:
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent update of company %s",
								LmCompanyKeyText(layout, key))));
				break;
			default:
				elog(ERROR, "unexpected result %d locking a company row", (int) result);
		}
	}

	if (found && !reread)
	{
		bool		isnull;
		Datum		category = slot_getattr(slot, layout->category_attno, &isnull);

		out->found = true;
		out->has_category = !isnull && LmDatumToKey(category, out->category);
	}

	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	index_close(idx, AccessShareLock);
	table_close(rel, NoLock);

	if (found && reread)
	{
		/* locked; the newest committed version tells the category */
		LmCompanyProbe(layout, key, false, out);
		out->found = true;
	}
	out->lead_enabled = out->has_category && LmCategoryEnabled(out->category);
}

/*
 * State of a company (found, category, lead-enabled), locked FOR KEY SHARE
 * when lock is set.  Locked answers are cached for the transaction.
 */
void
LmCompanyLookup(LmLayout *layout, Datum key, bool lock, LmCompanyState *out)
{
	HTAB	   *cache = LmCompanyCache(layout);
	LmCompanyEntry *entry;
	bool		isnew;

	entry = hash_search(cache, &key, HASH_FIND, NULL);
	if (entry != NULL)
	{
		*out = entry->state;
		return;
	}
	LmCompanyProbe(layout, key, lock, out);
	if (!lock || !out->found || hash_get_num_entries(cache) >= LM_COMPANY_CACHE_MAX)
		return;
	/* the probe may have processed invalidations: re-check before caching */
	if (company_cache_reset_pending || cache != company_cache)
		return;
	key = LmCopyKey(layout, key, LmCompanyContext());
	entry = hash_search(cache, &key, HASH_ENTER, &isnew);
	entry->state = *out;
}

/*
 * The rare path: a category change that alters whether the company is
 * lead-enabled takes FOR UPDATE on the row it is updating, which waits for
 * every in-flight insert or move of the company's persons (they hold FOR KEY
 * SHARE) and keeps new ones waiting until this transaction ends.
 */
void
LmCompanyLockForFlip(Relation rel, ItemPointer tid)
{
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	TM_FailureData tmfd;
	TM_Result	result;

	result = table_tuple_lock(rel, tid, GetActiveSnapshot(), slot,
							  GetCurrentCommandId(false),
							  LockTupleExclusive, LockWaitBlock, 0, &tmfd);
	ExecDropSingleTupleTableSlot(slot);
	if (result != TM_Ok && result != TM_SelfModified)
		elog(ERROR, "unexpected result %d locking a company row for a category change",
			 (int) result);
}

/*
 * Remember a person whose company was not visible when it was written.
 */
void
LmPendingAdd(LmLayout *layout, Datum key, const char *status)
{
	MemoryContext cxt = LmCompanyContext();
	LmPending  *p = MemoryContextAllocZero(cxt, sizeof(LmPending));

	p->key = LmCopyKey(layout, key, cxt);
	p->status_given = (status != NULL);
	if (status != NULL)
		strlcpy(p->status, status, LM_KEY_LEN);
	p->level = GetCurrentTransactionNestLevel();
	p->next = pending;
	pending = p;
}

/*
 * Settle pending persons whose company is visible by now: in a lead-enabled
 * company, persons without status get the default (B1); a status given for
 * a company that is not lead-enabled is refused (B5).  Companies still not
 * visible (a deferred foreign key) stay pending.
 */
void
LmPendingResolve(void)
{
	LmLayout   *layout;
	LmPending  *todo;

	if (pending == NULL)
		return;
	LmLockSentinel(RowShareLock);
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
		LmPending  *p = todo;
		LmCompanyState state;

		todo = p->next;
		LmCompanyLookup(layout, p->key, true, &state);
		if (!state.found)
		{
			p->next = pending;
			pending = p;
			continue;
		}
		if (state.lead_enabled)
			LmApplyEntry(layout, p->key, false, true);
		else if (p->status_given)
			LmRefuseHidden(layout, p->status, p->key, &state);
	}
}

void
LmCompanyXactEnd(void)
{
	/* the memory goes with TopTransactionContext */
	company_cxt = NULL;
	company_cache = NULL;
	company_cache_layout = NULL;
	company_cache_reset_pending = false;
	pending = NULL;
}

void
LmCompanySubXactAbort(int level)
{
	LmPending **link = &pending;

	/* row locks taken inside the subtransaction are released */
	company_cache_reset_pending = true;
	while (*link != NULL)
	{
		if ((*link)->level >= level)
			*link = (*link)->next;
		else
			link = &(*link)->next;
	}
}

void
LmCompanySubXactCommit(int level)
{
	LmPending  *p;

	for (p = pending; p != NULL; p = p->next)
		if (p->level >= level)
			p->level = level - 1;
}
