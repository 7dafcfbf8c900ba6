/*
 * history.c
 *		lead_mgmt.status_history is append-only (rule H1): its guard, and
 *		lead_mgmt.purge_history(), the one way to remove rows; rows follow
 *		a person whose key changes.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * The table is created by manage() (see manage.c) and written by the
 * change sink (sink.c) as its owner; nobody else has any right on it but
 * SELECT.  Even its owner cannot update or delete rows: the guard refuses,
 * except for purge_history(), which only lead_mgmt_admin may call.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "layout.h"
#include "sink.h"

PG_FUNCTION_INFO_V1(lm_history_guard);
PG_FUNCTION_INFO_V1(lm_purge_history);

/* > 0 while purge_history() deletes, or a person's rows follow a new key */
static int	purging = 0;
static int	rekeying = 0;

/*
 * BEFORE UPDATE OR DELETE (row) and BEFORE TRUNCATE (statement) ON
 * lead_mgmt.status_history.
 */
Datum
lm_history_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.history_guard() was not called by the trigger manager")));
	if (purging > 0 && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);
	if (rekeying > 0 && TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_newtuple);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("lead_mgmt.status_history is append-only"),
			 errdetail("Status history records every change; its rows are not updated, deleted or truncated."),
			 errhint("A member of lead_mgmt_admin removes old rows with SELECT lead_mgmt.purge_history(before => ...);")));
	PG_RETURN_NULL();
}

/*
 * lead_mgmt.purge_history(before timestamptz) RETURNS bigint: delete the
 * history rows changed before the given time; the number deleted.
 */
Datum
lm_purge_history(PG_FUNCTION_ARGS)
{
	TimestampTz before = PG_GETARG_TIMESTAMPTZ(0);
	Oid			history = get_relname_relid("status_history", LmGetOids()->schema);
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	Datum		args[1];
	Oid			save_userid;
	int			save_sec_context;
	volatile int ret = 0;
	uint64		n;

	LmCheckAdmin("purge_history");
	if (!OidIsValid(history))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("lead_mgmt.status_history does not exist"),
				 errhint("lead_mgmt.manage() creates it.")));
	args[0] = TimestampTzGetDatum(before);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(LmRelOwner(history), save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	purging++;
	PG_TRY();
	{
		ret = SPI_execute_with_args("DELETE FROM lead_mgmt.status_history"
									" WHERE changed_at OPERATOR(pg_catalog.<) $1",
									1, argtypes, args, NULL, false, 0);
	}
	PG_FINALLY();
	{
		purging--;
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	n = SPI_processed;
	SPI_finish();
	PG_RETURN_INT64((int64) n);
}

/*
 * A person's key changed (or, for a key of (company, id), the company was
 * renumbered): the person's history rows follow the new key, as a foreign
 * key with ON UPDATE CASCADE would, so that history keeps replaying.
 */
void
LmHistoryRekey(LmLayout *layout, Datum old_person, Datum new_person,
			   Datum old_company, Datum new_company)
{
	Datum		values[4];

	/* rows this statement buffered for the old key are written first */
	LmSinkFlush();
	values[0] = old_person;
	values[1] = new_person;
	values[2] = old_company;
	values[3] = new_company;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rekeying++;
	PG_TRY();
	{
		(void) LmExecuteAsOwner(layout, LM_PLAN_HISTORY_REKEY, values, NULL, true);
	}
	PG_FINALLY();
	{
		rekeying--;
	}
	PG_END_TRY();
	SPI_finish();
}
