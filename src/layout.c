/*
 * layout.c
 *		The registered company/person pair: column numbers, key type support
 *		and the prepared statements lead_mgmt runs against those tables.
 *
 * The registration stores names (schema, table, columns), never OIDs, so it
 * survives dump and restore.  The layout is resolved from those names and
 * rebuilt whenever either table, or the registration, is invalidated, so an
 * ALTER TABLE between statements simply works.  A renamed or dropped managed
 * column is reported with a hint instead of being guessed.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "parser/parse_coerce.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "lead_mgmt.h"

static LmLayout *layout = NULL;
static MemoryContext layout_cxt = NULL;
static bool layout_valid = false;
static bool layout_managed = false;
static uint64 layout_inval_count = 0;

/* OIDs of the current layout, readable from the invalidation callback */
static Oid	layout_company_relid = InvalidOid;
static Oid	layout_person_relid = InvalidOid;

/* layouts replaced during this transaction, freed at its end */
typedef struct LmRetired
{
	LmLayout   *layout;
	MemoryContext cxt;
	struct LmRetired *next;
} LmRetired;

static LmRetired *retired = NULL;

static void
LmLayoutRetire(LmLayout *l, MemoryContext cxt)
{
	LmRetired  *r = MemoryContextAlloc(TopMemoryContext, sizeof(LmRetired));

	r->layout = l;
	r->cxt = cxt;
	r->next = retired;
	retired = r;
}

/*
 * Free the layouts retired during the transaction that is ending.
 */
void
LmLayoutXactEnd(void)
{
	while (retired != NULL)
	{
		LmRetired  *r = retired;
		int			i;

		retired = r->next;
		for (i = 0; i < LM_NUM_PLANS; i++)
			if (r->layout->plans[i] != NULL)
				SPI_freeplan(r->layout->plans[i]);
		MemoryContextDelete(r->cxt);
		pfree(r);
	}
}

void
LmLayoutInvalidate(void)
{
	layout_valid = false;
	layout_inval_count++;
}

bool
LmLayoutMatches(Oid relid)
{
	return OidIsValid(relid) &&
		(relid == layout_company_relid || relid == layout_person_relid);
}

typedef struct LmRegistration
{
	char	   *names[9];
} LmRegistration;

enum
{
	REG_COMPANY_SCHEMA,
	REG_COMPANY_TABLE,
	REG_COMPANY_KEY,
	REG_PERSON_SCHEMA,
	REG_PERSON_TABLE,
	REG_PERSON_KEY,
	REG_COMPANY_COLUMN,
	REG_CATEGORY_COLUMN,
	REG_STATUS_COLUMN
};

/*
 * Read the registration row with the latest snapshot; false when nothing is
 * managed.  Strings are palloc'd in the caller's context.
 */
static bool
LmReadRegistration(LmRegistration *reg)
{
	SPIPlanPtr	plan;
	int			ret;
	int			i;
	bool		found = false;
	MemoryContext caller = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare("SELECT company_schema, company_table, company_key,"
					   "       person_schema, person_table, person_key,"
					   "       company_column, category_column, lead_status_column"
					   "  FROM lead_mgmt.registration", 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	ret = SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(),
							   InvalidSnapshot, true, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		for (i = 0; i < 9; i++)
			reg->names[i] = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1);
		MemoryContextSwitchTo(spi);
		found = true;
	}
	SPI_finish();
	return found;
}

static Oid
LmResolveTable(const char *schema, const char *table, const char *role)
{
	Oid			ns = get_namespace_oid(schema, true);
	Oid			relid = OidIsValid(ns) ? get_relname_relid(table, ns) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the managed %s table %s does not exist",
						role, quote_qualified_identifier(schema, table)),
				 errhint("Run SELECT lead_mgmt.unmanage(); to clear the registration, then manage() the tables again.")));
	return relid;
}

static AttrNumber
LmResolveColumn(Relation rel, const char *column, const char *role, bool texty)
{
	AttrNumber	attno = get_attnum(RelationGetRelid(rel), column);
	Oid			type;

	if (attno == InvalidAttrNumber || attno < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" (the %s column) of managed table %s does not exist",
						column, role,
						quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												   RelationGetRelationName(rel))),
				 errhint("It was renamed or dropped. Run SELECT lead_mgmt.unmanage(); and manage() the tables again with the new column names.")));
	type = getBaseType(TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid);
	if (texty && type != TEXTOID && type != VARCHAROID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of managed table %s has type %s, but lead_mgmt needs text",
						column, RelationGetRelationName(rel), format_type_be(type)),
				 errhint("Change the column back to text.")));
	return attno;
}

/*
 * Resolve the registration against the live tables.
 */
static void
LmLayoutBuild(MemoryContext cxt, LmLayout *l, LmRegistration *reg)
{
	Relation	crel;
	Relation	prel;
	Relation	idx;
	Oid			opfamily;
	Oid			opcintype;
	Oid			eqop;
	Oid			outfunc;
	bool		varlena;
	TypeCacheEntry *typentry;
	MemoryContext old;

	l->company_relid = LmResolveTable(reg->names[REG_COMPANY_SCHEMA],
									  reg->names[REG_COMPANY_TABLE], "company");
	l->person_relid = LmResolveTable(reg->names[REG_PERSON_SCHEMA],
									 reg->names[REG_PERSON_TABLE], "person");

	crel = table_open(l->company_relid, AccessShareLock);
	prel = table_open(l->person_relid, AccessShareLock);

	if (crel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("managed company table \"%s\" does not use the heap access method",
						RelationGetRelationName(crel))));
	l->company_owner = crel->rd_rel->relowner;
	l->person_owner = prel->rd_rel->relowner;
	l->company_key_attno = LmResolveColumn(crel, reg->names[REG_COMPANY_KEY], "key", false);
	l->category_attno = LmResolveColumn(crel, reg->names[REG_CATEGORY_COLUMN], "category", true);
	l->person_company_attno = LmResolveColumn(prel, reg->names[REG_COMPANY_COLUMN], "company", false);
	l->status_attno = LmResolveColumn(prel, reg->names[REG_STATUS_COLUMN], "lead status", true);
	l->company_key_type = TupleDescAttr(RelationGetDescr(crel), l->company_key_attno - 1)->atttypid;
	l->person_company_type = TupleDescAttr(RelationGetDescr(prel), l->person_company_attno - 1)->atttypid;
	get_typlenbyval(l->company_key_type, &l->company_key_typlen, &l->company_key_byval);

	/* the primary key index of the company table, for direct lookups */
	l->company_pk_index = RelationGetPrimaryKeyIndex(crel);
	if (!OidIsValid(l->company_pk_index))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("managed company table \"%s\" has no primary key",
						RelationGetRelationName(crel)),
				 errhint("Restore its primary key on column \"%s\".", reg->names[REG_COMPANY_KEY])));
	idx = index_open(l->company_pk_index, AccessShareLock);
	if (idx->rd_index->indnkeyatts != 1 ||
		idx->rd_index->indkey.values[0] != l->company_key_attno)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("primary key of managed company table \"%s\" is no longer column \"%s\"",
						RelationGetRelationName(crel), reg->names[REG_COMPANY_KEY]),
				 errhint("Run SELECT lead_mgmt.unmanage(); and manage() the tables again.")));
	opfamily = idx->rd_opfamily[0];
	opcintype = idx->rd_opcintype[0];
	l->company_key_collation = idx->rd_indcollation[0];
	index_close(idx, AccessShareLock);
	eqop = get_opfamily_member(opfamily, opcintype, opcintype, BTEqualStrategyNumber);
	if (!OidIsValid(eqop))
		elog(ERROR, "no equality operator for the primary key of \"%s\"",
			 RelationGetRelationName(crel));
	l->company_key_eqproc = get_opcode(eqop);

	typentry = lookup_type_cache(l->company_key_type,
								 TYPECACHE_HASH_PROC_FINFO | TYPECACHE_EQ_OPR_FINFO);
	if (!OidIsValid(typentry->hash_proc) || !OidIsValid(typentry->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("type %s of the company key cannot be hashed",
						format_type_be(l->company_key_type))));
	fmgr_info_copy(&l->key_hash, &typentry->hash_proc_finfo, cxt);
	fmgr_info_copy(&l->key_eq, &typentry->eq_opr_finfo, cxt);
	getTypeOutputInfo(l->company_key_type, &outfunc, &varlena);
	fmgr_info_cxt(outfunc, &l->key_out, cxt);

	/* converting the person's company column to the key type */
	if (l->person_company_type == l->company_key_type)
		l->key_conv = LM_KEY_CONV_NONE;
	else
	{
		Oid			funcid = InvalidOid;
		CoercionPathType path = find_coercion_pathway(l->company_key_type,
													  l->person_company_type,
													  COERCION_EXPLICIT, &funcid);

		if (path == COERCION_PATH_RELABELTYPE)
			l->key_conv = LM_KEY_CONV_NONE;
		else if (path == COERCION_PATH_FUNC && get_func_nargs(funcid) == 1)
		{
			l->key_conv = LM_KEY_CONV_FUNC;
			fmgr_info_cxt(funcid, &l->key_conv_func, cxt);
		}
		else
		{
			Oid			infunc;

			l->key_conv = LM_KEY_CONV_IO;
			getTypeOutputInfo(l->person_company_type, &outfunc, &varlena);
			fmgr_info_cxt(outfunc, &l->person_key_out, cxt);
			getTypeInputInfo(l->company_key_type, &infunc, &l->key_in_ioparam);
			fmgr_info_cxt(infunc, &l->key_in, cxt);
		}
	}

	/* the rules are live once manage() has created the triggers */
	l->rules_installed = OidIsValid(get_trigger_oid(l->person_relid,
													"lead_mgmt_person_rules", true));

	old = MemoryContextSwitchTo(cxt);
	l->company_qname = quote_qualified_identifier(reg->names[REG_COMPANY_SCHEMA],
												  reg->names[REG_COMPANY_TABLE]);
	l->person_qname = quote_qualified_identifier(reg->names[REG_PERSON_SCHEMA],
												 reg->names[REG_PERSON_TABLE]);
	l->company_key_q = pstrdup(quote_identifier(reg->names[REG_COMPANY_KEY]));
	l->category_q = pstrdup(quote_identifier(reg->names[REG_CATEGORY_COLUMN]));
	l->person_company_q = pstrdup(quote_identifier(reg->names[REG_COMPANY_COLUMN]));
	l->status_q = pstrdup(quote_identifier(reg->names[REG_STATUS_COLUMN]));
	MemoryContextSwitchTo(old);

	table_close(prel, AccessShareLock);
	table_close(crel, AccessShareLock);
}

/*
 * A new layout in a memory context of its own (freed again on error).
 */
static LmLayout *
LmLayoutCreate(LmRegistration *reg, MemoryContext *cxt_out)
{
	MemoryContext cxt = AllocSetContextCreate(CacheMemoryContext, "lead_mgmt layout",
											  ALLOCSET_SMALL_SIZES);
	LmLayout   *fresh = MemoryContextAllocZero(cxt, sizeof(LmLayout));

	PG_TRY();
	{
		LmLayoutBuild(cxt, fresh, reg);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	*cxt_out = cxt;
	return fresh;
}

/*
 * The current layout, or NULL when no tables are managed.
 */
LmLayout *
LmGetLayout(void)
{
	while (!layout_valid)
	{
		uint64		before = layout_inval_count;
		LmRegistration reg;
		MemoryContext cxt = NULL;
		LmLayout   *fresh = NULL;
		bool		managed;

		managed = LmReadRegistration(&reg);
		if (managed)
			fresh = LmLayoutCreate(&reg, &cxt);
		if (before != layout_inval_count)
		{
			if (cxt != NULL)
				MemoryContextDelete(cxt);
			continue;
		}

		/*
		 * Install.  The previous layout may still be in use by a trigger
		 * further up the stack (a cascade fires the person trigger, which
		 * can land here), so it is retired, and freed at transaction end.
		 */
		if (layout != NULL)
			LmLayoutRetire(layout, layout_cxt);
		layout = fresh;
		layout_cxt = cxt;
		layout_managed = managed;
		layout_company_relid = managed ? fresh->company_relid : InvalidOid;
		layout_person_relid = managed ? fresh->person_relid : InvalidOid;
		layout_valid = true;
	}
	return layout_managed ? layout : NULL;
}

/*
 * SQL text of a prepared statement, with its parameter types.
 */
static char *
LmPlanSql(LmLayout *l, LmPlanId id, Oid *argtypes, int *nargs)
{
	StringInfoData sql;
	Oid			key_array = get_array_type(l->company_key_type);

	initStringInfo(&sql);
	switch (id)
	{
		case LM_PLAN_ENTRY_RESET:
		case LM_PLAN_ENTRY_RESTORE:
		case LM_PLAN_ENTRY_RESET_MANY:
		case LM_PLAN_ENTRY_RESTORE_MANY:
			{
				bool		many = (id == LM_PLAN_ENTRY_RESET_MANY ||
									id == LM_PLAN_ENTRY_RESTORE_MANY);
				bool		reset = (id == LM_PLAN_ENTRY_RESET ||
									 id == LM_PLAN_ENTRY_RESET_MANY);

				appendStringInfo(&sql, "UPDATE %s SET %s = $2 WHERE %s OPERATOR(pg_catalog.=) %s",
								 l->person_qname, l->status_q, l->person_company_q,
								 many ? "ANY ($1)" : "$1");
				if (reset)
					appendStringInfo(&sql, " AND (%s IS NULL OR %s OPERATOR(pg_catalog.<>) $2)",
									 l->status_q, l->status_q);
				else
					appendStringInfo(&sql, " AND %s IS NULL", l->status_q);
				argtypes[0] = many ? key_array : l->company_key_type;
				argtypes[1] = TEXTOID;
				*nargs = 2;
				break;
			}
		case LM_PLAN_COMPANIES_OF_CATEGORY:
			appendStringInfo(&sql, "SELECT pg_catalog.array_agg(%s) FROM %s WHERE %s OPERATOR(pg_catalog.=) $1",
							 l->company_key_q, l->company_qname, l->category_q);
			argtypes[0] = TEXTOID;
			*nargs = 1;
			break;
		case LM_PLAN_CATEGORY_IN_USE:
			appendStringInfo(&sql, "SELECT 1 FROM %s WHERE %s OPERATOR(pg_catalog.=) $1 LIMIT 1",
							 l->company_qname, l->category_q);
			argtypes[0] = TEXTOID;
			*nargs = 1;
			break;
		case LM_PLAN_STATUS_IN_USE:
			appendStringInfo(&sql, "SELECT 1 FROM %s WHERE %s OPERATOR(pg_catalog.=) $1 LIMIT 1",
							 l->person_qname, l->status_q);
			argtypes[0] = TEXTOID;
			*nargs = 1;
			break;
		default:
			elog(ERROR, "unknown lead_mgmt plan %d", (int) id);
	}
	return sql.data;
}

/*
 * A prepared statement of the layout, prepared on first use (as the owner of
 * the table it reads or writes) and kept until the layout is rebuilt.  The
 * caller is connected to SPI.
 */
static SPIPlanPtr
LmLayoutPlan(LmLayout *l, LmPlanId id)
{
	if (l->plans[id] == NULL)
	{
		Oid			argtypes[2];
		int			nargs = 0;
		char	   *sql = LmPlanSql(l, id, argtypes, &nargs);
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		l->plans[id] = plan;
	}
	return l->plans[id];
}

/*
 * Text form of a company key, for messages.
 */
char *
LmCompanyKeyText(LmLayout *l, Datum key)
{
	return OutputFunctionCall(&l->key_out, key);
}

/* The owner of the table a prepared statement reads or writes. */
static Oid
LmPlanOwner(LmLayout *l, LmPlanId id)
{
	switch (id)
	{
		case LM_PLAN_COMPANIES_OF_CATEGORY:
		case LM_PLAN_CATEGORY_IN_USE:
			return l->company_owner;
		default:
			return l->person_owner;
	}
}

/*
 * Run a prepared statement of the layout as the owner of the table it reads
 * or writes, with row-level security of that owner not forced (as
 * PostgreSQL does for referential actions): lead_mgmt's own statements must
 * see every row, whoever triggered them.  With internal set, the person
 * rules let the writes through.  Under REPEATABLE READ and SERIALIZABLE the
 * statement sees the latest committed rows and fails with a serialization
 * error where those differ from the transaction's snapshot, instead of
 * missing rows.  The caller is connected to SPI.
 */
uint64
LmExecuteAsOwner(LmLayout *l, LmPlanId id, Datum *values, const char *nulls,
				 bool internal)
{
	Oid			save_userid;
	int			save_sec_context;
	volatile int ret = 0;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(LmPlanOwner(l, id), save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (internal)
		lm_internal_depth++;
	PG_TRY();
	{
		SPIPlanPtr	plan = LmLayoutPlan(l, id);

		if (IsolationUsesXactSnapshot())
			ret = SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(),
									   GetTransactionSnapshot(), false, false, 0);
		else
			ret = SPI_execute_snapshot(plan, values, nulls, InvalidSnapshot,
									   InvalidSnapshot, false, false, 0);
	}
	PG_FINALLY();
	{
		if (internal)
			lm_internal_depth--;
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	if (ret < 0)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/*
 * A company key as the person table holds it, converted to the type of the
 * company table's key (the two may differ: an int column referencing a
 * bigint key).
 */
Datum
LmPersonCompanyKey(LmLayout *l, Datum value)
{
	switch (l->key_conv)
	{
		case LM_KEY_CONV_NONE:
			return value;
		case LM_KEY_CONV_FUNC:
			return FunctionCall1(&l->key_conv_func, value);
		case LM_KEY_CONV_IO:
			return InputFunctionCall(&l->key_in,
									 OutputFunctionCall(&l->person_key_out, value),
									 l->key_in_ioparam, -1);
	}
	return value;
}
