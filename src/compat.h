/*
 * compat.h
 *		Shims for the PostgreSQL versions lead_mgmt builds against (15-18).
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * Every version-dependent spelling lives here so that the rest of the code
 * reads like current PostgreSQL.  13 and 14 are end of life.
 */
#ifndef LEAD_MGMT_COMPAT_H
#define LEAD_MGMT_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "lead_mgmt needs PostgreSQL 15 or later"
#endif

/* pg_class_ownercheck() became object_ownercheck() in 16 */
#if PG_VERSION_NUM >= 160000
#define LmTableOwnercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define LmTableOwnercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

/* getIdentitySequence() takes the relation instead of its OID from 17 */
#if PG_VERSION_NUM >= 170000
#define LmIdentitySequence(relid, attnum) \
	LmIdentitySequence17((relid), (attnum))
#include "access/table.h"
#include "catalog/dependency.h"
static inline Oid
LmIdentitySequence17(Oid relid, AttrNumber attnum)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Oid			seq = getIdentitySequence(rel, attnum, true);

	table_close(rel, AccessShareLock);
	return seq;
}
#else
#define LmIdentitySequence(relid, attnum) getIdentitySequence((relid), (attnum), true)
#endif

/* ExecInsertIndexTuples() gained onlySummarizing in 16 */
#if PG_VERSION_NUM >= 160000
#define LmExecInsertIndexTuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL, false)
#else
#define LmExecInsertIndexTuples(rri, slot, estate) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, false, NULL, NIL)
#endif

/* index_beginscan() gained an instrumentation argument in 18 */
#if PG_VERSION_NUM >= 180000
#define LmIndexBeginScan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), 0)
#else
#define LmIndexBeginScan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), 0)
#endif

#endif							/* LEAD_MGMT_COMPAT_H */
