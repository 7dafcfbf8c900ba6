/*
 * labels.c
 *		The session's label language, and the refusal of unknown keys, for
 *		the label functions (lead_mgmt.status_name() and friends).
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * The label functions are SQL functions the planner inlines into the
 * queries (and views) that call them; they call lead_mgmt.current_language()
 * per statement, which also loads this library, so that lead_mgmt.language
 * is checked from the first label a session reads.
 */
#include "postgres.h"

#include "utils/builtins.h"

#include "catalog_cache.h"

PG_FUNCTION_INFO_V1(lm_current_language);
PG_FUNCTION_INFO_V1(lm_unknown_key);

/*
 * lead_mgmt.current_language() RETURNS text: lead_mgmt.language, with the
 * common code no taken as Norwegian Bokmål (nb).
 */
Datum
lm_current_language(PG_FUNCTION_ARGS)
{
	const char *language = lm_language != NULL ? lm_language : "en";

	if (strcmp(language, "no") == 0)
		language = "nb";
	PG_RETURN_TEXT_P(cstring_to_text(language));
}

/*
 * lead_mgmt.unknown_key(what text, key text) RETURNS text: raises the
 * error for a key the label functions do not know.
 */
Datum
lm_unknown_key(PG_FUNCTION_ARGS)
{
	const char *what = PG_ARGISNULL(0) ? "key" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *key = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		status = strcmp(what, "lead status") == 0;

	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("%s \"%s\" does not exist", what, key),
			 errhint("Valid %s are: %s.", status ? "lead statuses" : "categories",
					 status ? LmStatusList() : LmCategoryList())));
	PG_RETURN_NULL();
}
