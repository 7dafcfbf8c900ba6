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
							const char *category, LmEvent event);

/* Every holder of a status gets another one, as merged (merge_status()). */
extern uint64 LmCascadeMerge(LmLayout *layout, const char *from_status,
							 const char *to_status);

/* A category changed side: every company of it, one company key at a time. */
extern void LmLockCategoryCompanies(LmLayout *layout, const char *category);
extern void LmCascadeCategory(LmLayout *layout, const char *category, bool now_enabled);

/*
 * Whether a person row being written is the current cascade's write (its
 * company, the status it had and the status the cascade sets); then *event
 * is its event.
 */
extern bool LmCascadeOwnsRow(LmLayout *layout, Datum company_key, bool company_null,
							 const char *from_status, Datum status, bool status_null,
							 LmEvent *event);

/* The category the current cascade records (NULL: the row's company's). */
extern const char *LmCascadeRowCategory(void);

#endif							/* LEAD_MGMT_CASCADE_H */
