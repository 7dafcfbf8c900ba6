/*
 * citus.h
 *		What lead_mgmt needs to know of a Citus cluster (see citus.c).
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_CITUS_H
#define LEAD_MGMT_CITUS_H

#include "nodes/pg_list.h"

extern bool LmCitusInstalled(void);
extern bool LmCitusTable(Oid relid);
extern bool LmCitusWorker(void);
extern int64 LmCitusShardIdOf(const char *relname);
extern Oid	LmCitusLocalPlacement(Oid relid);
extern List *LmCitusLocalShards(Oid relid);
extern bool LmCitusColocatedShards(Oid shard_of, int64 shardid, int n, const Oid *rels,
								   Oid *shards);

#endif							/* LEAD_MGMT_CITUS_H */
