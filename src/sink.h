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
 * Before a person row is written: the row to write, with the default status
 * when the decision says so.
 */
extern HeapTuple LmSinkStamp(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc,
							 const LmDecision *decision);

/*
 * A person's status change as written (or, for persons settled without a
 * write, as it stands): the event, with the status before (NULL for none),
 * the status after, the company's category (NULL or "" for none) and
 * whether the status shows now.
 */
extern void LmSinkRecordRow(LmLayout *layout, LmEvent event, Datum company,
							Datum person, const char *from, const char *to,
							const char *category, bool visible);

/*
 * Record an event for the persons of a company that no row write carries
 * (hidden, or shown with the value they kept): all that hold a status, or
 * those at the given one.  Returns how many.
 */
extern uint64 LmSinkCompanySet(LmLayout *layout, LmEvent event, Datum company,
							   const char *category, const char *at_status);

/* Whether the changes of written rows are wanted (history, counts). */
extern bool LmSinkWanted(LmLayout *layout);

/* Whether status history is written (lead_mgmt.track_history). */
extern bool LmHistoryActive(LmLayout *layout);

/* End of a statement: write the history rows it buffered. */
extern void LmSinkFlush(void);

/* A person's history rows follow a new key (history.c). */
extern void LmHistoryRekey(LmLayout *layout, Datum old_person, Datum new_person,
						   Datum old_company, Datum new_company);

extern void LmSinkXactEnd(void);
extern void LmSinkSubXactAbort(int level);
extern void LmSinkSubXactCommit(int level);

#endif							/* LEAD_MGMT_SINK_H */
