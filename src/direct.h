/*
 * direct.h
 *		Rows appended to lead_mgmt's own tables without planning a statement.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_DIRECT_H
#define LEAD_MGMT_DIRECT_H

#include "executor/executor.h"
#include "utils/rel.h"

#include "lead_mgmt.h"

typedef struct LmDirect
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	CommandId	cid;
	bool		pushed;			/* pushed an active snapshot */
} LmDirect;

/* Whether rows of the relation may be appended directly (a local heap table). */
extern bool LmDirectAllowed(Oid relid);

extern void LmDirectOpen(LmDirect *d, Oid relid);
extern void LmDirectInsert(LmDirect *d, Datum *values, bool *nulls);
extern void LmDirectClose(LmDirect *d);

#endif							/* LEAD_MGMT_DIRECT_H */
