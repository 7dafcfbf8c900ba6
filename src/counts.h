/*
 * counts.h
 *		The count summary behind the dashboard views (counts.c).
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_COUNTS_H
#define LEAD_MGMT_COUNTS_H

#include "layout.h"

/* Whether the managed pair has a count summary. */
extern bool LmCountsActive(LmLayout *layout);

/*
 * n persons (signed) of a company (has_company false: none) in a category
 * ("" or NULL: none), at a status (NULL: none), with an owner (text, NULL:
 * none).
 */
extern void LmCountsPerson(LmLayout *layout, Datum company, bool has_company,
						   const char *category, const char *status, const char *owner,
						   int64 n);

/* n companies (signed) in a category. */
extern void LmCountsCompany(LmLayout *layout, Datum company, const char *category, int64 n);

/* The persons of a company move from one category to another. */
extern void LmCountsRegroup(LmLayout *layout, Datum company, const char *from_category,
							const char *to_category);

/* Forget this transaction's deltas (they were counted in by a rebuild). */
extern void LmCountsForget(void);

/* The transaction commits: append its deltas. */
extern void LmCountsFlush(void);
extern bool LmCountsShardDeltas(void);
extern void LmCountsFlushShards(void);

extern void LmCountsXactEnd(void);
extern void LmCountsSubXactAbort(int level);
extern void LmCountsSubXactCommit(int level);

#endif							/* LEAD_MGMT_COUNTS_H */
