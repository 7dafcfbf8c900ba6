/*
 * pending.h
 *		Persons written before their company was visible.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_PENDING_H
#define LEAD_MGMT_PENDING_H

#include "access/htup.h"
#include "access/tupdesc.h"

#include "decide.h"
#include "layout.h"

extern void LmPendingAdd(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc,
						 Datum company, const LmRowChange *change);
extern bool LmPendingHasFor(LmLayout *layout, Datum person, Datum company);
extern void LmPendingResolve(void);
extern void LmPendingXactEnd(void);
extern void LmPendingSubXactAbort(int level);
extern void LmPendingSubXactCommit(int level);

#endif							/* LEAD_MGMT_PENDING_H */
