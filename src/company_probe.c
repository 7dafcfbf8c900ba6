/*
 * company_probe.c
 *		Lock a company row, then read its category.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Lock, then read: the row is locked FOR KEY SHARE through its primary key
 * index (the foreign-key check of the person row takes the very same lock
 * right after, and finds it already held), including versions being written
 * by in-flight updates.  Only then is the category read; the catalog lookup
 * happens separately, in the catalog cache, after the category's lock (see
 * category_lock.c).  A change of category that alters whether the company
 * is lead-enabled escalates to FOR UPDATE first (LmCompanyLockForFlip), so
 * it waits for us, or we wait for it and then read its result.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "catalog_cache.h"
#include "company_probe.h"

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

/* Fetch the company visible to the snapshot through the primary key. */
static bool
LmCompanyFetch(LmLayout *layout, Relation rel, Relation idx, Snapshot snapshot,
			   Datum key, TupleTableSlot *slot)
{
	IndexScanDesc scan;
	ScanKeyData skey;
	bool		found;

	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   layout->company_key_collation,
						   layout->company_key_eqproc, key);
	scan = index_beginscan(rel, idx, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	return found;
}

/* The category of the company in the slot into category ("" for none). */
static void
LmSlotCategory(LmLayout *layout, TupleTableSlot *slot, char *category)
{
	bool		isnull;
	Datum		value = slot_getattr(slot, layout->category_attno, &isnull);

	if (isnull || !LmDatumToKey(value, category))
		category[0] = '\0';
}

/*
 * Find the company by primary key and, when asked, lock it FOR KEY SHARE
 * (the latest version, waiting if needed); then read its category into
 * category (LM_KEY_LEN bytes; "" for none).  The statement's snapshot is
 * tried first, the latest one when the company is not visible to it (a
 * company committed since).  Returns whether the company exists.
 */
bool
LmCompanyProbe(LmLayout *layout, Datum key, bool lock, char *category)
{
	Relation	rel;
	Relation	idx;
	Snapshot	snapshot = NULL;
	TupleTableSlot *slot;
	bool		found = false;
	bool		reread = false;
	bool		registered = false;

	category[0] = '\0';
	rel = table_open(layout->company_relid, lock ? RowShareLock : AccessShareLock);
	idx = index_open(layout->company_pk_index, AccessShareLock);
	slot = table_slot_create(rel, NULL);

	if (ActiveSnapshotSet())
	{
		snapshot = GetActiveSnapshot();
		found = LmCompanyFetch(layout, rel, idx, snapshot, key, slot);
	}
	if (!found)
	{
		snapshot = RegisterSnapshot(GetLatestSnapshot());
		registered = true;
		found = LmCompanyFetch(layout, rel, idx, snapshot, key, slot);
	}

	if (found && lock)
	{
		TM_FailureData tmfd;
		TM_Result	result;

		/*
		 * As SELECT ... FOR KEY SHARE does: lock the newest version, and
		 * versions being written by in-flight updates too, so that an
		 * update in progress cannot go on to change whether the company is
		 * lead-enabled without waiting for us.
		 */
		result = table_tuple_lock(rel, &slot->tts_tid, snapshot, slot,
								  GetCurrentCommandId(false),
								  LockTupleKeyShare, LockWaitBlock,
								  TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS |
								  TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
		switch (result)
		{
			case TM_Ok:

				/*
				 * Locked, but maybe not the newest version: a KEY SHARE
				 * lock goes through updates that kept the key, committed
				 * ones included (the version locked is then an old one,
				 * the versions after it are locked too).  The newest
				 * committed version tells the category; an update still in
				 * progress cannot change it without waiting for us.
				 */
				reread = LmSlotWasUpdated(slot);
				break;
			case TM_SelfModified:
				/* changed by this very command: this transaction holds it */
				reread = true;
				break;
			case TM_Deleted:
			case TM_Invisible:
				/* deleted, by another transaction or by this one */
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

	if (found && reread)
	{
		/*
		 * Locked; the newest version this command can see (committed by
		 * others, or written by this transaction's earlier commands) tells
		 * the category.
		 */
		Snapshot	latest = RegisterSnapshot(GetLatestSnapshot());

		if (LmCompanyFetch(layout, rel, idx, latest, key, slot))
			LmSlotCategory(layout, slot, category);
		UnregisterSnapshot(latest);
	}
	else if (found)
		LmSlotCategory(layout, slot, category);

	ExecDropSingleTupleTableSlot(slot);
	if (registered)
		UnregisterSnapshot(snapshot);
	index_close(idx, AccessShareLock);
	table_close(rel, NoLock);
	return found;
}

/*
 * The category of a company as text, for messages; NULL when it has none.
 */
char *
LmCompanyCategory(LmLayout *layout, Datum key)
{
	char		category[LM_KEY_LEN];

	if (!LmCompanyProbe(layout, key, false, category) || category[0] == '\0')
		return NULL;
	return pstrdup(category);
}

/*
 * The rare path: a category change that alters whether the company is
 * lead-enabled takes FOR UPDATE on the row it is updating, which waits for
 * every in-flight writer of the company's persons (they hold FOR KEY SHARE)
 * and keeps new ones waiting until this transaction ends.
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

