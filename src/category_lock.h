/*
 * category_lock.h
 *		Locks that keep a category's lead-enabledness stable for the writers
 *		that decided by it, without one global lock.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_CATEGORY_LOCK_H
#define LEAD_MGMT_CATEGORY_LOCK_H

#include "lead_mgmt.h"

/* A writer is about to decide by this category (once per transaction). */
extern void LmLockCategoryShared(const char *key);

/* An administrator changes whether this category is lead-enabled. */
extern void LmLockCategoryForFlip(const char *key);

extern void LmCategoryLockXactEnd(void);
extern void LmCategoryLockSubXactAbort(int level);
extern void LmCategoryLockSubXactCommit(int level);

#endif							/* LEAD_MGMT_CATEGORY_LOCK_H */
