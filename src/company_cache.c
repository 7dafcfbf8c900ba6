/*
 * company_cache.c
 *		Per-transaction answers about companies.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * While this transaction holds its KEY SHARE lock on a company and the
 * ShareLock on its category, nobody can change whether the company is
 * lead-enabled, so the answer is cached for the rest of the transaction: a
 * bulk load of a million persons into a hundred thousand companies looks up
 * each company once.  The cache is dropped when a subtransaction aborts (its
 * locks are gone), when this backend changes a category or a company's
 * category (or may have, with the rules off), and at transaction end; a key
 * is forgotten when a company with that key is inserted (it was deleted
 * earlier in this transaction).  Keys are compared by their binary value:
 * two spellings of one key (numeric 1.0 and 1.00) simply get two entries,
 * each of them right.
 *
 * Company keys renumbered in this transaction (an UPDATE of the key, with
 * ON UPDATE CASCADE on the persons' foreign key) are remembered, so that the
 * cascaded update of the persons is not taken for a move.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "catalog_cache.h"
#include "category_lock.h"
#include "company_cache.h"
#include "company_probe.h"

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
	int16		category;		/* into category_names, -1 for none */
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
static MemoryContext company_keys_cxt = NULL;	/* in TopTransactionContext */
static LmLayout *company_cache_layout = NULL;
static bool company_cache_reset_pending = false;

/*
 * Category keys seen by this backend, so that a cache entry holds a small
 * number instead of the key (entries stay small; the table is cleared at
 * every transaction end).  Never freed: there are few categories.
 */
#define LM_CATEGORY_NAMES_MAX 1024

static char (*category_names)[LM_KEY_LEN] = NULL;
static int	ncategory_names = 0;

/* The number of a category key; -1 for none, -2 when the table is full. */
static int16
LmCategoryNumber(const char *key)
{
	int			i;

	if (key[0] == '\0')
		return -1;
	for (i = 0; i < ncategory_names; i++)
		if (strcmp(category_names[i], key) == 0)
			return (int16) i;
	if (ncategory_names == LM_CATEGORY_NAMES_MAX)
		return -2;
	if (category_names == NULL)
		category_names = MemoryContextAlloc(TopMemoryContext,
											LM_CATEGORY_NAMES_MAX * LM_KEY_LEN);
	strlcpy(category_names[ncategory_names], key, LM_KEY_LEN);
	return (int16) ncategory_names++;
}

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
	if (company_cache != NULL && company_cache->members > 0 &&
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
		company_cache = lmcc_create(company_table_cxt, 32, &company_key_info);
	}
	company_key_info.typlen = layout->company_key_typlen;
	company_key_info.byval = layout->company_key_byval;
	company_cache_layout = layout;
	return company_cache;
}

/* A key value that stays valid for the rest of the transaction. */
Datum
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
	int16		number;

	entry = lmcc_lookup(cache, key);
	if (entry != NULL)
	{
		out->found = true;
		out->lead_enabled = entry->lead_enabled;
		if (entry->category >= 0)
			strlcpy(out->category, category_names[entry->category], LM_KEY_LEN);
		else
			out->category[0] = '\0';
		return;
	}
	out->found = LmCompanyProbe(layout, key, lock, category);
	memcpy(out->category, category, LM_KEY_LEN);
	if (out->found && lock && category[0] != '\0')
		LmLockCategoryShared(category);
	out->lead_enabled = out->found && category[0] != '\0' && LmCategoryEnabled(category);
	if (!lock || !out->found || cache->members >= LM_COMPANY_CACHE_MAX)
		return;
	/* the probe may have processed invalidations: then do not cache */
	if (company_cache_reset_pending || company_cache_layout != layout)
		return;
	number = LmCategoryNumber(category);
	if (number == -2)
		return;
	entry = lmcc_insert(cache, LmCopyKey(layout, key, &company_keys_cxt), &found);
	entry->lead_enabled = out->lead_enabled;
	entry->category = number;
}


/*
 * A company with this key is being inserted: if the key is cached, the
 * company it described was deleted earlier in this transaction.
 */
void
LmCompanyForget(LmLayout *layout, Datum key)
{
	if (company_cache == NULL || company_cache->members == 0 ||
		company_cache_layout != layout || company_cache_reset_pending)
		return;
	/* the cache compares bytes: other spellings of an equal key need a reset */
	if (layout->company_key_binary)
		(void) lmcc_delete(company_cache, key);
	else
		LmCompanyCacheReset();
}

/* company keys renumbered in this transaction */
typedef struct LmRenumber
{
	LmLevelNode node;			/* first: the list and the level */
	Datum		oldkey;
	Datum		newkey;
} LmRenumber;

static LmLevelNode *renumbers = NULL;	/* of LmRenumber */
static MemoryContext renumber_cxt = NULL;	/* in TopTransactionContext */

/*
 * An UPDATE changes a company's key from oldkey to newkey.
 */
void
LmCompanyNoteRenumber(LmLayout *layout, Datum oldkey, Datum newkey)
{
	LmRenumber *r;

	if (renumber_cxt == NULL)
		renumber_cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt renumbered companies",
											 ALLOCSET_SMALL_SIZES);
	r = MemoryContextAlloc(renumber_cxt, sizeof(LmRenumber));
	r->oldkey = LmCopyKey(layout, oldkey, &renumber_cxt);
	r->newkey = LmCopyKey(layout, newkey, &renumber_cxt);
	LmLevelPush(&renumbers, &r->node);
}

/*
 * Whether a person's change of company from oldkey to newkey is this
 * transaction's renumbering of one company (not a move).
 */
bool
LmCompanyRenumbered(LmLayout *layout, Datum oldkey, Datum newkey)
{
	LmLevelNode *n;

	for (n = renumbers; n != NULL; n = n->next)
	{
		LmRenumber *r = (LmRenumber *) n;

		if (LmCompanyKeyEqual(layout, r->oldkey, oldkey) &&
			LmCompanyKeyEqual(layout, r->newkey, newkey))
			return true;
	}
	return false;
}

/*
 * Companies deleted in this transaction, with their category: the persons
 * a foreign key deletes (or detaches) with a company are counted out of the
 * category it had.  Keyed by a hash of the key's bytes, then compared.
 */
typedef struct LmDeletedBucket
{
	uint32		hash;
	List	   *entries;		/* of LmDeletedCompany */
} LmDeletedBucket;

typedef struct LmDeletedCompany
{
	Datum		key;
	char		category[LM_KEY_LEN];
} LmDeletedCompany;

static HTAB *deleted_companies = NULL;	/* in TopTransactionContext */

void
LmCompanyNoteDeleted(LmLayout *layout, Datum key, const char *category)
{
	uint32		hash = datum_image_hash(key, layout->company_key_byval, layout->company_key_typlen);
	LmDeletedBucket *b;
	LmDeletedCompany *d;
	bool		found;
	MemoryContext old;

	if (deleted_companies == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(LmDeletedBucket);
		ctl.hcxt = TopTransactionContext;
		deleted_companies = hash_create("lead_mgmt deleted companies", 16, &ctl,
										HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	b = hash_search(deleted_companies, &hash, HASH_ENTER, &found);
	old = MemoryContextSwitchTo(TopTransactionContext);
	d = palloc(sizeof(LmDeletedCompany));
	d->key = datumCopy(key, layout->company_key_byval, layout->company_key_typlen);
	strlcpy(d->category, category ? category : "", LM_KEY_LEN);
	b->entries = found ? lappend(b->entries, d) : list_make1(d);
	MemoryContextSwitchTo(old);
}

/* The category of a company this transaction deleted; false if it did not. */
bool
LmCompanyDeletedCategory(LmLayout *layout, Datum key, char *category)
{
	uint32		hash;
	LmDeletedBucket *b;
	ListCell   *lc;
	bool		found = false;

	category[0] = '\0';
	if (deleted_companies == NULL)
		return false;
	hash = datum_image_hash(key, layout->company_key_byval, layout->company_key_typlen);
	b = hash_search(deleted_companies, &hash, HASH_FIND, NULL);
	if (b == NULL)
		return false;
	/* the last deletion of the key */
	foreach(lc, b->entries)
	{
		LmDeletedCompany *d = (LmDeletedCompany *) lfirst(lc);

		if (LmCompanyKeyEqual(layout, d->key, key))
		{
			strlcpy(category, d->category, LM_KEY_LEN);
			found = true;
		}
	}
	return found;
}

void
LmCompanyXactEnd(void)
{
	/* key copies go with TopTransactionContext */
	deleted_companies = NULL;
	company_keys_cxt = NULL;
	renumber_cxt = NULL;
	renumbers = NULL;
	if (company_cache != NULL && company_cache->members > 0)
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
	/* row locks taken inside the subtransaction are released */
	company_cache_reset_pending = true;
	LmLevelAbort(&renumbers, level);
}

void
LmCompanySubXactCommit(int level)
{
	LmLevelCommit(renumbers, level);
}
