/*
 * lead_mgmt.h
 *		Declarations shared by every lead_mgmt module: SQLSTATEs, settings,
 *		the extension's own relations and the trigger-context check.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Module map (each module has a header of its own):
 *	lead_mgmt.c			module init, settings, transaction callbacks
 *	catalog_cache.c		backend cache of the category / lead_status catalogs
 *	category_lock.c		per-category locks between writers and catalog flips
 *	layout.c			the registered pair, per-relation layouts, prepared SQL
 *	company_probe.c		lock-then-read of one company row
 *	company_cache.c		per-transaction answers about companies, renumbers
 *	pending.c			persons written before their company was visible
 *	decide.c			the pure decision: new stored status and event
 *	sink.c				the change sink every status change goes through
 *	cascade.c			company and catalog cascades (B2, B3 by category)
 *	refusal.c			the errors of the person rules (B5, B6, S2)
 *	person_trigger.c	triggers on the managed person table
 *	company_trigger.c	triggers on the managed company table
 *	catalog_trigger.c	catalog integrity (C1, S1, keys, deletes)
 *	manage.c			lead_mgmt.manage() / lead_mgmt.unmanage()
 *	labels.c			the session's label language
 *	history.c			status history: append-only guard, purge
 *	automation.c		category rules (A2), merge_status()
 *	direct.c			rows appended to lead_mgmt's own tables
 *	counts.c			the count summary behind the dashboard views
 */
#ifndef LEAD_MGMT_H
#define LEAD_MGMT_H

#include "postgres.h"

#include "fmgr.h"

#include "compat.h"

/* Catalog keys are lower-case identifiers of at most 63 bytes. */
#define LM_KEY_LEN 64

#define LM_ADMIN_ROLE "lead_mgmt_admin"

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

/* ---- settings (lead_mgmt.c) ---- */

typedef enum LmReentry
{
	LM_REENTRY_RESET,
	LM_REENTRY_RESTORE
} LmReentry;

extern int	lm_reentry;
extern bool lm_enforce;
extern bool lm_track_history;
extern char *lm_language;
extern char *lm_source;

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
	Oid			settle_marker;
	Oid			category_rule;	/* InvalidOid before the 1.1.0 update */
} LmOids;

extern const LmOids *LmGetOids(void);
extern bool LmUserMayBypass(void);
extern bool LmPrivilegedSettingOn(bool value, const char *setting, const char *action,
								  const char *it);
extern bool LmRulesActive(void);
extern void LmCheckAdmin(const char *function);
extern void LmCheckTriggerContext(FunctionCallInfo fcinfo, const char *funcname,
								  bool before, bool row);

/* This transaction wrote a catalog or the registration (caches may hold it). */
extern void LmNoteCatalogWrite(void);

/*
 * An entry of a per-transaction list, made at a subtransaction level (the
 * first member of the entry's struct): an aborted subtransaction takes its
 * entries with it, a committed one hands them to its parent.
 */
typedef struct LmLevelNode
{
	struct LmLevelNode *next;
	int			level;
} LmLevelNode;

extern void LmLevelPush(LmLevelNode **head, LmLevelNode *node);
extern void LmLevelAbort(LmLevelNode **head, int level);
extern void LmLevelCommit(LmLevelNode *head, int level);

#endif							/* LEAD_MGMT_H */
