/*
 * category_lock.c
 *		Per-category locks between writers and catalog flips.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * A writer that decides by whether a category is lead-enabled (a person
 * inserted or moved, a status set, a company's category changed) holds a
 * ShareLock on that category's lock object for the rest of its transaction;
 * an administrator's change of whether the category is lead-enabled (its
 * group or flag) takes ExclusiveLock on it.  So the flip waits for in-flight
 * writers of that category, and they for it, and each then reads the other's
 * result: acquiring the lock processes pending invalidations, so a writer
 * never decides with a stale catalog.  Writers of other categories never
 * conflict with the flip, nor queue behind it.
 *
 * The lock object is (lead_mgmt.category, hash of the key): two categories
 * whose keys collide share a lock, which costs waiting, never correctness.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/hashfn.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

#include "category_lock.h"

/* categories this transaction holds in ShareLock, with the level that took it */
typedef struct LmHeldCategory
{
	uint32		hash;
	int			level;
} LmHeldCategory;

#define LM_HELD_MAX 64

static LmHeldCategory held[LM_HELD_MAX];
static int	nheld = 0;

static uint32
LmCategoryHash(const char *key)
{
	return hash_bytes((const unsigned char *) key, (int) strlen(key));
}

void
LmLockCategoryShared(const char *key)
{
	uint32		h = LmCategoryHash(key);
	int			i;

	for (i = 0; i < nheld; i++)
		if (held[i].hash == h)
			return;
	LockDatabaseObject(LmGetOids()->category, h, 0, ShareLock);
	if (nheld < LM_HELD_MAX)
	{
		held[nheld].hash = h;
		held[nheld].level = GetCurrentTransactionNestLevel();
		nheld++;
	}
}

void
LmLockCategoryForFlip(const char *key)
{
	LockDatabaseObject(LmGetOids()->category, LmCategoryHash(key), 0, ExclusiveLock);
}

void
LmCategoryLockXactEnd(void)
{
	nheld = 0;
}

/* Locks taken inside an aborted subtransaction are released with it. */
void
LmCategoryLockSubXactAbort(int level)
{
	int			i;
	int			kept = 0;

	for (i = 0; i < nheld; i++)
		if (held[i].level < level)
			held[kept++] = held[i];
	nheld = kept;
}

void
LmCategoryLockSubXactCommit(int level)
{
	int			i;

	for (i = 0; i < nheld; i++)
		if (held[i].level >= level)
			held[i].level = level - 1;
}
