/*
 * decide.h
 *		The one decision of lead_mgmt: for a change of a person row, the new
 *		stored lead status and the event it is (SPEC B1-B6, H1).
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_DECIDE_H
#define LEAD_MGMT_DECIDE_H

#include "lead_mgmt.h"

/* What happened to a person's status (lead_mgmt.history_event, in order). */
typedef enum LmEvent
{
	LM_EVENT_NONE = -1,
	LM_EVENT_CREATED = 0,		/* default on insert (B1) */
	LM_EVENT_SET,				/* a user or application set it */
	LM_EVENT_ENTERED,			/* default on entering a lead-enabled category (B2) */
	LM_EVENT_HIDDEN,			/* the company stopped being lead-enabled (B3) */
	LM_EVENT_SHOWN,				/* visible again, value kept (B2 restore) */
	LM_EVENT_MERGED,			/* moved by lead_mgmt.merge_status() */
	LM_EVENT_AUTOMATION,		/* set by a category rule (A2) */
	LM_NUM_EVENTS
} LmEvent;

extern const char *const lm_event_names[LM_NUM_EVENTS];

/* Who is writing the row. */
typedef enum LmOrigin
{
	LM_ORIGIN_USER,				/* an ordinary statement */
	LM_ORIGIN_CASCADE			/* lead_mgmt's own cascade (event given) */
} LmOrigin;

/* What a company looks like to the row being decided. */
typedef enum LmCompanySide
{
	LM_COMPANY_NONE,			/* the company column is NULL */
	LM_COMPANY_UNSEEN,			/* not visible yet (a deferred foreign key) */
	LM_COMPANY_HIDDEN,			/* its category is not lead-enabled */
	LM_COMPANY_ENABLED			/* its category is lead-enabled */
} LmCompanySide;

typedef struct LmRowChange
{
	bool		insert;			/* INSERT (else UPDATE) */
	bool		moved;			/* UPDATE changed the company (not a renumber) */
	LmCompanySide old_side;		/* UPDATE of a moved row only */
	LmCompanySide new_side;
	const char *old_status;		/* NULL for none (and for INSERT) */
	const char *new_status;		/* the status the row is written with */
	bool		status_changed; /* the statement changed the status column */
	LmOrigin	origin;
	LmEvent		cascade_event;	/* the event of a cascade row */
	LmReentry	reentry;
	const char *default_status;
} LmRowChange;

typedef enum LmVerdict
{
	LM_VERDICT_KEEP,			/* write the row as it is */
	LM_VERDICT_DEFAULT,			/* write it with the default status */
	LM_VERDICT_PENDING,			/* keep; settle once the company is visible */
	LM_VERDICT_REFUSE_HIDDEN,	/* B5: company not lead-enabled */
	LM_VERDICT_REFUSE_NO_COMPANY,	/* B5: no company */
	LM_VERDICT_REFUSE_CLEAR		/* a visible status cannot be emptied */
} LmVerdict;

typedef struct LmDecision
{
	LmVerdict	verdict;
	LmEvent		event;
	bool		check_settable; /* the new status must exist, not deleted (B6) */
	bool		check_transition;	/* old -> new must be allowed (S2) */
} LmDecision;

extern LmDecision LmDecide(const LmRowChange *change);

/*
 * A person row change as it was written (after every BEFORE trigger): what
 * the AFTER trigger hands to LmClassify() to learn which event, if any, the
 * change is for status history and the counts.
 */
typedef struct LmWrittenChange
{
	bool		insert;			/* INSERT (else UPDATE) */
	bool		moved;			/* UPDATE changed the company (not a renumber) */
	LmCompanySide old_side;		/* UPDATE: the company the row had */
	LmCompanySide new_side;		/* the company the row has */
	const char *old_status;		/* NULL for none (and for INSERT) */
	const char *new_status;		/* NULL for none */
	const char *default_status;
	bool		cascade;		/* lead_mgmt's own cascade wrote it */
	LmEvent		cascade_event;
} LmWrittenChange;

typedef struct LmRecord
{
	LmEvent		event;			/* LM_EVENT_NONE: nothing to record */
	bool		visible;		/* the status shows after the change */
	bool		in_old_company; /* recorded in the company the person left */
} LmRecord;

extern LmRecord LmClassify(const LmWrittenChange *change);

#endif							/* LEAD_MGMT_DECIDE_H */
