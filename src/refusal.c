/*
 * refusal.c
 *		The errors of the person rules, each with its SQLSTATE, the value
 *		that was refused and a hint saying what is accepted.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * A statement that sets statuses on hidden persons (B5) is refused once, at
 * its end, saying how many persons of how many companies it hit and naming
 * the first; until then the rows are written with their old status, so
 * nothing changes even within the statement.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "catalog_cache.h"
#include "company_probe.h"
#include "refusal.h"

void
LmRefuseUnknownStatus(const char *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("lead status \"%s\" does not exist", value),
			 errhint("Valid lead statuses are: %s.", LmStatusList())));
	pg_unreachable();
}

/*
 * A status that may be newly set: it exists and is not deleted (B6).
 */
void
LmCheckSettable(const char *key)
{
	LmStatus	status;

	if (!LmLookupStatus(key, &status))
		LmRefuseUnknownStatus(key);
	if (status.deleted)
		ereport(ERROR,
				(errcode(ERRCODE_LM_DELETED_VALUE),
				 errmsg("lead status \"%s\" is deleted", key),
				 errdetail("A deleted status cannot be newly set; persons who already hold it keep it."),
				 errhint("Valid lead statuses are: %s.", LmStatusList())));
}

/*
 * Rule S2.
 */
void
LmCheckTransition(const char *from, const char *to)
{
	if (!LmTransitionAllowed(from, to))
	{
		char	   *next = LmNextStatusList(from);

		ereport(ERROR,
				(errcode(ERRCODE_LM_TRANSITION),
				 errmsg("lead status cannot move from \"%s\" to \"%s\"", from, to),
				 errdetail("lead_mgmt.status_transition lists the moves allowed from \"%s\".", from),
				 *next ? errhint("Allowed next statuses: %s.", next)
				 : errhint("No move away from \"%s\" is allowed.", from)));
	}
}

#define LM_HINT_VISIBLE "Lead status is visible and editable only while the company's category is in group potential_customer with enable_lead_status on; a hidden status is kept as it is."

/*
 * Rule B5: the person's company is not lead-enabled.
 */
void
LmRefuseHidden(LmLayout *layout, const char *status, Datum company)
{
	char	   *category = LmCompanyCategory(layout, company);

	ereport(ERROR,
			(errcode(ERRCODE_LM_STATUS_HIDDEN),
			 status ?
			 errmsg("cannot set lead status \"%s\" on a person whose company is not lead-enabled",
					status) :
			 errmsg("cannot clear the lead status of a person whose company is not lead-enabled"),
			 category ?
			 errdetail("Company %s has category \"%s\".",
					   LmCompanyKeyText(layout, company), category) :
			 errdetail("Company %s has no category.", LmCompanyKeyText(layout, company)),
			 errhint(LM_HINT_VISIBLE)));
	pg_unreachable();
}

/*
 * Rule B5: the person has no company.
 */
void
LmRefuseNoCompany(const char *status)
{
	ereport(ERROR,
			(errcode(ERRCODE_LM_NO_COMPANY),
			 status ?
			 errmsg("cannot set lead status \"%s\" on a person without a company", status) :
			 errmsg("cannot clear the lead status of a person without a company"),
			 errhint("Assign the person to a company whose category is lead-enabled, in the same statement or before.")));
	pg_unreachable();
}

/*
 * A visible status cannot be emptied: a person of a lead-enabled company
 * always has a status.
 */
void
LmRefuseClear(LmLayout *layout, Datum company)
{
	ereport(ERROR,
			(errcode(ERRCODE_NOT_NULL_VIOLATION),
			 errmsg("lead status of a person in lead-enabled company %s cannot be empty",
					LmCompanyKeyText(layout, company)),
			 errhint("Set another status instead. Valid lead statuses are: %s.", LmStatusList())));
	pg_unreachable();
}

/* ---- B5 refusals collected over a statement ---- */

/* distinct companies are counted up to this many */
#define LM_HIDDEN_COMPANIES_MAX 100000

typedef struct LmHiddenCompany
{
	char		key[NAMEDATALEN * 2];
} LmHiddenCompany;

typedef struct LmHidden
{
	MemoryContext cxt;
	LmLayout   *layout;
	int			level;			/* subtransaction level of the first note */
	int64		persons;
	HTAB	   *companies;
	bool		companies_capped;
	char	   *first_person;
	char	   *first_label;
	char	   *first_status;	/* NULL: a status cleared */
	Datum		first_company;
	char	   *first_company_text;
} LmHidden;

static LmHidden *hidden = NULL;

void
LmHiddenNote(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc,
			 const char *status, Datum company)
{
	LmLayout   *layout = rl->pair;
	MemoryContext old;
	char	   *company_text = LmCompanyKeyText(layout, company);
	LmHiddenCompany key;

	if (hidden == NULL)
	{
		MemoryContext cxt = AllocSetContextCreate(TopTransactionContext,
												  "lead_mgmt hidden persons",
												  ALLOCSET_SMALL_SIZES);
		HASHCTL		ctl;

		old = MemoryContextSwitchTo(cxt);
		hidden = palloc0(sizeof(LmHidden));
		hidden->cxt = cxt;
		hidden->layout = layout;
		hidden->level = GetCurrentTransactionNestLevel();
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(LmHiddenCompany);
		ctl.entrysize = sizeof(LmHiddenCompany);
		ctl.hcxt = cxt;
		hidden->companies = hash_create("lead_mgmt hidden companies", 64, &ctl,
										HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		hidden->first_person = SPI_getvalue(tuple, desc, rl->key_attno);
		hidden->first_label = rl->label_attno > 0 ? SPI_getvalue(tuple, desc, rl->label_attno) : NULL;
		hidden->first_status = status ? pstrdup(status) : NULL;
		hidden->first_company_text = pstrdup(company_text);
		hidden->first_company = datumCopy(company, layout->company_key_byval, layout->company_key_typlen);
		MemoryContextSwitchTo(old);
	}
	hidden->persons++;
	if (hash_get_num_entries(hidden->companies) < LM_HIDDEN_COMPANIES_MAX)
	{
		memset(&key, 0, sizeof(key));
		strlcpy(key.key, company_text, sizeof(key.key));
		(void) hash_search(hidden->companies, &key, HASH_ENTER, NULL);
	}
	else
		hidden->companies_capped = true;
}

void
LmHiddenReset(void)
{
	hidden = NULL;				/* its memory goes with TopTransactionContext */
}

/* The statement that noted refusals failed with its subtransaction. */
void
LmHiddenSubXactAbort(int level)
{
	if (hidden != NULL && hidden->level >= level)
		hidden = NULL;
}

/*
 * Raise the collected B5 refusal, if any.
 */
void
LmHiddenReport(void)
{
	LmHidden   *h = hidden;
	LmLayout   *layout;
	char	   *category;
	char	   *person;
	int64		companies;

	if (h == NULL)
		return;
	hidden = NULL;
	/* a shard's group, or the pair as it is now */
	layout = h->layout->shard ? h->layout : LmGetLayout();
	if (layout == NULL)
		layout = h->layout;
	if (h->persons == 1)
		LmRefuseHidden(layout, h->first_status, h->first_company);

	category = LmCompanyCategory(layout, h->first_company);
	companies = hash_get_num_entries(h->companies);
	person = h->first_label != NULL ?
		psprintf("%s (%s)", h->first_person ? h->first_person : "?",
				 quote_literal_cstr(h->first_label)) :
		pstrdup(h->first_person ? h->first_person : "?");
	ereport(ERROR,
			(errcode(ERRCODE_LM_STATUS_HIDDEN),
			 errmsg("cannot change the lead status of " INT64_FORMAT " persons of %s" INT64_FORMAT " %s whose category is not lead-enabled",
					h->persons, h->companies_capped ? "at least " : "", companies,
					companies == 1 ? "company" : "companies"),
			 errdetail("The first is person %s of company %s (%s), %s.",
					   person, h->first_company_text,
					   category ? psprintf("category \"%s\"", category) : "no category",
					   h->first_status ? psprintf("given status \"%s\"", h->first_status) :
					   "status cleared"),
			 errhint("Lead status is visible and editable only while the company's category is lead-enabled; restrict the statement to such companies, for example with: WHERE %s IN (SELECT %s FROM %s WHERE lead_mgmt.is_lead_enabled(%s))",
					 layout->person_company_q, layout->company_key_q,
					 layout->company_qname, layout->category_q)));
}
