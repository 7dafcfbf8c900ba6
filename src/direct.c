/*
 * direct.c
 *		Rows appended to lead_mgmt's own tables (status history, the count
 *		summary) without planning and running an INSERT statement.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * The change sink writes a few rows at the end of almost every transaction
 * that writes persons; through SPI, each INSERT costs an executor start-up
 * that is most of a single-row transaction's overhead.  These tables are
 * lead_mgmt's own (created by manage(), written by nobody else but
 * lead_mgmt_admin's imports), have no triggers on INSERT and no constraints
 * but NOT NULL, which the sink respects: so the rows go to the table and its
 * indexes the way COPY puts them there.  Where the table is not a local heap
 * table (a distributed cluster routes its rows), the caller uses SQL.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "citus.h"
#include "direct.h"

bool
LmDirectAllowed(Oid relid)
{
	/*
	 * A table Citus distributes is an empty shell whose rows live in shards:
	 * SQL routes them there.  A shard itself is a plain local table.
	 */
	return get_rel_relkind(relid) == RELKIND_RELATION && !LmCitusTable(relid);
}

void
LmDirectOpen(LmDirect *d, Oid relid)
{
	/* at commit, no snapshot may be active: index checks want one */
	d->pushed = !ActiveSnapshotSet();
	if (d->pushed)
		PushActiveSnapshot(GetTransactionSnapshot());
	d->rel = table_open(relid, RowExclusiveLock);
	d->estate = CreateExecutorState();
	d->estate->es_snapshot = GetActiveSnapshot();
	d->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(d->rri, d->rel, 1, NULL, 0);
	ExecOpenIndices(d->rri, false);
	d->slot = table_slot_create(d->rel, NULL);
	d->cid = GetCurrentCommandId(true);
}

/* Append one row; values and nulls by column number, every column given. */
void
LmDirectInsert(LmDirect *d, Datum *values, bool *nulls)
{
	TupleTableSlot *slot = d->slot;
	int			natts = RelationGetDescr(d->rel)->natts;

	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, natts * sizeof(Datum));
	memcpy(slot->tts_isnull, nulls, natts * sizeof(bool));
	ExecStoreVirtualTuple(slot);
	table_tuple_insert(d->rel, slot, d->cid, 0, NULL);
	if (d->rri->ri_NumIndices > 0)
		(void) LmExecInsertIndexTuples(d->rri, slot, d->estate);
	ResetPerTupleExprContext(d->estate);
}

void
LmDirectClose(LmDirect *d)
{
	ExecCloseIndices(d->rri);
	ExecDropSingleTupleTableSlot(d->slot);
	FreeExecutorState(d->estate);
	table_close(d->rel, NoLock);
	if (d->pushed)
		PopActiveSnapshot();
}
