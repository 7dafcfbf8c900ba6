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
	Datum		company_key;
	const char *status;
	const char *category;
} LmCascadeContext;

static LmCascadeContext current = {false, LM_EVENT_NONE, (Datum) 0, NULL, NULL};

static void LmCascadeRun(LmLayout *layout, LmPlanId id, Datum *values, Datum company_key,
						 const char *category, LmEvent event, bool own_query);

bool
LmCascadeOwnsRow(LmLayout *layout, Datum company_key, Datum status,
				 bool status_null, LmEvent *event, const char **category)
{
	char		key[LM_KEY_LEN];

	if (!current.active || status_null)
		return false;
	if (!LmDatumToKey(status, key) || strcmp(key, current.status) != 0)
		return false;
	if (!LmCompanyKeyEqual(layout, current.company_key, company_key))
		return false;
	*event = current.event;
	*category = current.category;
	return true;
}

/*
 * Run an entry statement (persons of one company -> the default status)
 * under a cascade context with the given event.
 */
static void
LmCascadeUpdate(LmLayout *layout, LmPlanId id, Datum company_key, const char *category,
				LmEvent event, bool own_query)
{
	Datum		values[2];

	values[0] = company_key;
	values[1] = CStringGetTextDatum(LmDefaultStatusKey());
	LmCascadeRun(layout, id, values, company_key, category, event, own_query);
}

/*
 * Run a statement that sets the default status on persons of one company,
 * under a cascade context with the given event.
 */
static void
LmCascadeRun(LmLayout *layout, LmPlanId id, Datum *values, Datum company_key,
			 const char *category, LmEvent event, bool own_query)
{
	LmCascadeContext saved = current;
	const char *status = LmDefaultStatusKey();

	current.active = true;
	current.event = event;
	current.company_key = company_key;
	current.status = pstrdup(status);
	current.category = category;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		(void) LmExecuteAsOwner(layout, id, values, NULL, own_query);
	}
	PG_FINALLY();
	{
		current = saved;
	}
	PG_END_TRY();
	SPI_finish();
}

/*
 * One person of a company gets the default status, as the given event.
 */
void
LmCascadePerson(LmLayout *layout, Datum person_key, Datum company_key, const char *category,
				LmEvent event, bool own_query)
{
	Datum		values[3];

	values[0] = person_key;
	values[1] = company_key;
	values[2] = CStringGetTextDatum(LmDefaultStatusKey());
	LmCascadeRun(layout, LM_PLAN_PERSON_SET, values, company_key, category, event, own_query);
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
		LmCascadeUpdate(layout, LM_PLAN_ENTRY_EMPTY, company_key, category, LM_EVENT_ENTERED, false);
	}
	else
	{
		/* B2 reset: everyone gets the default; who has it already is shown */
		(void) LmSinkCompanySet(layout, LM_EVENT_SHOWN, company_key, category,
								LmDefaultStatusKey());
		LmCascadeUpdate(layout, LM_PLAN_ENTRY_RESET, company_key, category, LM_EVENT_ENTERED, false);
	}
	LmSinkFlush();
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
