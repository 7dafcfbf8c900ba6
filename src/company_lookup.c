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
 * backend changes a category or a company's category (or may have, with the
 * rules off), and at transaction end.  Keys are compared by their binary
 * value: two spellings of one key (numeric 1.0 and 1.00) simply get two
 * entries, each of them right.
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
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "lead_mgmt.h"

/* Upper bound of cached companies per transaction (about 48 MB). */
#define LM_COMPANY_CACHE_MAX 1000000

/* A table larger than this is freed at transaction end, not kept. */
#define LM_COMPANY_CACHE_KEEP 65536

/* How the cache hashes and compares keys of the company key type. */
typedef struct LmKeyInfo
{
	int16		typlen;
	bool		byval;
} LmKeyInfo;

typedef struct LmCompanyEntry
{
	Datum		key;			/* by-reference keys point into company_keys_cxt */
	uint32		hash;
	char		status;			/* used by simplehash */
	bool		lead_enabled;
} LmCompanyEntry;

static inline uint32 LmKeyHash(const LmKeyInfo *info, Datum key);
static inline bool LmKeyBinaryEqual(const LmKeyInfo *info, Datum a, Datum b);

#define SH_PREFIX		lmcc
#define SH_ELEMENT_TYPE	LmCompanyEntry
#define SH_KEY_TYPE		Datum
#define SH_KEY			key
#define SH_HASH_KEY(tb, k)	LmKeyHash((const LmKeyInfo *) (tb)->private_data, k)
#define SH_EQUAL(tb, a, b)	LmKeyBinaryEqual((const LmKeyInfo *) (tb)->private_data, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a)	((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* the cache table lives as long as the backend; keys for one transaction */
static MemoryContext company_table_cxt = NULL;
static lmcc_hash *company_cache = NULL;
static LmKeyInfo company_key_info;
static MemoryContext company_keys_cxt = NULL;
static LmLayout *company_cache_layout = NULL;
static bool company_cache_reset_pending = false;

/* persons written while their company was not visible */
typedef struct LmPending
{
	Datum		key;
	bool		status_given;
	char		status[LM_KEY_LEN];
	int			level;			/* subtransaction nesting level */
	struct LmPending *next;
} LmPending;

static MemoryContext pending_cxt = NULL;
static LmPending *pending = NULL;

/* The bytes of a by-reference key, detoasted. */
static inline const char *
LmKeyBytes(const LmKeyInfo *info, Datum key, Size *len)
{
	if (info->typlen == -1)
	{
		struct varlena *v = PG_DETOAST_DATUM_PACKED(key);

		*len = VARSIZE_ANY_EXHDR(v);
		return VARDATA_ANY(v);
	}
	if (info->typlen == -2)
	{
		*len = strlen(DatumGetCString(key));
		return DatumGetCString(key);
	}
	*len = info->typlen;
	return DatumGetPointer(key);
}

static inline uint32
LmKeyHash(const LmKeyInfo *info, Datum key)
{
	Size		len;
	const char *bytes;

	if (info->byval)
	{
		uint64		h = (uint64) key;

		/* a 64-bit finaliser (splitmix64) spreads consecutive ids */
		h ^= h >> 30;
		h *= UINT64CONST(0xbf58476d1ce4e5b9);
		h ^= h >> 27;
		h *= UINT64CONST(0x94d049bb133111eb);
		h ^= h >> 31;
		return (uint32) h;
	}
	bytes = LmKeyBytes(info, key, &len);
	return hash_bytes((const unsigned char *) bytes, (int) len);
}

static inline bool
LmKeyBinaryEqual(const LmKeyInfo *info, Datum a, Datum b)
{
	Size		alen;
	Size		blen;
	const char *abytes;
	const char *bbytes;

	if (info->byval)
		return a == b;
	abytes = LmKeyBytes(info, a, &alen);
	bbytes = LmKeyBytes(info, b, &blen);
	return alen == blen && memcmp(abytes, bbytes, alen) == 0;
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

/* The cache, empty after a reset and keyed for the given layout. */
static lmcc_hash *
LmCompanyCache(LmLayout *layout)
{
	if (company_cache != NULL &&
		(company_cache_reset_pending || company_cache_layout != layout))
	{
		lmcc_reset(company_cache);
		if (company_keys_cxt != NULL)
			MemoryContextReset(company_keys_cxt);
	}
	company_cache_reset_pending = false;
	if (company_cache == NULL)
	{
		if (company_table_cxt == NULL)
			company_table_cxt = AllocSetContextCreate(CacheMemoryContext,
													  "lead_mgmt company cache",
													  ALLOCSET_DEFAULT_SIZES);
		company_cache = lmcc_create(company_table_cxt, 256, &company_key_info);
	}
	company_key_info.typlen = layout->company_key_typlen;
	company_key_info.byval = layout->company_key_byval;
	company_cache_layout = layout;
	return company_cache;
}

/* A key value that stays valid for the rest of the transaction. */
static Datum
LmCopyKey(LmLayout *layout, Datum key, MemoryContext *cxt)
{
	MemoryContext old;
	Datum		copy;

	if (layout->company_key_byval)
		return key;
	if (*cxt == NULL)
		*cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt company keys",
									 ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(*cxt);
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

/*
 * Find the company by primary key and, when asked, lock it FOR KEY SHARE
 * (the latest version, waiting if needed); then read its category into
 * category (LM_KEY_LEN bytes; "" for none).  The statement's snapshot is
 * tried first, the latest one when the company is not visible to it (a
 * company committed since).  Returns whether the company exists.
 */
static bool
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
		Datum		value = slot_getattr(slot, layout->category_attno, &isnull);

		if (isnull || !LmDatumToKey(value, category))
			category[0] = '\0';
	}

	ExecDropSingleTupleTableSlot(slot);
	if (registered)
		UnregisterSnapshot(snapshot);
	index_close(idx, AccessShareLock);
	table_close(rel, NoLock);

	if (found && reread)
	{
		/* locked; the newest committed version tells the category */
		char		latest[LM_KEY_LEN];

		if (LmCompanyProbe(layout, key, false, latest))
			strlcpy(category, latest, LM_KEY_LEN);
	}
	return found;
}

/*
 * State of a company (found, lead-enabled), locked FOR KEY SHARE when lock
 * is set.  Locked answers are cached for the transaction.
 */
void
LmCompanyLookup(LmLayout *layout, Datum key, bool lock, LmCompanyState *out)
{
	lmcc_hash  *cache = LmCompanyCache(layout);
	LmCompanyEntry *entry;
	char		category[LM_KEY_LEN];
	bool		found;

	entry = lmcc_lookup(cache, key);
	if (entry != NULL)
	{
		out->found = true;
		out->lead_enabled = entry->lead_enabled;
		return;
	}
	out->found = LmCompanyProbe(layout, key, lock, category);
	out->lead_enabled = out->found && category[0] != '\0' && LmCategoryEnabled(category);
	if (!lock || !out->found || cache->members >= LM_COMPANY_CACHE_MAX)
		return;
	/* the probe may have processed invalidations: then do not cache */
	if (company_cache_reset_pending || company_cache_layout != layout)
		return;
	entry = lmcc_insert(cache, LmCopyKey(layout, key, &company_keys_cxt), &found);
	entry->lead_enabled = out->lead_enabled;
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

/*
 * Remember a person whose company was not visible when it was written.
 */
void
LmPendingAdd(LmLayout *layout, Datum key, const char *status)
{
	LmPending  *p;

	if (pending_cxt == NULL)
		pending_cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt pending persons",
											ALLOCSET_SMALL_SIZES);
	p = MemoryContextAllocZero(pending_cxt, sizeof(LmPending));
	p->key = LmCopyKey(layout, key, &pending_cxt);
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
			LmRefuseHidden(layout, p->status, p->key);
	}
}

void
LmCompanyXactEnd(void)
{
	/* key copies and pending persons go with TopTransactionContext */
	company_keys_cxt = NULL;
	pending_cxt = NULL;
	pending = NULL;
	if (company_cache != NULL)
	{
		if (company_cache->size > LM_COMPANY_CACHE_KEEP)
		{
			lmcc_destroy(company_cache);
			company_cache = NULL;
			MemoryContextReset(company_table_cxt);
		}
		else
			lmcc_reset(company_cache);
	}
	company_cache_layout = NULL;
	company_cache_reset_pending = false;
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
