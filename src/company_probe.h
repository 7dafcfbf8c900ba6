/*
 * company_probe.h
 *		Lock a company row, then read its category.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_COMPANY_PROBE_H
#define LEAD_MGMT_COMPANY_PROBE_H

#include "storage/itemptr.h"
#include "utils/relcache.h"

#include "layout.h"

extern bool LmCompanyProbe(LmLayout *layout, Datum key, bool lock, char *category);
extern char *LmCompanyCategory(LmLayout *layout, Datum key);
extern void LmCompanyLockForFlip(Relation rel, ItemPointer tid);

#endif							/* LEAD_MGMT_COMPANY_PROBE_H */
