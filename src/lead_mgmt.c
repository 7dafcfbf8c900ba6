/*
 * lead_mgmt.c
 *		Module initialisation, settings, per-transaction state and cache
 *		invalidation for lead_mgmt.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Concurrency protocol (see README, "How the rules stay true under load"):
 *
 *	- A company row is locked FOR KEY SHARE before its category is read (the
 *	  foreign-key check takes the same lock anyway); a category change that
 *	  alters whether the company is lead-enabled escalates to FOR UPDATE and so
 *	  waits for in-flight inserts and moves of its persons.
 *	- A writer that decides by a category holds that category's lock in
 *	  ShareLock; an administrator's change of whether the category is
 *	  lead-enabled takes it in ExclusiveLock (category_lock.c).  Writers of
 *	  other categories never wait for an administrator, nor queue behind one.
 *	- Every backend cache that may hold uncommitted state (the catalogs, the
 *	  registration, company answers) is dropped when a (sub)transaction that
 *	  may have put it there aborts.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "automation.h"
#include "catalog_cache.h"
#include "category_lock.h"
#include "citus.h"
#include "company_cache.h"
#include "counts.h"
#include "layout.h"
#include "pending.h"
#include "refusal.h"
#include "sink.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* settings */
int			lm_reentry = LM_REENTRY_RESET;
bool		lm_enforce = true;
bool		lm_track_history = true;
char	   *lm_language = NULL;
char	   *lm_source = NULL;

/* state */
int			lm_catalog_internal = 0;

/* this transaction wrote a catalog or the registration */
static bool lm_catalog_written = false;
/*
 * The OIDs last resolved stay in lm_oids even when marked stale: the
 * invalidation callback must keep recognising them (an invalidation ignored
 * while the OIDs are being resolved again would leave a stale catalog).
 */
static LmOids lm_oids;
static bool lm_oids_valid = false;

static const struct config_enum_entry lm_reentry_options[] = {
	{"reset", LM_REENTRY_RESET, false},
	{"restore", LM_REENTRY_RESTORE, false},
	{NULL, 0, false}
};

/*
 * May the current user turn the lead rules off?  Superusers and members of
 * lead_mgmt_admin may.
 */
bool
LmUserMayBypass(void)
{
	Oid			admin;

	if (superuser())
		return true;
	admin = get_role_oid(LM_ADMIN_ROLE, true);
	return OidIsValid(admin) && has_privs_of_role(GetUserId(), admin);
}

/*
 * A check hook of a setting that only privileged roles may turn off
 * (lead_mgmt.enforce, lead_mgmt.track_history); what names what it turns
 * off.  Values from the server's own configuration are trusted.
 */
static bool
LmCheckPrivilegedOff(bool newval, GucSource source, const char *setting, const char *what)
{
	if (newval || source < PGC_S_GLOBAL || !IsTransactionState() || LmUserMayBypass())
		return true;
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("permission denied to set parameter \"%s\" to off", setting);
	GUC_check_errhint("Only superusers and members of role %s may turn %s off, for imports.",
					  LM_ADMIN_ROLE, what);
	return false;
}

static bool
LmCheckEnforce(bool *newval, void **extra, GucSource source)
{
	return LmCheckPrivilegedOff(*newval, source, "lead_mgmt.enforce", "the lead rules");
}

static bool
LmCheckTrackHistory(bool *newval, void **extra, GucSource source)
{
	return LmCheckPrivilegedOff(*newval, source, "lead_mgmt.track_history", "status history");
}

/*
 * Assign hook of lead_mgmt.enforce: while the rules were off, companies may
 * have changed category unseen; what this transaction cached is stale.
 */
static void
LmAssignEnforce(bool newval, void *extra)
{
	LmCompanyCacheReset();
}

/* A language tag: en, nb, pt_BR. */
static bool
LmLanguageSyntaxValid(const char *tag)
{
	const char *p = tag;
	int			letters = 0;

	while (*p >= 'a' && *p <= 'z')
	{
		p++;
		letters++;
	}
	if (letters < 2 || letters > 3)
		return false;
	if (*p == '\0')
		return true;
	if (*p == '_' || *p == '-')
	{
		int			rest = 0;

		p++;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9'))
		{
			p++;
			rest++;
		}
		return *p == '\0' && rest >= 2 && rest <= 8;
	}
	return false;
}

/*
 * Whether this database's lead_mgmt has labels in the language (English is
 * always there).  Unknown when lead_mgmt is not installed here.
 */
static bool
LmLanguageKnown(const char *tag)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			ret;
	bool		known;

	if (strcmp(tag, "en") == 0 || strcmp(tag, "no") == 0 ||
		!OidIsValid(get_namespace_oid("lead_mgmt", true)))
		return true;
	/* on a Citus worker the setting comes from the coordinator, which checked it */
	if (LmCitusWorker())
		return true;
	args[0] = CStringGetTextDatum(tag);
	if (SPI_connect() != SPI_OK_CONNECT)
		return true;
	ret = SPI_execute_with_args("SELECT 1 FROM lead_mgmt.lead_status_label WHERE language OPERATOR(pg_catalog.=) $1"
								" UNION ALL SELECT 1 FROM lead_mgmt.category_label WHERE language OPERATOR(pg_catalog.=) $1"
								" UNION ALL SELECT 1 FROM lead_mgmt.category_group_label WHERE language OPERATOR(pg_catalog.=) $1"
								" LIMIT 1", 1, argtypes, args, NULL, true, 1);
	known = ret != SPI_OK_SELECT || SPI_processed > 0;
	SPI_finish();
	return known;
}

/*
 * Check hook of lead_mgmt.language: a language tag such as en, nb or pt_BR
 * (no is taken as Norwegian Bokmål); set in a session, it must be a
 * language this database has labels in.
 */
static bool
LmCheckLanguage(char **newval, void **extra, GucSource source)
{
	if (!LmLanguageSyntaxValid(*newval))
	{
		GUC_check_errdetail("A language is a lower-case language code with an optional region, such as en, nb or pt_BR.");
		GUC_check_errhint("Use en or nb, or the code of a language you have added labels in.");
		return false;
	}
	if (source >= PGC_S_SESSION && IsTransactionState() && !LmLanguageKnown(*newval))
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("lead_mgmt has no labels in language \"%s\".", *newval);
		GUC_check_errhint("Use en or nb, or add labels in that language to lead_mgmt.lead_status_label, lead_mgmt.category_label and lead_mgmt.category_group_label first.");
		return false;
	}
	return true;
}

/*
 * Whether a setting that only privileged roles may turn off is on.  It may
 * have been placed before this library was loaded, when no check hook
 * could refuse it: off by any other role is an error.
 */
bool
LmPrivilegedSettingOn(bool value, const char *setting, const char *action,
					  const char *it)
{
	if (value)
		return true;
	if (!LmUserMayBypass())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s is off, but role \"%s\" may not %s",
						setting, GetUserNameFromId(GetUserId(), false), action),
				 errhint("Run RESET %s; only superusers and members of role %s may turn %s off.",
						 setting, LM_ADMIN_ROLE, it)));
	return false;
}

/*
 * Whether the lead rules apply to this statement (lead_mgmt.enforce).
 */
bool
LmRulesActive(void)
{
	return LmPrivilegedSettingOn(lm_enforce, "lead_mgmt.enforce", "bypass the lead rules",
								 "the rules");
}

/*
 * Only superusers and members of lead_mgmt_admin call the given function.
 */
void
LmCheckAdmin(const char *function)
{
	if (LmUserMayBypass())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for lead_mgmt.%s()", function),
			 errdetail("Role \"%s\" is not a member of %s.",
					   GetUserNameFromId(GetUserId(), false), LM_ADMIN_ROLE),
			 errhint("A superuser can grant it: GRANT %s TO %s;", LM_ADMIN_ROLE,
					 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/*
 * Resolve the OIDs of the extension's relations (cached until one of them
 * is invalidated).
 */
const LmOids *
LmGetOids(void)
{
	if (!lm_oids_valid)
	{
		Oid			ns = get_namespace_oid("lead_mgmt", true);

		if (!OidIsValid(ns))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("schema \"lead_mgmt\" does not exist"),
					 errhint("Run CREATE EXTENSION lead_mgmt in this database.")));
		lm_oids.schema = ns;
		lm_oids.category = get_relname_relid("category", ns);
		lm_oids.lead_status = get_relname_relid("lead_status", ns);
		lm_oids.status_transition = get_relname_relid("status_transition", ns);
		lm_oids.registration = get_relname_relid("registration", ns);
		lm_oids.settle_marker = get_relname_relid("settle_marker", ns);
		lm_oids.category_rule = get_relname_relid("category_rule", ns);
		/* settle_marker may be missing while ALTER EXTENSION ... UPDATE runs */
		if (!OidIsValid(lm_oids.category) || !OidIsValid(lm_oids.lead_status) ||
			!OidIsValid(lm_oids.status_transition) || !OidIsValid(lm_oids.registration))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the catalogs of lead_mgmt are incomplete"),
					 errhint("Reinstall the extension: DROP EXTENSION lead_mgmt; CREATE EXTENSION lead_mgmt;")));
		lm_oids_valid = true;
	}
	return &lm_oids;
}

/*
 * This transaction writes a catalog or the registration: what the caches
 * read from now on may be uncommitted, so an abort drops them.
 */
void
LmNoteCatalogWrite(void)
{
	lm_catalog_written = true;
}

/*
 * Validate the calling context of a trigger function: called by the trigger
 * manager, at the expected timing and level.
 */
void
LmCheckTriggerContext(FunctionCallInfo fcinfo, const char *funcname,
					  bool before, bool row)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.%s() was not called by the trigger manager", funcname),
				 errhint("It is a trigger function; lead_mgmt.manage() attaches it.")));
	if (before != (bool) TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		row != (bool) TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.%s() must be fired %s %s",
						funcname, before ? "BEFORE" : "AFTER",
						row ? "FOR EACH ROW" : "FOR EACH STATEMENT")));
}

/*
 * Relation cache invalidation: mark the caches that depend on the relation
 * stale.  Nothing is freed here; the caches rebuild on next use.
 */
static void
LmRelcacheCallback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid))
	{
		LmCatalogInvalidate();
		LmLayoutInvalidate();
		LmCompanyCacheReset();
		lm_oids_valid = false;
		return;
	}
	if (relid == lm_oids.category || relid == lm_oids.lead_status ||
		relid == lm_oids.status_transition ||
		(OidIsValid(lm_oids.category_rule) && relid == lm_oids.category_rule))
	{
		LmCatalogInvalidate();
		if (relid == lm_oids.category)
			LmCompanyCacheReset();
		/* the relation may have been dropped with the extension */
		lm_oids_valid = false;
	}
	else if (relid == lm_oids.registration)
	{
		LmLayoutInvalidate();
		LmCompanyCacheReset();
		lm_oids_valid = false;
	}
	LmLayoutInvalidateRel(relid);
}

/* Add an entry at the current subtransaction level. */
void
LmLevelPush(LmLevelNode **head, LmLevelNode *node)
{
	node->level = GetCurrentTransactionNestLevel();
	node->next = *head;
	*head = node;
}

/* The subtransaction at level aborted: its entries go. */
void
LmLevelAbort(LmLevelNode **head, int level)
{
	while (*head != NULL)
	{
		if ((*head)->level >= level)
			*head = (*head)->next;
		else
			head = &(*head)->next;
	}
}

/* The subtransaction at level committed: its entries pass to its parent. */
void
LmLevelCommit(LmLevelNode *head, int level)
{
	for (; head != NULL; head = head->next)
		if (head->level >= level)
			head->level = level - 1;
}

/* Caches that may hold what an aborted (sub)transaction wrote. */
static void
LmDropUncommitted(void)
{
	if (!lm_catalog_written)
		return;
	LmCatalogInvalidate();
	LmLayoutInvalidate();
	LmCompanyCacheReset();
}

static void
LmXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			/* a refusal no statement end reported (cannot happen; be safe) */
			LmHiddenReport();
			LmSinkFlush();
			LmCountsFlush();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			LmDropUncommitted();
			/* FALLTHROUGH */
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
			lm_catalog_written = false;
			lm_catalog_internal = 0;
			LmHiddenReset();
			LmCompanyXactEnd();
			LmPendingXactEnd();
			LmCategoryLockXactEnd();
			LmSinkXactEnd();
			LmCountsXactEnd();
			LmAutomationXactEnd();
			LmLayoutXactEnd();
			break;
		default:
			break;
	}
}

static void
LmSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
				  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	switch (event)
	{
		case SUBXACT_EVENT_ABORT_SUB:
			/* locks taken inside the subtransaction are gone */
			LmDropUncommitted();
			LmHiddenSubXactAbort(level);
			LmCompanySubXactAbort(level);
			LmPendingSubXactAbort(level);
			LmCategoryLockSubXactAbort(level);
			LmSinkSubXactAbort(level);
			LmCountsSubXactAbort(level);
			LmAutomationSubXactAbort(level);
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			LmCompanySubXactCommit(level);
			LmPendingSubXactCommit(level);
			LmCategoryLockSubXactCommit(level);
			LmSinkSubXactCommit(level);
			LmCountsSubXactCommit(level);
			LmAutomationSubXactCommit(level);
			break;
		default:
			break;
	}
}

/*
 * Module load: settings and callbacks only.
 */
void
_PG_init(void)
{
	DefineCustomEnumVariable("lead_mgmt.reentry",
							 "What a person's status becomes when it turns visible again.",
							 "reset: the default status (Open); restore: a retained status comes back, empty ones get the default.",
							 &lm_reentry,
							 LM_REENTRY_RESET,
							 lm_reentry_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("lead_mgmt.language",
							   "Language of lead_mgmt labels (falls back to English).",
							   NULL,
							   &lm_language,
							   "en",
							   PGC_USERSET, 0,
							   LmCheckLanguage, NULL, NULL);

	DefineCustomBoolVariable("lead_mgmt.enforce",
							 "Apply the lead rules; turning this off (imports) needs lead_mgmt_admin.",
							 NULL,
							 &lm_enforce,
							 true,
							 PGC_USERSET, 0,
							 LmCheckEnforce, LmAssignEnforce, NULL);

	DefineCustomBoolVariable("lead_mgmt.track_history",
							 "Record every change of a lead status in lead_mgmt.status_history; turning this off needs lead_mgmt_admin.",
							 NULL,
							 &lm_track_history,
							 true,
							 PGC_USERSET, 0,
							 LmCheckTrackHistory, NULL, NULL);

	DefineCustomStringVariable("lead_mgmt.source",
							   "A label recorded in status history with this session's changes (an application's name, an import).",
							   NULL,
							   &lm_source,
							   "",
							   PGC_USERSET, 0,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("lead_mgmt");

	CacheRegisterRelcacheCallback(LmRelcacheCallback, (Datum) 0);
	RegisterXactCallback(LmXactCallback, NULL);
	RegisterSubXactCallback(LmSubXactCallback, NULL);
}
