/*
 * layout.h
 *		The registered company/person pair, the per-relation layouts of the
 *		relations lead_mgmt's triggers fire on, and the prepared statements
 *		lead_mgmt runs against the managed tables.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_LAYOUT_H
#define LEAD_MGMT_LAYOUT_H

#include "access/attnum.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/relcache.h"

#include "lead_mgmt.h"

/* Names of the triggers manage() installs. */
#define LM_TRG_PERSON_RULES		"lead_mgmt_person_rules"
#define LM_TRG_PERSON_PENDING	"lead_mgmt_person_pending"
#define LM_TRG_PERSON_CHANGES	"lead_mgmt_person_changes"
#define LM_TRG_PERSON_TRUNCATE	"lead_mgmt_person_truncate"
#define LM_TRG_COMPANY_CHANGES	"lead_mgmt_company_changes"
#define LM_TRG_COMPANY_TRUNCATE	"lead_mgmt_company_truncate"
#define LM_TRG_COMPANY_RULES	"lead_mgmt_company_rules"
#define LM_TRG_COMPANY_CASCADE	"lead_mgmt_company_cascade"
#define LM_TRG_COMPANY_PENDING	"lead_mgmt_company_pending"

typedef enum LmPlanId
{
	LM_PLAN_ENTRY_RESET,		/* persons of a company -> default */
	LM_PLAN_ENTRY_EMPTY,		/* persons of a company without status -> default */
	LM_PLAN_COUNT_HELD,			/* persons of a company holding a status */
	LM_PLAN_COUNT_AT,			/* persons of a company holding a given status */
	LM_PLAN_COMPANIES_OF_CATEGORY,	/* company keys of a category */
	LM_PLAN_CATEGORY_USERS,		/* number of companies of a category */
	LM_PLAN_STATUS_HOLDERS,		/* number of persons holding a status */
	LM_PLAN_PERSON_STATUS,		/* the status of one person of one company */
	LM_PLAN_PERSON_SET,			/* set the status of one person of one company */
	LM_PLAN_HISTORY_INSERT,		/* history rows from arrays (the sink's buffer) */
	LM_PLAN_HISTORY_HELD,		/* history rows for persons of a company holding a status */
	LM_PLAN_HISTORY_AT,			/* ... holding a given status */
	LM_PLAN_MERGE,				/* every holder of a status -> another one */
	LM_PLAN_COMPANY_ADVANCE,	/* a lead-enabled company -> another category */
	LM_PLAN_HISTORY_REKEY,		/* a person's history follows a new key */
	LM_PLAN_COUNT_GROUPS,		/* persons of a company by status and owner */
	LM_PLAN_COUNTS_READ,		/* the count summary of a kind, summed per key */
	LM_PLAN_COUNTS_COMPACT,		/* fold the count summary into one row per key */
	LM_PLAN_COUNTS_CLEAR,		/* delete the count summary's rows of some kinds */
	LM_PLAN_COUNTS_SEED,		/* the count summary recounted from the tables */
	LM_PLAN_COUNTS_SCAN_P,		/* persons per category and status, counted now */
	LM_PLAN_COUNTS_SCAN_O,		/* ... per owner too */
	LM_PLAN_COUNTS_SCAN_C,		/* companies per category, counted now */
	LM_NUM_PLANS
} LmPlanId;

typedef enum LmKeyConv
{
	LM_KEY_CONV_NONE,			/* same type, or binary-compatible */
	LM_KEY_CONV_FUNC,			/* a cast function (int4 -> int8) */
	LM_KEY_CONV_IO				/* through text */
} LmKeyConv;

/* The columns of lead_mgmt.count_delta. */
typedef enum LmCountColumn
{
	LM_CC_COMPANY,
	LM_CC_KIND,
	LM_CC_CATEGORY,
	LM_CC_STATUS,
	LM_CC_OWNER,
	LM_CC_N,
	LM_COUNT_COLUMNS
} LmCountColumn;

extern const char *const lm_count_columns[LM_COUNT_COLUMNS];

/* The columns of lead_mgmt.status_history, in the order manage() creates them. */
typedef enum LmHistoryColumn
{
	LM_HC_SEQ,
	LM_HC_COMPANY,
	LM_HC_PERSON,
	LM_HC_FROM,
	LM_HC_TO,
	LM_HC_EVENT,
	LM_HC_CATEGORY,
	LM_HC_CHANGED_AT,
	LM_HC_CHANGED_BY,
	LM_HC_SOURCE,
	LM_HC_VISIBLE,
	LM_HISTORY_COLUMNS
} LmHistoryColumn;

extern const char *const lm_history_columns[LM_HISTORY_COLUMNS];

/* The managed pair, as resolved from lead_mgmt.registration. */
typedef struct LmLayout
{
	/* company table */
	Oid			company_relid;
	Oid			company_pk_index;
	Oid			company_owner;
	AttrNumber	company_key_attno;
	AttrNumber	category_attno;
	Oid			company_key_type;
	Oid			company_key_collation;
	int16		company_key_typlen;
	bool		company_key_byval;
	RegProcedure company_key_eqproc;	/* btree equality of the key */
	bool		company_key_binary; /* equal keys are equal bytes */
	FmgrInfo	key_eq;
	FmgrInfo	key_out;

	/* person table */
	Oid			person_relid;
	Oid			person_owner;
	Oid			person_company_type;
	AttrNumber	person_key_attno;
	Oid			person_key_type;
	int16		person_key_typlen;
	bool		person_key_byval;

	/* whether every trigger of manage() is in place (else: not managed yet) */
	bool		rules_installed;

	/* person's company column -> company key type */
	LmKeyConv	key_conv;
	FmgrInfo	key_conv_func;
	FmgrInfo	person_key_out;
	FmgrInfo	key_in;
	Oid			key_in_ioparam;

	/*
	 * A layout of the shards of one hash range on this node (Citus): the
	 * relations above and below are the shards, named as such in generated
	 * SQL; a trigger on a shard works on them as on a single server.
	 */
	bool		shard;

	/* names for generated SQL and messages */
	char	   *company_qname;
	char	   *person_qname;
	char	   *history_qname;	/* lead_mgmt.status_history, or its shard */
	char	   *counts_qname;	/* lead_mgmt.count_delta, or its shard */
	char	   *category_catalog_qname;	/* lead_mgmt.category, or this node's copy */
	char	   *company_key_q;
	char	   *category_q;
	char	   *person_company_q;	/* as compared with a company key */
	char	   *person_key_q;
	char	   *status_q;
	char	   *label_q;		/* NULL when not configured */
	char	   *owner_q;		/* NULL when not configured (or dropped) */
	bool		has_owner;
	char	   *key_eq_op;		/* OPERATOR(schema.=) for key = person column */
	char	   *person_key_eq_op;	/* OPERATOR(schema.=) of the person key type */
	char	   *company_key_eq_op;	/* OPERATOR(schema.=) of the company key type */
	bool		person_key_has_company; /* the person key is (company, id) */

	/* lead_mgmt.status_history, when manage() has created it */
	Oid			history_relid;
	Oid			history_owner;
	Oid			history_seq;	/* the sequence of its seq column */
	bool		history_direct; /* rows appended directly (direct.c), not by SQL */
	AttrNumber	history_att[LM_HISTORY_COLUMNS];	/* by LmHistoryColumn */

	/* lead_mgmt.count_delta, when manage() has created it */
	Oid			counts_relid;
	Oid			counts_index;	/* its index on kind, or InvalidOid */
	bool		counts_direct;	/* a local table: deltas appended directly */
	Oid			counts_owner;
	AttrNumber	counts_att[LM_COUNT_COLUMNS];	/* by LmCountColumn */
	int64		history_seq_step;	/* its increment: numbers per nextval */
	Oid			event_type;		/* lead_mgmt.history_event */
	Datum		event_values[7];	/* its values, by LmEvent */

	SPIPlanPtr	plans[LM_NUM_PLANS];
} LmLayout;

typedef enum LmTableRole
{
	LM_ROLE_COMPANY,
	LM_ROLE_PERSON
} LmTableRole;

/*
 * The columns of one relation a trigger fires on, resolved by name in that
 * relation (its column numbers need not be those of the registered table).
 */
typedef struct LmRelLayout
{
	Oid			relid;			/* hash key */
	LmTableRole role;
	bool		valid;
	LmLayout   *pair;
	AttrNumber	key_attno;		/* company: key; person: person key */
	AttrNumber	company_attno;	/* person: the company column */
	AttrNumber	status_attno;	/* person: lead status; company: category */
	AttrNumber	label_attno;	/* person: label column, or 0 */
	AttrNumber	owner_attno;	/* person: owner column, or 0 */
	FmgrInfo	owner_out;		/* its output function */
	bool		shard;			/* a shard of the managed table (Citus) */
} LmRelLayout;

extern LmLayout *LmGetLayout(void);
extern char *LmRelQualifiedName(Relation rel);
extern List *LmLocalShardLayouts(void);
extern LmRelLayout *LmGetRelLayout(TriggerData *trigdata, LmTableRole role,
								   const char *funcname);
extern LmTableRole LmTriggerRole(TriggerData *trigdata, LmTableRole fallback);
extern void LmLayoutInvalidate(void);
extern void LmLayoutInvalidateRel(Oid relid);
extern void LmLayoutXactEnd(void);

extern char *LmOperatorSql(Oid opoid);
extern char *LmPersonOwnerText(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc);
extern Oid	LmRelOwner(Oid relid);
extern char *LmCompanyKeyText(LmLayout *layout, Datum key);
extern Datum LmPersonCompanyKey(LmLayout *layout, Datum value);
extern bool LmCompanyKeyEqual(LmLayout *layout, Datum a, Datum b);
extern uint64 LmExecuteAsCaller(LmLayout *layout, LmPlanId id);
extern uint64 LmExecuteAsOwner(LmLayout *layout, LmPlanId id, Datum *values,
							   const char *nulls, bool own_query);
extern int64 LmCountAsOwner(LmLayout *layout, LmPlanId id, Datum *values);

#endif							/* LEAD_MGMT_LAYOUT_H */
