/*
 * sink.h
 *		The change sink: every change of a person's lead status, from every
 *		path (person rules, company and catalog cascades, pending persons),
 *		is recorded here, and written to lead_mgmt.status_history.
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
 * (with the default status when the decision says so) and records the
 * event, with the status the row had before (NULL for none) and the
 * company's category (NULL or "" for none).
 */
extern HeapTuple LmSinkApplyRow(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc,
								const LmDecision *decision, Datum company,
								const char *from, const char *category);

/*
 * Record an event for the persons of a company that no row write carries
 * (hidden, or shown with the value they kept): all that hold a status, or
 * those at the given one.  Returns how many.
 */
extern uint64 LmSinkCompanySet(LmLayout *layout, LmEvent event, Datum company,
							   const char *category, const char *at_status);

/* Record an event for one person without a row write (pending persons). */
extern void LmSinkRecordPerson(LmLayout *layout, LmEvent event, Datum company,
							   Datum person, const char *status, const char *category);

/* Whether status history is written (lead_mgmt.track_history). */
extern bool LmHistoryActive(LmLayout *layout);

/* End of a statement: write the history rows it buffered. */
extern void LmSinkFlush(void);

extern void LmSinkXactEnd(void);
extern void LmSinkSubXactAbort(int level);
extern void LmSinkSubXactCommit(int level);

#endif							/* LEAD_MGMT_SINK_H */
