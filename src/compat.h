/*
 * compat.h
 *		Shims for the PostgreSQL versions lead_mgmt builds against (13-17).
 *
 * Every version-dependent spelling lives here so that the rest of the code
 * reads like current PostgreSQL.
 */
#ifndef LEAD_MGMT_COMPAT_H
#define LEAD_MGMT_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000
#error "lead_mgmt needs PostgreSQL 13 or later"
#endif

/* MarkGUCPrefixReserved() replaced EmitWarningsOnPlaceholders() in 15 */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* pg_class_ownercheck() became object_ownercheck() in 16 */
#if PG_VERSION_NUM >= 160000
#define LmTableOwnercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define LmTableOwnercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

#endif							/* LEAD_MGMT_COMPAT_H */
