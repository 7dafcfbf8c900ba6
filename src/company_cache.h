/*
 * company_cache.h
 *		Per-transaction answers about companies: found, lead-enabled; the
 *		company keys this transaction renumbered; the categories of the
 *		companies it deleted.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_COMPANY_CACHE_H
#define LEAD_MGMT_COMPANY_CACHE_H

#include "layout.h"

typedef struct LmCompanyState
{
	bool		found;
	bool		lead_enabled;
	char		category[LM_KEY_LEN];	/* "" for none */
} LmCompanyState;

extern void LmCompanyLookup(LmLayout *layout, Datum key, bool lock,
							LmCompanyState *out);
extern void LmCompanyCacheReset(void);
extern void LmCompanyForget(LmLayout *layout, Datum key);
extern void LmCompanyNoteRenumber(LmLayout *layout, Datum oldkey, Datum newkey);
extern bool LmCompanyRenumbered(LmLayout *layout, Datum oldkey, Datum newkey);
extern Datum LmCopyKey(LmLayout *layout, Datum key, MemoryContext *cxt);
extern void LmCompanyNoteDeleted(LmLayout *layout, Datum key, const char *category);
extern bool LmCompanyDeletedCategory(LmLayout *layout, Datum key, char *category);
extern void LmCompanyXactEnd(void);
extern void LmCompanySubXactAbort(int level);
extern void LmCompanySubXactCommit(int level);

#endif							/* LEAD_MGMT_COMPANY_CACHE_H */
