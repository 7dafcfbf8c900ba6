/*
 * sink.h
 *		The change sink: every change of a person's lead status, from every
 *		path (person rules, company and catalog cascades, pending persons),
 *		is recorded here.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_SINK_H
#define LEAD_MGMT_SINK_H

#include "access/htup.h"
#include "access/tupdesc.h"

#include "decide.h"
#include "layout.h"

/*
 * Apply a decision to a person row being written: returns the row to write
 * (with the default status when the decision says so) and records the event.
 */
extern HeapTuple LmSinkApplyRow(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc,
								const LmDecision *decision);

/* Record an event for a set of persons that no row write carries. */
extern void LmSinkRecordSet(LmEvent event, uint64 persons);

/* End of a statement: fold its buffer into the transaction. */
extern void LmSinkFlush(void);

extern void LmSinkXactEnd(void);
extern void LmSinkSubXactAbort(int level);
extern void LmSinkSubXactCommit(int level);

#endif							/* LEAD_MGMT_SINK_H */
