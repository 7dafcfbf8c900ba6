/*
 * catalog_cache.h
 *		Backend-local cache of lead_mgmt.category, lead_mgmt.lead_status and
 *		lead_mgmt.status_transition.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_CATALOG_CACHE_H
#define LEAD_MGMT_CATALOG_CACHE_H

#include "lead_mgmt.h"

typedef struct LmCategory
{
	char		key[LM_KEY_LEN];
	bool		lead_enabled;	/* enable_lead_status (C1: only in potential_customer) */
	bool		deleted;
} LmCategory;

typedef struct LmStatus
{
	char		key[LM_KEY_LEN];
	bool		deleted;
	bool		is_default;
	bool		has_transitions;
	char		auto_category[LM_KEY_LEN];	/* automatic category rule, "" for none */
} LmStatus;

extern void LmCatalogInvalidate(void);
extern bool LmLookupCategory(const char *key, LmCategory *out);
extern bool LmLookupStatus(const char *key, LmStatus *out);
extern bool LmCategoryEnabled(const char *key);
extern bool LmIsLeadGroup(const char *group);
extern bool LmTransitionAllowed(const char *from, const char *to);
extern const char *LmAutomaticCategory(const char *status);
extern const char *LmDefaultStatusKey(void);
extern Datum LmDefaultStatusCached(void);
extern const char *LmStatusList(void);
extern const char *LmCategoryList(void);
extern char *LmNextStatusList(const char *from);
extern bool LmDatumToKey(Datum value, char *buf);
extern bool LmTextEqual(Datum a, bool anull, Datum b, bool bnull);

#endif							/* LEAD_MGMT_CATALOG_CACHE_H */
