/*
 * automation.c
 *		Category rules (SPEC A2) and lead_mgmt.merge_status().
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * A2: an enabled, automatic row of lead_mgmt.category_rule says "when a
 * person's lead status is set to S, set the company's category to C".  The
 * person trigger queues every status a user sets that has such a rule (the
 * catalog cache knows them); at the end of the statement the queue is run:
 * the company's category is changed, as the company table's owner, only
 * while the company's category is still lead-enabled and not C already.
 * That UPDATE goes through the company's own triggers, so B2/B3 and status
 * history apply as for any category change; the person whose status fired
 * the rule gets an automation row in history.  Suggest-only rules change
 * nothing: lead_mgmt.category_suggestions lists them.
 *
 * merge_status(old, new): every holder of old, visible or retained, gets
 * new (one statement over the person table, recorded as merged); old's
 * transition rules and category rules pass to new; old ends soft-deleted.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"

#include "automation.h"
#include "citus.h"
#include "cascade.h"
#include "catalog_cache.h"
#include "sink.h"

PG_FUNCTION_INFO_V1(lm_merge_status);

/* ---- A2: the statuses set this statement that have an automatic rule ---- */

typedef struct LmAutoEntry
{
	LmLevelNode node;			/* first: the list and the level */
	LmLayout   *shard;			/* the shard group's layout (Citus), or NULL */
	Datum		company;
	Datum		person;
	char		status[LM_KEY_LEN];
} LmAutoEntry;

static LmLevelNode *queue = NULL;	/* of LmAutoEntry, newest first */
static MemoryContext queue_cxt = NULL;	/* in TopTransactionContext */
static bool running = false;

void
LmAutomationQueue(LmLayout *layout, Datum company, Datum person, const char *status)
{
	LmAutoEntry *e;
	MemoryContext old;

	if (queue_cxt == NULL)
		queue_cxt = AllocSetContextCreate(TopTransactionContext, "lead_mgmt category rules",
										  ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(queue_cxt);
	e = palloc0(sizeof(LmAutoEntry));
	e->shard = layout->shard ? layout : NULL;
	e->company = datumCopy(company, layout->company_key_byval, layout->company_key_typlen);
	e->person = datumCopy(person, layout->person_key_byval, layout->person_key_typlen);
	strlcpy(e->status, status, LM_KEY_LEN);
	MemoryContextSwitchTo(old);
	LmLevelPush(&queue, &e->node);
}

/*
 * Fire one rule: the company's category becomes the rule's, if it is still
 * lead-enabled and not that one already.
 */
static void
LmAutomationFire(LmLayout *layout, LmAutoEntry *e)
{
	const char *target = LmAutomaticCategory(e->status);
	LmCategory	category;
	Datum		values[2];
	uint64		n;

	/* the rule may have gone, or its category been deleted, since */
	if (target == NULL || !LmLookupCategory(target, &category) || category.deleted)
		return;
	values[0] = e->company;
	values[1] = CStringGetTextDatum(target);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = LmExecuteAsOwner(layout, LM_PLAN_COMPANY_ADVANCE, values, NULL, true);
	SPI_finish();
	if (n > 0)
		LmSinkRecordRow(layout, LM_EVENT_AUTOMATION, e->company, e->person,
						e->status, e->status, target, category.lead_enabled);
}

/*
 * End of a statement on the managed tables: fire the rules it queued, in
 * the order the statuses were set.  The category changes they make run
 * statements of their own, which queue nothing (they set no status).
 */
void
LmAutomationRun(void)
{
	LmLayout   *layout;
	LmAutoEntry **entries;
	LmLevelNode *n;
	volatile int count = 0;
	int			i;

	if (queue == NULL || running || !LmRulesActive())
		return;
	layout = LmGetLayout();
	if (layout == NULL)
		return;
	for (n = queue; n != NULL; n = n->next)
		count++;
	entries = palloc(count * sizeof(LmAutoEntry *));
	i = count;
	for (n = queue; n != NULL; n = n->next)
		entries[--i] = (LmAutoEntry *) n;
	queue = NULL;
	running = true;
	PG_TRY();
	{
		int			j;

		/* on a shard, the statement stays on its node */
		for (j = 0; j < count; j++)
			LmAutomationFire(entries[j]->shard ? entries[j]->shard : layout, entries[j]);
	}
	PG_FINALLY();
	{
		running = false;
	}
	PG_END_TRY();
	LmSinkFlush();
	pfree(entries);
}

void
LmAutomationXactEnd(void)
{
	queue = NULL;				/* its memory goes with TopTransactionContext */
	queue_cxt = NULL;
	running = false;
}

void
LmAutomationSubXactAbort(int level)
{
	LmLevelAbort(&queue, level);
}

void
LmAutomationSubXactCommit(int level)
{
	LmLevelCommit(queue, level);
}

/* ---- merge_status() ---- */

/* Run a statement as the caller; the number of rows it processed. */
static uint64
LmMergeExec(const char *sql, int nargs, Oid *types, Datum *values, int expected)
{
	int			ret = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);

	if (ret != expected)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/* A status key argument: given, and a key that exists. */
static const char *
LmMergeArg(FunctionCallInfo fcinfo, int arg, const char *name, LmStatus *status)
{
	char	   *key;

	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument %s of lead_mgmt.merge_status() must not be NULL", name),
				 errhint("Call lead_mgmt.merge_status(old_key => 'renurture', new_key => 'contacting'); with keys of lead_mgmt.lead_status.")));
	key = text_to_cstring(PG_GETARG_TEXT_PP(arg));
	if (strlen(key) >= LM_KEY_LEN || !LmLookupStatus(key, status))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("lead status \"%s\" (%s) does not exist", key, name),
				 errhint("Lead statuses are: %s.", LmStatusList())));
	return key;
}

/*
 * lead_mgmt.merge_status(old_key text, new_key text) RETURNS bigint: the
 * number of persons moved from old_key to new_key.
 */
Datum
lm_merge_status(PG_FUNCTION_ARGS)
{
	LmStatus	old_status;
	LmStatus	new_status;
	const char *old_key;
	const char *new_key;
	LmLayout   *layout;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	uint64		moved = 0;
	uint64		dropped;

	LmCheckAdmin("merge_status");
	old_key = LmMergeArg(fcinfo, 0, "old_key", &old_status);
	new_key = LmMergeArg(fcinfo, 1, "new_key", &new_status);
	if (strcmp(old_key, new_key) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge lead status \"%s\" into itself", old_key),
				 errhint("Name the status to retire first and the status its holders get second.")));
	if (new_status.deleted)
		ereport(ERROR,
				(errcode(ERRCODE_LM_DELETED_VALUE),
				 errmsg("cannot merge into lead status \"%s\": it is deleted", new_key),
				 errhint("Restore it first (UPDATE lead_mgmt.lead_status SET deleted = false WHERE key = '%s'), or merge into one of: %s.",
						 new_key, LmStatusList())));
	if (old_status.is_default)
		ereport(ERROR,
				(errcode(ERRCODE_LM_DEFAULT_STATUS),
				 errmsg("cannot merge away lead status \"%s\": it is the default status", old_key),
				 errhint("Make another status the default first: UPDATE lead_mgmt.lead_status SET is_default = true WHERE key = '%s';",
						 new_key)));

	values[0] = CStringGetTextDatum(old_key);
	values[1] = CStringGetTextDatum(new_key);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * On Citus, the persons (distributed) and the catalogs (reference
	 * tables) are written in one transaction: one connection per node.
	 */
	if (LmCitusInstalled())
		(void) LmMergeExec("SELECT pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true)",
						   0, NULL, NULL, SPI_OK_SELECT);

	/*
	 * Lock the old status's row: writers that set it hold KEY SHARE on it
	 * (their foreign-key check) until they commit, so this waits for them,
	 * and the persons they wrote are merged too.
	 */
	(void) LmMergeExec("SELECT 1 FROM lead_mgmt.lead_status"
					   " WHERE key OPERATOR(pg_catalog.=) $1 FOR UPDATE",
					   1, types, values, SPI_OK_SELECT);
	layout = LmGetLayout();
	if (layout != NULL)
		moved = LmCascadeMerge(layout, old_key, new_key);

	/*
	 * Transition rules: moves into old now lead into new; moves out of old
	 * are added to new's own rules where new has any (a status without rules
	 * may move anywhere, and stays so).
	 */
	(void) LmMergeExec("INSERT INTO lead_mgmt.status_transition (from_status, to_status)"
					   " SELECT t.from_status, $2 FROM lead_mgmt.status_transition t"
					   "  WHERE t.to_status OPERATOR(pg_catalog.=) $1"
					   "    AND t.from_status OPERATOR(pg_catalog.<>) $2"
					   " ON CONFLICT DO NOTHING",
					   2, types, values, SPI_OK_INSERT);
	(void) LmMergeExec("INSERT INTO lead_mgmt.status_transition (from_status, to_status)"
					   " SELECT $2, t.to_status FROM lead_mgmt.status_transition t"
					   "  WHERE t.from_status OPERATOR(pg_catalog.=) $1"
					   "    AND t.to_status OPERATOR(pg_catalog.<>) $2"
					   "    AND EXISTS (SELECT FROM lead_mgmt.status_transition n"
					   "                 WHERE n.from_status OPERATOR(pg_catalog.=) $2)"
					   " ON CONFLICT DO NOTHING",
					   2, types, values, SPI_OK_INSERT);
	(void) LmMergeExec("DELETE FROM lead_mgmt.status_transition"
					   " WHERE from_status OPERATOR(pg_catalog.=) $1 OR to_status OPERATOR(pg_catalog.=) $1",
					   1, types, values, SPI_OK_DELETE);

	/* category rules: old's pass to new, unless new has a rule of its own for that category */
	(void) LmMergeExec("INSERT INTO lead_mgmt.category_rule (status, category, enabled, automatic)"
					   " SELECT $2, r.category, r.enabled, r.automatic"
					   "   FROM lead_mgmt.category_rule r"
					   "  WHERE r.status OPERATOR(pg_catalog.=) $1"
					   "    AND NOT EXISTS (SELECT FROM lead_mgmt.category_rule n"
					   "                     WHERE n.status OPERATOR(pg_catalog.=) $2"
					   "                       AND (n.category OPERATOR(pg_catalog.=) r.category"
					   "                            OR (n.automatic AND n.enabled AND r.automatic AND r.enabled)))",
					   2, types, values, SPI_OK_INSERT);
	dropped = LmMergeExec("DELETE FROM lead_mgmt.category_rule r"
						  " WHERE r.status OPERATOR(pg_catalog.=) $1"
						  "   AND NOT EXISTS (SELECT FROM lead_mgmt.category_rule n"
						  "                    WHERE n.status OPERATOR(pg_catalog.=) $2"
						  "                      AND n.category OPERATOR(pg_catalog.=) r.category"
						  "                      AND n.enabled OPERATOR(pg_catalog.=) r.enabled"
						  "                      AND n.automatic OPERATOR(pg_catalog.=) r.automatic)",
						  2, types, values, SPI_OK_DELETE);
	if (dropped > 0)
		ereport(NOTICE,
				(errmsg("%llu category %s of lead status \"%s\" did not pass to \"%s\"",
						(unsigned long long) dropped, dropped == 1 ? "rule" : "rules",
						old_key, new_key),
				 errdetail("\"%s\" has its own automatic rule, or a rule for the same category.", new_key)));
	(void) LmMergeExec("DELETE FROM lead_mgmt.category_rule WHERE status OPERATOR(pg_catalog.=) $1",
					   1, types, values, SPI_OK_DELETE);

	/* the old status is retired (soft-deleted, restorable) */
	(void) LmMergeExec("UPDATE lead_mgmt.lead_status SET deleted = true"
					   " WHERE key OPERATOR(pg_catalog.=) $1 AND NOT deleted",
					   1, types, values, SPI_OK_UPDATE);
	SPI_finish();
	PG_RETURN_INT64((int64) moved);
}
