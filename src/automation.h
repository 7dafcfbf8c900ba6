/*
 * automation.h
 *		Category rules (SPEC A2) and lead_mgmt.merge_status().
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_AUTOMATION_H
#define LEAD_MGMT_AUTOMATION_H

#include "layout.h"

/* A user set a status that has an automatic category rule. */
extern void LmAutomationQueue(LmLayout *layout, Datum company, Datum person,
							  const char *status);

/* End of a statement: fire the rules it queued. */
extern void LmAutomationRun(void);

extern void LmAutomationXactEnd(void);
extern void LmAutomationSubXactAbort(int level);
extern void LmAutomationSubXactCommit(int level);

#endif							/* LEAD_MGMT_AUTOMATION_H */
