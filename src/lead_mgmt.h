/*
 * lead_mgmt.h
 *		Declarations shared by the lead_mgmt modules.
 *
 * Module map:
 *	lead_mgmt.c			module init, settings, transaction state, invalidation
 *	catalog_cache.c		backend cache of the category / lead_status catalogs
 *	layout.c			the registered company/person pair and its prepared SQL
 *	company_lookup.c	lock-then-read of a company row, per-transaction cache
 *	person_trigger.c	rules on the person table (B1, B2 moves, B5, B6, S2)
 *	company_trigger.c	rules on the company table (B2, B3 by category change)
 *	catalog_trigger.c	catalog integrity (C1, S1, keys, deletes) and B2 by catalog
 *	manage.c			lead_mgmt.manage() / lead_mgmt.unmanage()
 */
#ifndef LEAD_MGMT_H
#define LEAD_MGMT_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/htup.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"

#include "compat.h"

/* Catalog keys are lower-case identifiers of at most 63 bytes. */
#define LM_KEY_LEN 64

/*
 * SQLSTATEs raised by lead_mgmt.  Class 23 (integrity constraint violation)
 * with implementation-defined subclasses, so that clients that handle class
 * 23 keep working and tests can tell the rules apart.
 */
#define ERRCODE_LM_STATUS_HIDDEN		MAKE_SQLSTATE('2','3','L','0','1')
#define ERRCODE_LM_NO_COMPANY			MAKE_SQLSTATE('2','3','L','0','2')
#define ERRCODE_LM_DELETED_VALUE		MAKE_SQLSTATE('2','3','L','0','3')
#define ERRCODE_LM_TRANSITION			MAKE_SQLSTATE('2','3','L','0','4')
#define ERRCODE_LM_LEAD_STATUS_GROUP	MAKE_SQLSTATE('2','3','L','0','5')
#define ERRCODE_LM_DEFAULT_STATUS		MAKE_SQLSTATE('2','3','L','0','6')
#define ERRCODE_LM_KEY_IMMUTABLE		MAKE_SQLSTATE('2','3','L','0','7')
#define ERRCODE_LM_IN_USE				MAKE_SQLSTATE('2','3','L','0','8')
#define ERRCODE_LM_SHIPPED_ROW			MAKE_SQLSTATE('2','3','L','0','9')

/* ---- lead_mgmt.c: settings and transaction state ---- */

typedef enum LmReentry
{
	LM_REENTRY_RESET,
	LM_REENTRY_RESTORE
} LmReentry;

extern int	lm_reentry;
extern bool lm_enforce;
extern char *lm_language;

/* > 0 while lead_mgmt itself writes person rows (cascades, back-fill) */
extern int	lm_internal_depth;

/* > 0 while lead_mgmt itself writes catalog rows (default moves, restore) */
extern int	lm_catalog_internal;

/* OIDs of the extension's own relations, resolved lazily */
typedef struct LmOids
{
	Oid			schema;
	Oid			category;
	Oid			lead_status;
	Oid			status_transition;
	Oid			registration;
} LmOids;

extern const LmOids *LmGetOids(void);
extern bool LmRulesActive(void);
extern void LmLockSentinel(LOCKMODE mode);
extern void LmCheckTriggerContext(FunctionCallInfo fcinfo, const char *funcname,
								  bool before, bool row);

/* ---- catalog_cache.c ---- */

typedef struct LmCategory
{
	char		key[LM_KEY_LEN];
	bool		lead_enabled;	/* group potential_customer and flag on */
	bool		deleted;
	char		group[32];
} LmCategory;

typedef struct LmStatus
{
	char		key[LM_KEY_LEN];
	bool		deleted;
	bool		is_default;
	bool		has_transitions;
} LmStatus;

extern void LmCatalogInvalidate(void);
extern bool LmLookupCategory(const char *key, LmCategory *out);
extern bool LmLookupStatus(const char *key, LmStatus *out);
extern bool LmCategoryEnabled(const char *key);
extern bool LmIsLeadGroup(const char *group);
extern bool LmTransitionAllowed(const char *from, const char *to);
extern Datum LmDefaultStatusDatum(void);
extern Datum LmDefaultStatusCached(void);
extern const char *LmDefaultStatusKey(void);
extern const char *LmStatusList(void);
extern const char *LmCategoryList(void);
extern char *LmNextStatusList(const char *from);
extern bool LmDatumToKey(Datum value, char *buf);
extern bool LmTextEqual(Datum a, bool anull, Datum b, bool bnull);

/* ---- layout.c ---- */

typedef enum LmPlanId
{
	LM_PLAN_ENTRY_RESET,		/* persons of one company -> default */
	LM_PLAN_ENTRY_RESTORE,		/* persons of one company without status -> default */
	LM_PLAN_ENTRY_RESET_MANY,	/* same, for an array of companies */
	LM_PLAN_ENTRY_RESTORE_MANY,
	LM_PLAN_COMPANIES_OF_CATEGORY,	/* array of company keys in one category */
	LM_PLAN_CATEGORY_IN_USE,	/* is a category held by a company? */
	LM_PLAN_STATUS_IN_USE,		/* is a status held by a person? */
	LM_NUM_PLANS
} LmPlanId;

typedef enum LmKeyConv
{
	LM_KEY_CONV_NONE,			/* same type, or binary-compatible */
	LM_KEY_CONV_FUNC,			/* a cast function (int4 -> int8) */
	LM_KEY_CONV_IO				/* through text */
} LmKeyConv;

typedef struct LmLayout
{
	/* company table */
	Oid			company_relid;
	Oid			company_pk_index;
	Oid			company_owner;
	AttrNumber	company_key_attno;
	AttrNumber	category_attno;
	Oid			company_key_type;
	Oid			company_key_collation;
	int16		company_key_typlen;
	bool		company_key_byval;
	RegProcedure company_key_eqproc;	/* btree equality of the key */

	/* person table */
	Oid			person_relid;
	Oid			person_owner;
	AttrNumber	person_company_attno;
	AttrNumber	status_attno;
	Oid			person_company_type;
	bool		rules_installed;	/* the person trigger exists */

	/* person's company column -> company key type */
	LmKeyConv	key_conv;
	FmgrInfo	key_conv_func;
	FmgrInfo	person_key_out;
	FmgrInfo	key_in;
	Oid			key_in_ioparam;

	/* quoted names for generated SQL */
	char	   *company_qname;
	char	   *person_qname;
	char	   *company_key_q;
	char	   *category_q;
	char	   *person_company_q;
	char	   *status_q;

	/* hashing of company keys for the per-transaction cache */
	FmgrInfo	key_hash;
	FmgrInfo	key_eq;
	FmgrInfo	key_out;

	SPIPlanPtr	plans[LM_NUM_PLANS];
} LmLayout;

extern LmLayout *LmGetLayout(void);
extern void LmLayoutInvalidate(void);
extern void LmLayoutXactEnd(void);
extern bool LmLayoutMatches(Oid relid);
extern char *LmCompanyKeyText(LmLayout *layout, Datum key);
extern Datum LmPersonCompanyKey(LmLayout *layout, Datum value);
extern uint64 LmExecuteAsOwner(LmLayout *layout, LmPlanId id, Datum *values,
							   const char *nulls, bool internal);

/* ---- company_lookup.c ---- */

typedef struct LmCompanyState
{
	bool		found;
	bool		lead_enabled;
} LmCompanyState;

extern void LmCompanyLookup(LmLayout *layout, Datum key, bool lock,
							LmCompanyState *out);
extern char *LmCompanyCategory(LmLayout *layout, Datum key);
extern void LmCompanyLockForFlip(Relation rel, ItemPointer tid);
extern void LmCompanyCacheReset(void);
extern void LmPendingAdd(LmLayout *layout, Datum key, const char *status);
extern void LmPendingResolve(void);
extern void LmCompanyXactEnd(void);
extern void LmCompanySubXactAbort(int level);
extern void LmCompanySubXactCommit(int level);

/* ---- entry points shared between trigger modules ---- */

extern void LmRefuseHidden(LmLayout *layout, const char *status,
						   Datum company) pg_attribute_noreturn();
extern uint64 LmApplyEntry(LmLayout *layout, Datum company_key, bool many,
						   bool only_empty);

#endif							/* LEAD_MGMT_H */
