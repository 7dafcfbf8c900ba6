/*
 * cascade.c
 *		The cascade engine: what lead_mgmt itself does to the persons of a
 *		company when the company changes side (lead-enabled or not).
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Each statement names one company key, so that it touches the rows of one
 * company only (a shard's worth, later).  A category flip by an
 * administrator spans many companies: LmCascadeCategory() runs the same
 * per-company cascade for each, and can run outside any row trigger.
 *
 * Writes go through the person trigger like every other write: an explicit
 * cascade context tells it which rows are the cascade's own (the company
 * and the status being set) and with which event; nothing is silenced.
 * Events that no row write carries (persons hidden, or shown again with the
 * value they kept) go to the change sink as sets.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "cascade.h"
#include "catalog_cache.h"
#include "sink.h"

typedef struct LmCascadeContext
{
	bool		active;
	LmEvent		event;
	bool		any_company;	/* a catalog-wide write (merge_status) */
	Datum		company_key;
	const char *from_status;	/* the status the rows had; NULL: any */
	const char *status;			/* the status the cascade writes */
	const char *category;		/* NULL: the row's company's */
} LmCascadeContext;

static LmCascadeContext current = {false, LM_EVENT_NONE, false, (Datum) 0, NULL, NULL, NULL};

static uint64 LmCascadeRun(LmLayout *layout, LmPlanId id, Datum *values,
						   const LmCascadeContext *context);

bool
LmCascadeOwnsRow(LmLayout *layout, Datum company_key, bool company_null,
				 const char *from_status, Datum status, bool status_null, LmEvent *event)
{
	char		key[LM_KEY_LEN];

	if (!current.active || status_null)
		return false;
	if (!LmDatumToKey(status, key) || strcmp(key, current.status) != 0)
		return false;
	if (current.from_status != NULL &&
		(from_status == NULL || strcmp(from_status, current.from_status) != 0))
		return false;
	if (!current.any_company &&
		(company_null || !LmCompanyKeyEqual(layout, current.company_key, company_key)))
		return false;
	*event = current.event;
	return true;
}

const char *
LmCascadeRowCategory(void)
{
	return current.active ? current.category : NULL;
}

/*
 * Run an entry statement (persons of one company -> the default status)
 * under a cascade context with the given event.
 */
static void
LmCascadeUpdate(LmLayout *layout, LmPlanId id, Datum company_key, const char *category,
				LmEvent event)
{
	Datum		values[2];
	LmCascadeContext context = {true, event, false, company_key, NULL, NULL, category};

	values[0] = company_key;
	values[1] = CStringGetTextDatum(LmDefaultStatusKey());
	context.status = LmDefaultStatusKey();
	LmCascadeRun(layout, id, values, &context);
}

/*
 * Run a statement of lead_mgmt's own under the given cascade context.  Its
 * AFTER triggers fire at its end, while the context is in place, so that
 * the rows it writes are recorded with the context's event.
 */
static uint64
LmCascadeRun(LmLayout *layout, LmPlanId id, Datum *values, const LmCascadeContext *context)
{
	LmCascadeContext saved = current;
	volatile uint64 n = 0;

	current = *context;
	current.status = pstrdup(context->status);
	if (current.from_status != NULL)
		current.from_status = pstrdup(context->from_status);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		n = LmExecuteAsOwner(layout, id, values, NULL, true);
	}
	PG_FINALLY();
	{
		current = saved;
	}
	PG_END_TRY();
	SPI_finish();
	return n;
}

/*
 * One person of a company gets the default status, as the given event.
 */
void
LmCascadePerson(LmLayout *layout, Datum person_key, Datum company_key, const char *category,
				LmEvent event)
{
	Datum		values[3];
	LmCascadeContext context = {true, event, false, company_key, NULL, NULL, category};

	values[0] = person_key;
	values[1] = company_key;
	values[2] = CStringGetTextDatum(LmDefaultStatusKey());
	context.status = LmDefaultStatusKey();
	LmCascadeRun(layout, LM_PLAN_PERSON_SET, values, &context);
	LmSinkFlush();
}

void
LmCascadeCompany(LmLayout *layout, Datum company_key, const char *category,
				 bool was_enabled, bool now_enabled)
{
	if (was_enabled == now_enabled)
		return;
	if (!now_enabled)
	{
		/* B3: nothing is written; every held status is now hidden */
		(void) LmSinkCompanySet(layout, LM_EVENT_HIDDEN, company_key, category, NULL);
	}
	else if (lm_reentry == LM_REENTRY_RESTORE)
	{
		/* B2 restore: held values show again; empty ones get the default */
		(void) LmSinkCompanySet(layout, LM_EVENT_SHOWN, company_key, category, NULL);
		LmCascadeUpdate(layout, LM_PLAN_ENTRY_EMPTY, company_key, category, LM_EVENT_ENTERED);
	}
	else
	{
		/* B2 reset: everyone gets the default; who has it already is shown */
		(void) LmSinkCompanySet(layout, LM_EVENT_SHOWN, company_key, category,
								LmDefaultStatusKey());
		LmCascadeUpdate(layout, LM_PLAN_ENTRY_RESET, company_key, category, LM_EVENT_ENTERED);
	}
	LmSinkFlush();
}

/*
 * Lock the companies of a category FOR UPDATE, before a change of whether
 * it is lead-enabled takes the category's lock: a writer locks its company
 * (KEY SHARE) before the category (category_lock.c), so taking them in the
 * other order would deadlock with every writer caught between its two
 * locks.  The cascade locks them again (a no-op) and any that moved in.
 */
void
LmLockCategoryCompanies(LmLayout *layout, const char *category)
{
	Datum		arg = CStringGetTextDatum(category);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) LmExecuteAsOwner(layout, LM_PLAN_COMPANIES_OF_CATEGORY, &arg, NULL, false);
	SPI_finish();
}

void
LmCascadeCategory(LmLayout *layout, const char *category, bool now_enabled)
{
	Datum		arg = CStringGetTextDatum(category);
	uint64		n;
	uint64		i;
	SPITupleTable *companies;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = LmExecuteAsOwner(layout, LM_PLAN_COMPANIES_OF_CATEGORY, &arg, NULL, false);
	companies = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		key = SPI_getbinval(companies->vals[i], companies->tupdesc, 1, &isnull);

		if (!isnull)
			LmCascadeCompany(layout, key, category, !now_enabled, now_enabled);
	}
	SPI_finish();
}

/*
 * lead_mgmt.merge_status(): every person holding from_status, visible or
 * retained, gets to_status, recorded as merged.  One statement over the
 * whole person table (a catalog-wide change, run outside any row trigger).
 */
uint64
LmCascadeMerge(LmLayout *layout, const char *from_status, const char *to_status)
{
	Datum		values[2];
	LmCascadeContext context = {true, LM_EVENT_MERGED, true, (Datum) 0, NULL, NULL, NULL};
	uint64		n;

	values[0] = CStringGetTextDatum(from_status);
	values[1] = CStringGetTextDatum(to_status);
	context.from_status = from_status;
	context.status = to_status;
	n = LmCascadeRun(layout, LM_PLAN_MERGE, values, &context);
	LmSinkFlush();
	return n;
}
