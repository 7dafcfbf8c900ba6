/*
 * cascade.h
 *		lead_mgmt's own writes to the persons of a company: rule B2 when a
 *		company becomes lead-enabled, the hide/re-show events of B3/B2, and
 *		pending persons settled.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_CASCADE_H
#define LEAD_MGMT_CASCADE_H

#include "decide.h"
#include "layout.h"

/* A company changes side: its persons are hidden, shown or entered. */
extern void LmCascadeCompany(LmLayout *layout, Datum company_key, const char *category,
							 bool was_enabled, bool now_enabled);

/* One person of a company gets the default, as the given event. */
extern void LmCascadePerson(LmLayout *layout, Datum person_key, Datum company_key,
							const char *category, LmEvent event, bool own_query);

/* A category changed side: every company of it, one company key at a time. */
extern void LmCascadeCategory(LmLayout *layout, const char *category, bool now_enabled);

/*
 * Whether a person row being written is the current cascade's write (its
 * company and the status the cascade sets); then *event is its event.
 */
extern bool LmCascadeOwnsRow(LmLayout *layout, Datum company_key, Datum status,
							 bool status_null, LmEvent *event, const char **category);

#endif							/* LEAD_MGMT_CASCADE_H */
