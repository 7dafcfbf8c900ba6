/*
 * citus.c
 *		What lead_mgmt needs to know of a Citus cluster: whether a table's
 *		rows live in shards, and which shards of the managed tables lie
 *		together with the shard a trigger fires on.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * lead_mgmt does not link against Citus.  It reads Citus's metadata tables
 * (pg_dist_partition, pg_dist_shard) and calls its SQL function shard_name()
 * through SPI, only when the citus extension is installed in the database,
 * and only while building a layout (the result is cached with it).
 *
 * On a distributed table a trigger fires on a shard: a plain table on one
 * node, named after the table with the shard's number appended.  The rows
 * of the same company key of every co-located table (company, person,
 * status history, count summary) are in the shards with the same hash
 * range, on the same node: a trigger on a shard works on those shards
 * directly, as on a single server.
 */
#include "postgres.h"

#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

#include "citus.h"

bool
LmCitusInstalled(void)
{
	return OidIsValid(get_extension_oid("citus", true));
}

/*
 * Whether this node is a Citus worker (not the coordinator): DDL reaching it
 * was decided on the coordinator, which keeps the registration and views.
 */
bool
LmCitusWorker(void)
{
	int			ret;
	bool		worker = false;
	bool		isnull;

	if (!LmCitusInstalled())
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute("SELECT groupid OPERATOR(pg_catalog.<>) 0 FROM pg_catalog.pg_dist_local_group", true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
		worker = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) && !isnull;
	SPI_finish();
	return worker;
}

/*
 * Whether Citus keeps the rows of the relation in shards (a distributed or
 * reference table): the relation itself is then an empty shell.
 */
bool
LmCitusTable(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	int			ret;
	bool		found;

	if (!LmCitusInstalled())
		return false;
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition"
								" WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
								1, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/*
 * The shard number at the end of a shard's name ("person_102042"), or 0
 * when the name does not end in one.
 */
int64
LmCitusShardIdOf(const char *relname)
{
	const char *p = strrchr(relname, '_');
	int64		id = 0;

	if (p == NULL || p[1] == '\0')
		return 0;
	for (p++; *p != '\0'; p++)
	{
		if (*p < '0' || *p > '9' || id > (PG_INT64_MAX - 9) / 10)
			return 0;
		id = id * 10 + (*p - '0');
	}
	return id;
}

/*
 * The OID of shard shardid of relation rel (a table, or an index of one) on
 * this node, InvalidOid when it is not here.  Citus names it after the
 * relation with "_<shardid>" appended; a name that would be too long is
 * shortened, and Citus's shard_name() says how.  Inside an SPI connection.
 */
static Oid
LmCitusShardRelid(Oid rel, int64 shardid)
{
	char	   *name = psprintf("%s_" INT64_FORMAT, get_rel_name(rel), shardid);
	Oid			argtypes[2] = {OIDOID, INT8OID};
	Datum		values[2];
	bool		isnull;
	int			ret;

	if (strlen(name) < NAMEDATALEN)
		return get_relname_relid(name, get_rel_namespace(rel));
	values[0] = ObjectIdGetDatum(rel);
	values[1] = Int64GetDatum(shardid);
	ret = SPI_execute_with_args("SELECT pg_catalog.shard_name($1::pg_catalog.regclass, $2, false)",
								2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pg_catalog.shard_name() failed: %s", SPI_result_code_string(ret));
	name = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return RangeVarGetRelid(makeRangeVarFromNameList(textToQualifiedNameList(cstring_to_text(name))),
							NoLock, true);
}

/*
 * This node's copy of a reference table (its only shard), InvalidOid when
 * the table is not a Citus table or has no copy here.
 */
Oid
LmCitusLocalPlacement(Oid relid)
{
	List	   *shards = OidIsValid(relid) ? LmCitusLocalShards(relid) : NIL;

	return shards != NIL ? linitial_oid(shards) : InvalidOid;
}

/*
 * The shards on this node co-located with shard shardid of table
 * shard_of: for each of the n relations rels[] (distributed tables
 * co-located with it, or an index of one; InvalidOid is skipped), the OID
 * of its shard in the same hash range, InvalidOid where there is none here.
 * False when shardid is not a shard of shard_of.
 */
bool
LmCitusColocatedShards(Oid shard_of, int64 shardid, int n, const Oid *rels, Oid *shards)
{
	Oid			argtypes[3] = {INT8OID, OIDOID, OIDOID};
	Datum		values[3];
	int			ret;
	int			i;
	bool		ok = true;

	for (i = 0; i < n; i++)
		shards[i] = InvalidOid;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = Int64GetDatum(shardid);
	values[1] = ObjectIdGetDatum(shard_of);
	values[2] = (Datum) 0;
	ret = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_shard"
								" WHERE shardid OPERATOR(pg_catalog.=) $1"
								"   AND logicalrelid OPERATOR(pg_catalog.=) $2::pg_catalog.regclass",
								2, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ok = false;
	for (i = 0; ok && i < n; i++)
	{
		Oid			table = rels[i];
		bool		isnull;

		if (!OidIsValid(table))
			continue;
		/* an index is named after its table's shard, with the same number */
		if (get_rel_relkind(table) == RELKIND_INDEX)
			table = IndexGetRelation(rels[i], false);
		values[2] = ObjectIdGetDatum(table);
		ret = SPI_execute_with_args("SELECT s.shardid FROM pg_catalog.pg_dist_shard me"
									"  JOIN pg_catalog.pg_dist_shard s"
									"    ON s.shardminvalue OPERATOR(pg_catalog.=) me.shardminvalue"
									" WHERE me.shardid OPERATOR(pg_catalog.=) $1"
									"   AND me.logicalrelid OPERATOR(pg_catalog.=) $2::pg_catalog.regclass"
									"   AND s.logicalrelid OPERATOR(pg_catalog.=) $3::pg_catalog.regclass",
									3, argtypes, values, NULL, true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
		if (SPI_processed == 0)
			continue;
		shards[i] = LmCitusShardRelid(rels[i],
									  DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
																  SPI_tuptable->tupdesc, 1, &isnull)));
	}
	SPI_finish();
	return ok;
}

/*
 * The shards of table relid placed on this node, as a list of OIDs (in
 * the caller's memory context).
 */
List *
LmCitusLocalShards(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	MemoryContext caller = CurrentMemoryContext;
	List	   *ids = NIL;
	List	   *shards = NIL;
	ListCell   *lc;
	int			ret;
	uint64		i;

	if (!LmCitusInstalled())
		return NIL;
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT s.shardid FROM pg_catalog.pg_dist_shard s"
								"  JOIN pg_catalog.pg_dist_placement p ON p.shardid OPERATOR(pg_catalog.=) s.shardid"
								" WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
								"   AND p.groupid OPERATOR(pg_catalog.=)"
								"       (SELECT groupid FROM pg_catalog.pg_dist_local_group)"
								" ORDER BY s.shardid",
								1, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext old = MemoryContextSwitchTo(caller);
		int64	   *p = palloc(sizeof(int64));

		*p = id;
		ids = lappend(ids, p);
		MemoryContextSwitchTo(old);
	}
	foreach(lc, ids)
	{
		Oid			shard = LmCitusShardRelid(relid, *(int64 *) lfirst(lc));

		if (OidIsValid(shard))
		{
			MemoryContext old = MemoryContextSwitchTo(caller);

			shards = lappend_oid(shards, shard);
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	return shards;
}
