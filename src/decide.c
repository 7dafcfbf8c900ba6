/*
 * decide.c
 *		The pure decision of the person rules: what a person row's stored
 *		status becomes, and which event that is.  No catalog, lock or table
 *		access happens here: the caller looks the companies up first and
 *		runs the checks the decision asks for (B6, S2) afterwards.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 *	B1	insert under a lead-enabled company without status: the default
 *	B2	move into a lead-enabled company from one that is not (or none):
 *		the default (reentry = reset) or the retained status (restore;
 *		empty ones get the default)
 *	B3	move out of a lead-enabled company: kept, hidden
 *	B4	each row is decided on its own
 *	B5	a status is set or changed only while visible
 *	B6	a deleted status cannot be newly set (check_settable)
 *	S2	transition rules for moves a user makes (check_transition)
 *
 * LmDecide() runs before a row is written and says what to write;
 * LmClassify() runs after it was written (every BEFORE trigger done, the
 * row really stored) and says which event the written change is, for
 * status history and the counts.  Both are pure.
 */
#include "postgres.h"

#include "decide.h"

const char *const lm_event_names[LM_NUM_EVENTS] = {
	"created", "set", "entered", "hidden", "shown", "merged", "automation"
};

static LmDecision
LmVerdictOnly(LmVerdict verdict)
{
	LmDecision	d = {verdict, LM_EVENT_NONE, false, false};

	return d;
}

/* A status given by the statement, at a target that must show it. */
static LmDecision
LmDecideGiven(const LmRowChange *c, bool old_visible)
{
	LmDecision	d = {LM_VERDICT_KEEP, LM_EVENT_SET, true, false};

	if (c->new_side == LM_COMPANY_NONE)
		return LmVerdictOnly(LM_VERDICT_REFUSE_NO_COMPANY);
	if (c->new_side == LM_COMPANY_UNSEEN)
	{
		/* settled once the company is visible; refused then if hidden */
		d.verdict = LM_VERDICT_PENDING;
		d.event = c->new_status != NULL ? LM_EVENT_SET : LM_EVENT_NONE;
		d.check_settable = c->new_status != NULL;
		return d;
	}
	if (c->new_side == LM_COMPANY_HIDDEN)
		return LmVerdictOnly(LM_VERDICT_REFUSE_HIDDEN);
	if (c->new_status == NULL)
		return LmVerdictOnly(LM_VERDICT_REFUSE_CLEAR);
	d.check_transition = old_visible && c->old_status != NULL;
	return d;
}

LmDecision
LmDecide(const LmRowChange *c)
{
	LmDecision	d = {LM_VERDICT_KEEP, LM_EVENT_NONE, false, false};

	if (c->origin == LM_ORIGIN_CASCADE)
	{
		/* lead_mgmt's own write: the cascade has decided already */
		d.event = c->cascade_event;
		return d;
	}

	if (c->insert)
	{
		if (c->new_status != NULL)
			return LmDecideGiven(c, false);
		switch (c->new_side)
		{
			case LM_COMPANY_ENABLED:
				d.verdict = LM_VERDICT_DEFAULT; /* B1 */
				d.event = LM_EVENT_CREATED;
				return d;
			case LM_COMPANY_UNSEEN:
				d.verdict = LM_VERDICT_PENDING;
				return d;
			default:
				return d;
		}
	}

	if (!c->moved)
	{
		if (!c->status_changed)
			return d;
		/* only the status changes: B5, B6, S2 at the same company */
		return LmDecideGiven(c, true);
	}

	/* the person moves to another company (or to none) */
	if (c->new_side == LM_COMPANY_UNSEEN)
	{
		d.verdict = LM_VERDICT_PENDING;
		if (c->status_changed && c->new_status != NULL)
		{
			d.event = LM_EVENT_SET;
			d.check_settable = true;
		}
		return d;
	}
	if (c->status_changed)
		return LmDecideGiven(c, c->old_side == LM_COMPANY_ENABLED);

	if (c->new_side != LM_COMPANY_ENABLED)
	{
		/* B3: hidden and kept, or it stays hidden */
		if (c->old_side == LM_COMPANY_ENABLED && c->old_status != NULL)
			d.event = LM_EVENT_HIDDEN;
		return d;
	}
	if (c->old_status == NULL)
	{
		d.verdict = LM_VERDICT_DEFAULT;
		d.event = LM_EVENT_ENTERED;
		return d;
	}
	if (c->old_side == LM_COMPANY_ENABLED)
		return d;				/* between lead-enabled companies: nothing */
	if (c->reentry == LM_REENTRY_RESET && strcmp(c->old_status, c->default_status) != 0)
	{
		d.verdict = LM_VERDICT_DEFAULT; /* B2 */
		d.event = LM_EVENT_ENTERED;
		return d;
	}
	d.event = LM_EVENT_SHOWN;	/* B2 restore, or the default already */
	return d;
}

/*
 * The event of a person row change as written.  History rows belong to a
 * company: a person without one records nothing, except when leaving a
 * company whose category showed their status (hidden, in the company left).
 * Whether the status shows after the change is recorded beside the event:
 * a status written where it does not show (rules off, X1) is a set that
 * does not show.
 */
LmRecord
LmClassify(const LmWrittenChange *c)
{
	LmRecord	r = {LM_EVENT_NONE, false, false};
	bool		changed = (c->old_status == NULL) != (c->new_status == NULL) ||
		(c->old_status != NULL && strcmp(c->old_status, c->new_status) != 0);

	if (c->new_side == LM_COMPANY_UNSEEN)
		return r;				/* settled, and recorded, once visible */
	if (c->new_side == LM_COMPANY_NONE)
	{
		/* leaving for no company: hidden in the company left */
		if (!c->insert && c->moved && c->old_side == LM_COMPANY_ENABLED &&
			c->new_status != NULL)
		{
			r.event = LM_EVENT_HIDDEN;
			r.in_old_company = true;
		}
		return r;
	}
	if (c->new_status == NULL)
		return r;
	r.visible = c->new_side == LM_COMPANY_ENABLED;
	if (c->cascade)
	{
		r.event = c->cascade_event;
		return r;
	}
	if (c->insert)
	{
		r.event = LM_EVENT_CREATED;
		return r;
	}
	if (!r.visible)
	{
		/* hidden by the move, or a value written while hidden (X1) */
		if (c->moved && c->old_side == LM_COMPANY_ENABLED)
			r.event = LM_EVENT_HIDDEN;
		else if (changed)
			r.event = LM_EVENT_SET;
		return r;
	}
	if (!c->moved)
	{
		if (changed)
			r.event = LM_EVENT_SET;
		return r;
	}
	if (c->old_side == LM_COMPANY_ENABLED)
	{
		/* between lead-enabled companies: an empty status gets the default */
		if (changed)
			r.event = c->old_status == NULL ? LM_EVENT_ENTERED : LM_EVENT_SET;
		return r;
	}
	/* into a lead-enabled company from one that is not (or none): B2 */
	if (!changed)
		r.event = LM_EVENT_SHOWN;
	else if (c->old_status == NULL || strcmp(c->new_status, c->default_status) == 0)
		r.event = LM_EVENT_ENTERED;
	else
		r.event = LM_EVENT_SET;
	return r;
}
