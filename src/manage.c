/*
 * manage.c
 *		lead_mgmt.manage() hands the CRM's company and person tables to
 *		lead_mgmt; lead_mgmt.unmanage() takes them back.
 *
 * manage() validates everything before it changes anything, then, in one
 * transaction: adds the category and lead_status columns where missing,
 * adds their foreign keys to the catalogs, installs the triggers, records the
 * registration and gives the default status to persons of lead-enabled
 * companies who have none (rule B1 for existing rows).  Every generated
 * statement quotes and schema-qualifies its names.
 *
 * The registration and the triggers are written as the extension's owner:
 * nobody else may write the registration (it names the tables cascades
 * write as their owners), nor attach lead_mgmt's trigger functions.  The
 * caller's rights are checked first: membership in lead_mgmt_admin (or
 * superuser) and ownership of both tables.
 *
 * lead_mgmt.forget_dropped() is an event trigger on sql_drop: a managed
 * table that is dropped takes the registration with it, and the triggers
 * and foreign keys manage() added to the other one.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "access/xact.h"
#include "nodes/parsenodes.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "catalog_cache.h"
#include "citus.h"
#include "layout.h"

PG_FUNCTION_INFO_V1(lm_manage);
PG_FUNCTION_INFO_V1(lm_unmanage);
PG_FUNCTION_INFO_V1(lm_forget_dropped);
PG_FUNCTION_INFO_V1(lm_drop_guard);
PG_FUNCTION_INFO_V1(lm_start_history);
PG_FUNCTION_INFO_V1(lm_views_ddl);

static char *
LmQualifiedName(Relation rel)
{
	return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
}

static void
LmSpiExec(const char *sql)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret < 0)
		elog(ERROR, "SPI_execute failed for \"%s\": %s", sql, SPI_result_code_string(ret));
}

/* The owner of the extension (who alone writes the registration). */
static Oid
LmExtensionOwner(void)
{
	Oid			extoid = get_extension_oid("lead_mgmt", false);
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "extension lead_mgmt has no catalog row");
	owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * Run a statement as the extension's owner (the registration, and the
 * triggers whose functions only the owner may attach).
 */
/* > 0 while lead_mgmt runs statements of its own: its DDL is not the user's */
static int	lm_internal_ddl = 0;

static void
LmSpiExecAsOwner(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	Oid			save_userid;
	int			save_sec_context;
	volatile int ret = 0;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(LmExtensionOwner(), save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	lm_internal_ddl++;
	PG_TRY();
	{
		ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		lm_internal_ddl--;
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	if (ret < 0)
		elog(ERROR, "SPI_execute_with_args failed for \"%s\": %s", sql,
			 SPI_result_code_string(ret));
}

/* The caller must own a table it hands over or takes back. */
static void
LmCheckOwner(Oid relid, const char *role)
{
	if (LmTableOwnercheck(relid, GetUserId()))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("must be owner of table %s, the %s table",
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											   get_rel_name(relid)), role),
			 errdetail("Role \"%s\" does not own it; its owner is \"%s\".",
					   GetUserNameFromId(GetUserId(), false),
					   GetUserNameFromId(LmRelOwner(relid), false)),
			 errhint("Run this as the table's owner, or as a member of that role.")));
}

/* An ordinary, permanent table owned by the caller. */
static void
LmCheckManageable(Relation rel, const char *role)
{
	/* the kind of relation: LmCheckTableArg(), before it was opened */
	if (rel->rd_rel->relispartition)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is a partition", LmQualifiedName(rel)),
				 errdetail("lead_mgmt does not manage partitioned tables or their partitions yet."),
				 errhint("Pass an ordinary table as the %s table.", role)));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" is a temporary table", RelationGetRelationName(rel)),
				 errhint("lead_mgmt manages permanent tables: the registration outlives the session.")));
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not use the heap access method", LmQualifiedName(rel))));
	LmCheckOwner(RelationGetRelid(rel), role);
}

/* The columns of a table's primary key (error when it has none). */
static int
LmPrimaryKey(Relation rel, AttrNumber *keys)
{
	Oid			pk = RelationGetPrimaryKeyIndex(rel);
	Relation	idx;
	int			n;
	int			i;

	if (!OidIsValid(pk))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table %s has no primary key", LmQualifiedName(rel)),
				 errhint("lead_mgmt identifies rows by their primary key: ALTER TABLE %s ADD PRIMARY KEY (...);",
						 LmQualifiedName(rel))));
	idx = index_open(pk, AccessShareLock);
	n = idx->rd_index->indnkeyatts;
	for (i = 0; i < n && i < 2; i++)
		keys[i] = idx->rd_index->indkey.values[i];
	index_close(idx, AccessShareLock);
	return n;
}

static char *
LmAttName(Relation rel, AttrNumber attno)
{
	return pstrdup(NameStr(TupleDescAttr(RelationGetDescr(rel), attno - 1)->attname));
}

/* The columns of a table with a single-column foreign key to another. */
static char *
LmReferencingColumns(Relation from, Relation to)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, RelationGetFKeyList(from))
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		if (fk->confrelid == RelationGetRelid(to) && fk->nkeys == 1)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 quote_identifier(LmAttName(from, fk->conkey[0])));
	}
	return buf.data;
}

/*
 * The person -> company foreign key: the one on company_column, or the only
 * single-column one.  It must reference the company's primary key.
 */
static AttrNumber
LmFindCompanyColumn(Relation prel, Relation crel, const char *company_column,
					AttrNumber company_key, Oid *pf_eq_op)
{
	AttrNumber	wanted = InvalidAttrNumber;
	ForeignKeyCacheInfo *chosen = NULL;
	int			candidates = 0;
	ListCell   *lc;

	if (company_column != NULL)
	{
		wanted = get_attnum(RelationGetRelid(prel), company_column);
		if (wanted <= 0)
		{
			char	   *columns = LmReferencingColumns(prel, crel);

			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of table %s does not exist",
							company_column, LmQualifiedName(prel)),
					 columns[0] ?
					 errhint("company_column names the person table's column that references %s: %s.",
							 LmQualifiedName(crel), columns) :
					 errhint("company_column names the person table's column that references %s; it has none yet.",
							 LmQualifiedName(crel))));
		}
	}
	foreach(lc, RelationGetFKeyList(prel))
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		if (fk->confrelid != RelationGetRelid(crel) || fk->nkeys != 1)
			continue;
		if (wanted != InvalidAttrNumber && fk->conkey[0] != wanted)
			continue;
		candidates++;
		chosen = fk;
	}
	if (candidates == 0)
	{
		char	   *swapped = LmReferencingColumns(crel, prel);

		if (swapped[0] != '\0' && company_column == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_FOREIGN_KEY),
					 errmsg("%s references %s, not the other way round",
							LmQualifiedName(crel), LmQualifiedName(prel)),
					 errdetail("Its column %s references %s, and %s has no foreign key to %s.",
							   swapped, LmQualifiedName(prel), LmQualifiedName(prel),
							   LmQualifiedName(crel)),
					 errhint("The two tables look swapped: call lead_mgmt.manage(company_table => '%s', person_table => '%s').",
							 LmQualifiedName(prel), LmQualifiedName(crel))));
		if (company_column != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_FOREIGN_KEY),
					 errmsg("column \"%s\" of table %s has no foreign key to %s",
							company_column, LmQualifiedName(prel), LmQualifiedName(crel)),
					 errhint("Add it: ALTER TABLE %s ADD FOREIGN KEY (%s) REFERENCES %s;",
							 LmQualifiedName(prel), quote_identifier(company_column),
							 LmQualifiedName(crel))));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FOREIGN_KEY),
				 errmsg("table %s has no foreign key to %s",
						LmQualifiedName(prel), LmQualifiedName(crel)),
				 errhint("A person belongs to at most one company through a single-column foreign key to the company's primary key: ALTER TABLE %s ADD FOREIGN KEY (<column>) REFERENCES %s; then pass that column as company_column if there are several.",
						 LmQualifiedName(prel), LmQualifiedName(crel))));
	}
	if (candidates > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FOREIGN_KEY),
				 errmsg("table %s has %d foreign keys to %s",
						LmQualifiedName(prel), candidates, LmQualifiedName(crel)),
				 errhint("Pass company_column => '...' to say which column holds the person's company: %s.",
						 LmReferencingColumns(prel, crel))));
	if (chosen->confkey[0] != company_key)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FOREIGN_KEY),
				 errmsg("foreign key on column \"%s\" of %s references column \"%s\", not the primary key of %s",
						LmAttName(prel, chosen->conkey[0]), LmQualifiedName(prel),
						LmAttName(crel, chosen->confkey[0]), LmQualifiedName(crel)),
				 errhint("lead_mgmt needs the foreign key to reference the company's primary key.")));
	*pf_eq_op = chosen->conpfeqop[0];
	return chosen->conkey[0];
}

/*
 * An existing column that lead_mgmt is to use for a catalog key: it must be
 * text (or varchar) and not one of the columns lead_mgmt already uses.
 */
static AttrNumber
LmExistingKeyColumn(Relation rel, const char *column, const char *what,
					AttrNumber taken1, AttrNumber taken2)
{
	AttrNumber	attno = get_attnum(RelationGetRelid(rel), column);
	Oid			type;

	if (attno == InvalidAttrNumber)
		return InvalidAttrNumber;
	if (attno < 0 || attno == taken1 || attno == taken2)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_COLUMN),
				 errmsg("column \"%s\" of %s cannot hold the %s", column,
						LmQualifiedName(rel), what),
				 errhint("It is a system column or one lead_mgmt uses already; pass another name.")));
	type = getBaseType(TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid);
	if (type != TEXTOID && type != VARCHAROID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of %s has type %s, but the %s must be text",
						column, LmQualifiedName(rel),
						format_type_be(TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid),
						what),
				 errhint("Convert it (ALTER TABLE %s ALTER COLUMN %s TYPE text), or pass another column name.",
						 LmQualifiedName(rel), quote_identifier(column))));
	return attno;
}

static void
LmCheckOptionalColumn(Relation rel, const char *column, const char *what)
{
	if (column != NULL && get_attnum(RelationGetRelid(rel), column) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of table %s does not exist", column, LmQualifiedName(rel)),
				 errhint("%s names an existing column of the person table.", what)));
}

/*
 * Existing values of a column must be keys of the catalog before the
 * foreign key is added; report every distinct offender with its count.
 */
static void
LmCheckExistingValues(Relation rel, const char *column, const char *catalog,
					  const char *what, const char *valid)
{
	StringInfoData sql;
	int			ret;
	bool		isnull;
	int64		values;
	Datum		d;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.count(*),"
					 "       pg_catalog.string_agg(pg_catalog.format('\"%%s\" (%%s %%s)', v, n,"
					 "                             CASE WHEN n OPERATOR(pg_catalog.=) 1 THEN 'row' ELSE 'rows' END),"
					 "                             ', ' ORDER BY n DESC, v)"
					 "  FROM (SELECT t.%s::pg_catalog.text AS v, pg_catalog.count(*) AS n"
					 "          FROM ONLY %s t WHERE t.%s IS NOT NULL"
					 "           AND NOT EXISTS (SELECT 1 FROM lead_mgmt.%s k"
					 "                            WHERE k.key OPERATOR(pg_catalog.=) t.%s::pg_catalog.text)"
					 "         GROUP BY 1) bad",
					 quote_identifier(column), LmQualifiedName(rel), quote_identifier(column),
					 catalog, quote_identifier(column));
	ret = SPI_execute(sql.data, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	values = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (values == 0)
		return;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("column \"%s\" of %s holds " INT64_FORMAT " %s that %s not a %s",
					column, LmQualifiedName(rel), values,
					values == 1 ? "value" : "distinct values", values == 1 ? "is" : "are", what),
			 errdetail("Unknown: %s.", TextDatumGetCString(d)),
			 errhint("Valid values are: %s. Correct or clear the others first, or add them to lead_mgmt.%s.",
					 valid, catalog)));
}

/* The foreign key from a column to a catalog, if any. */
static Oid
LmFindForeignKey(Relation rel, AttrNumber attno, Oid target)
{
	ListCell   *lc;

	foreach(lc, RelationGetFKeyList(rel))
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		if (fk->confrelid == target && fk->nkeys == 1 && fk->conkey[0] == attno)
			return fk->conoid;
	}
	return InvalidOid;
}

/*
 * Make sure the column exists (text) with a foreign key to the catalog.
 * Returns the name of the foreign key when this call added it, else NULL.
 * The table is not held open here: ALTER TABLE refuses tables in use.
 */
static char *
LmEnsureKeyColumn(Oid relid, const char *qname, const char *column,
				  Oid catalog, const char *catalog_name)
{
	AttrNumber	attno = get_attnum(relid, column);
	Relation	rel;
	Oid			fk;

	if (attno == InvalidAttrNumber)
	{
		LmSpiExec(psprintf("ALTER TABLE %s ADD COLUMN %s pg_catalog.text",
						   qname, quote_identifier(column)));
		attno = get_attnum(relid, column);
	}
	rel = table_open(relid, NoLock);
	fk = LmFindForeignKey(rel, attno, catalog);
	table_close(rel, NoLock);
	if (OidIsValid(fk))
		return NULL;
	LmSpiExec(psprintf("ALTER TABLE %s ADD FOREIGN KEY (%s) REFERENCES lead_mgmt.%s (key)",
					   qname, quote_identifier(column), catalog_name));
	rel = table_open(relid, NoLock);
	fk = LmFindForeignKey(rel, attno, catalog);
	table_close(rel, NoLock);
	if (!OidIsValid(fk))
		elog(ERROR, "foreign key on %s.%s was not created", qname, column);
	return get_constraint_name(fk);
}

/* Whether an index (not partial) starts with the column. */
static bool
LmHasIndexOn(Oid relid, AttrNumber attno)
{
	Relation	rel = table_open(relid, NoLock);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);

		if (idx->rd_index->indnkeyatts >= 1 && idx->rd_index->indkey.values[0] == attno &&
			heap_attisnull(idx->rd_indextuple, Anum_pg_index_indpred, NULL))
			found = true;
		index_close(idx, AccessShareLock);
	}
	list_free(indexes);
	table_close(rel, NoLock);
	return found;
}

static bool
LmRegistrationExists(char **description)
{
	int			ret = SPI_execute("SELECT pg_catalog.format('%s and %s', company_table, person_table)"
								  " FROM lead_mgmt.registration", true, 1);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	*description = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return true;
}

/*
 * Whether lead_mgmt.status_history exists, is of this version (it has the
 * visible column) and has the key types of the managed tables.
 */
static bool
LmHistoryFits(Oid company_relid, AttrNumber company_key, Oid person_relid, AttrNumber person_key)
{
	Oid			history = get_relname_relid("status_history", LmGetOids()->schema);

	return OidIsValid(history) &&
		get_attnum(history, "visible") != InvalidAttrNumber &&
		get_atttype(history, get_attnum(history, "company_id")) ==
		getBaseType(get_atttype(company_relid, company_key)) &&
		get_atttype(history, get_attnum(history, "person_id")) ==
		getBaseType(get_atttype(person_relid, person_key));
}

/*
 * lead_mgmt.status_history, created by the first manage() with the key
 * types of the managed tables (so that it can live beside them on a
 * distributed cluster), as the extension's owner.  The history of tables
 * managed before is set aside as status_history_<n> (dropped when empty)
 * and a new one begins: it cannot tell its persons from the new tables'.
 * start_history() (new_pair false) keeps a history of fitting key types.
 */
static void
LmEnsureHistory(Oid company_relid, AttrNumber company_key, Oid person_relid,
				AttrNumber person_key, bool new_pair)
{
	/* base types: a domain's checks would run as the history's owner */
	Oid			ctype = getBaseType(get_atttype(company_relid, company_key));
	Oid			ptype = getBaseType(get_atttype(person_relid, person_key));
	Oid			history = get_relname_relid("status_history", LmGetOids()->schema);
	char	   *ct = format_type_be_qualified(ctype);
	char	   *pt = format_type_be_qualified(ptype);

	if (OidIsValid(history))
	{
		Oid			hc = get_atttype(history, get_attnum(history, "company_id"));
		Oid			hp = get_atttype(history, get_attnum(history, "person_id"));

		int			ret;
		bool		empty;
		char	   *aside;

		ret = SPI_execute("SELECT 1 FROM lead_mgmt.status_history LIMIT 1", true, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
		empty = SPI_processed == 0;
		/* a history of this version has the visible column */
		if ((empty || !new_pair) && LmHistoryFits(company_relid, company_key, person_relid, person_key))
			return;
		if (empty)
			LmSpiExecAsOwner("DROP TABLE lead_mgmt.status_history", 0, NULL, NULL, NULL);
		else
		{
			int			n = 1;

			aside = psprintf("status_history_%d", n);
			while (OidIsValid(get_relname_relid(aside, LmGetOids()->schema)))
				aside = psprintf("status_history_%d", ++n);
			LmSpiExecAsOwner(psprintf("ALTER TABLE lead_mgmt.status_history RENAME TO %s",
									  quote_identifier(aside)), 0, NULL, NULL, NULL);
			ereport(NOTICE,
					(errmsg("the status history of the tables managed before is kept as lead_mgmt.%s",
							aside),
					 hc == ctype && hp == ptype ?
					 errdetail("lead_mgmt cannot tell its persons from those of the tables managed now.") :
					 errdetail("Its keys are %s and %s; the new tables' keys are %s and %s.",
							   format_type_be(hc), format_type_be(hp),
							   format_type_be(ctype), format_type_be(ptype)),
					 errhint("A new lead_mgmt.status_history begins with the statuses the tables have now.")));
		}
	}
	/*
	 * seq orders the rows of one person: numbers are drawn when the rows are
	 * written, after the locks that order conflicting changes (no CACHE: a
	 * range cached per backend would not follow that order).  The change
	 * sink takes a block of 1024 numbers (the increment) per nextval for the
	 * rows of one write (see sink.c); other writers draw one block per row.
	 */
	LmSpiExecAsOwner(psprintf("CREATE TABLE lead_mgmt.status_history ("
							  " seq bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY 1024),"
							  " company_id %s NOT NULL,"
							  " person_id %s NOT NULL,"
							  " from_status text,"
							  " to_status text,"
							  " event lead_mgmt.history_event NOT NULL,"
							  " category text,"
							  " changed_at timestamptz NOT NULL,"
							  " changed_by name NOT NULL,"
							  " source text,"
							  " visible boolean NOT NULL)", ct, pt), 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("CREATE INDEX ON lead_mgmt.status_history (person_id, seq)",
					 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("CREATE INDEX ON lead_mgmt.status_history USING brin (changed_at)",
					 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("CREATE TRIGGER status_history_append_only BEFORE UPDATE OR DELETE ON lead_mgmt.status_history"
					 " FOR EACH ROW EXECUTE FUNCTION lead_mgmt.history_guard()", 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("CREATE TRIGGER status_history_no_truncate BEFORE TRUNCATE ON lead_mgmt.status_history"
					 " FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.history_guard()", 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("REVOKE ALL ON lead_mgmt.status_history FROM PUBLIC", 0, NULL, NULL, NULL);
	/* lead_mgmt_admin may append rows: history imported from another CRM */
	LmSpiExecAsOwner("GRANT SELECT, INSERT ON lead_mgmt.status_history TO lead_mgmt_admin", 0, NULL, NULL, NULL);
	LmSpiExecAsOwner(psprintf("GRANT SELECT ON lead_mgmt.status_history TO %s",
							  quote_identifier(GetUserNameFromId(GetUserId(), false))),
					 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("COMMENT ON TABLE lead_mgmt.status_history IS"
					 " 'Every change of a person''s lead status, and every hide and re-show (rule H1); append-only: lead_mgmt.purge_history() removes old rows'",
					 0, NULL, NULL, NULL);
}

/*
 * The history starts from the statuses there are: a person of a company
 * whose stored status is not what the history replays to gets a row
 * (created, or set when the history knew the person before).  History rows
 * belong to a company; persons without one are not part of it.
 */
static void
LmSeedHistory(const char *pname, const char *cname, const char *pkey, const char *pcompany,
			  const char *ckey, const char *category, const char *status, const char *eqop,
			  const char *source, bool composite)
{
	LmSpiExecAsOwner(psprintf("INSERT INTO lead_mgmt.status_history"
							  " (company_id, person_id, from_status, to_status, event, category,"
							  "  changed_at, changed_by, source, visible)"
							  " SELECT p.%s, p.%s, h.to_status, p.%s,"
							  "        (CASE WHEN h.seq IS NULL THEN 'created'"
							  "              WHEN p.%s IS DISTINCT FROM h.to_status THEN 'set'"
							  "              WHEN coalesce(k.enable_lead_status, false) THEN 'shown'"
							  "              ELSE 'hidden' END)::lead_mgmt.history_event,"
							  "        c.%s, pg_catalog.statement_timestamp(), SESSION_USER, %s,"
							  "        coalesce(k.enable_lead_status, false)"
							  "   FROM ONLY %s p"
							  "   LEFT JOIN ONLY %s c ON c.%s %s p.%s"
							  "   LEFT JOIN lead_mgmt.category k ON k.key OPERATOR(pg_catalog.=) c.%s"
							  "   LEFT JOIN LATERAL (SELECT x.seq, x.to_status, x.visible FROM lead_mgmt.status_history x"
							  "                       WHERE x.person_id OPERATOR(pg_catalog.=) p.%s%s"
							  "                       ORDER BY x.seq DESC LIMIT 1) h ON true"
							  "  WHERE p.%s IS NOT NULL AND p.%s IS NOT NULL"
							  "    AND (p.%s IS DISTINCT FROM h.to_status"
							  "         OR coalesce(k.enable_lead_status, false) IS DISTINCT FROM h.visible)",
							  pcompany, pkey, status, status, category, quote_literal_cstr(source),
							  pname, cname, ckey, eqop, pcompany, category, pkey,
							  composite ? psprintf(" AND x.company_id %s p.%s", eqop, pcompany) : "",
							  pcompany, status, status),
					 0, NULL, NULL, NULL);
}

/*
 * lead_mgmt.count_delta, the count summary (counts.c), created with the
 * company key type; derived data, so any earlier one is dropped.  It is
 * filled by lead_mgmt.rebuild_counts().  Folding it leaves dead rows at the
 * rate rows are appended, whatever the size of the summary: autovacuum is
 * told to come after a fixed number of them rather than a fraction of the
 * table, so that reads scan a small table.
 */
static void
LmEnsureCounts(Oid company_relid, AttrNumber company_key)
{
	Oid			ctype = getBaseType(get_atttype(company_relid, company_key));

	if (OidIsValid(get_relname_relid("count_delta", LmGetOids()->schema)))
		LmSpiExecAsOwner("DROP TABLE lead_mgmt.count_delta", 0, NULL, NULL, NULL);
	LmSpiExecAsOwner(psprintf("CREATE TABLE lead_mgmt.count_delta ("
							  " company_id %s,"
							  " kind \"char\" NOT NULL,"
							  " category text,"
							  " status text,"
							  " owner text,"
							  " n bigint NOT NULL)"
							  " WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,"
							  "       autovacuum_vacuum_cost_delay = 0)", format_type_be_qualified(ctype)),
					 0, NULL, NULL, NULL);
	/*
	 * Readers go through this index, so that what they read is the live
	 * rows, however large a burst of writes (dead rows until vacuum comes)
	 * has left the table; each entry on its own, so that a scan marks dead
	 * ones for the next to skip.
	 */
	LmSpiExecAsOwner("CREATE INDEX count_delta_kind ON lead_mgmt.count_delta (kind)"
					 " WITH (deduplicate_items = off)", 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("REVOKE ALL ON lead_mgmt.count_delta FROM PUBLIC", 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("COMMENT ON TABLE lead_mgmt.count_delta IS"
					 " 'The count summary behind the dashboard views: signed deltas (kind p: persons per category and status;"
					 " o: per owner, category and status; c: companies per category), appended by committing writers and"
					 " folded by lead_mgmt.compact_counts(); read through lead_mgmt.count_summary()'",
					 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("COMMENT ON COLUMN lead_mgmt.count_delta.company_id IS 'A company of the rows counted (keeps the row beside them on a distributed cluster)';"
					 "COMMENT ON COLUMN lead_mgmt.count_delta.kind IS 'p: persons per category and status; o: persons per owner, category and status; c: companies per category';"
					 "COMMENT ON COLUMN lead_mgmt.count_delta.category IS 'The category (NULL: none)';"
					 "COMMENT ON COLUMN lead_mgmt.count_delta.status IS 'The stored lead status (NULL: none)';"
					 "COMMENT ON COLUMN lead_mgmt.count_delta.owner IS 'The owner, as text (kind o; NULL: none)';"
					 "COMMENT ON COLUMN lead_mgmt.count_delta.n IS 'Signed number of persons or companies; the rows of a key add up to its count'",
					 0, NULL, NULL, NULL);
}

static char *
LmRelidQualifiedName(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* NULL arguments of manage(): name the first. */
static void
LmCheckManageArgs(FunctionCallInfo fcinfo)
{
	static const char *const names[] = {
		"company_table", "person_table", NULL, "category_column", "lead_status_column"
	};
	static const char *const columns[] = {
		"company_column", "category_column", "lead_status_column", "label_column", "owner_column"
	};
	int			i;

	for (i = 0; i < 5; i++)
		if (names[i] != NULL && PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %s of lead_mgmt.manage() must not be null", names[i]),
					 i < 2 ?
					 errhint("Name the table, for example %s => 'crm.%s'.", names[i],
							 i == 0 ? "company" : "person") :
					 errhint("Leave it out for the default, or name a column.")));
	for (i = 2; i < 7; i++)
		if (!PG_ARGISNULL(i) && NameStr(*PG_GETARG_NAME(i))[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("argument %s of lead_mgmt.manage() is an empty column name", columns[i - 2]),
					 errhint("Leave %s out for the default, or name a column.", columns[i - 2])));
}

/*
 * A table argument of manage() given as an OID (or a regclass that lost
 * its table) must name an ordinary table before it is opened (opening an
 * index is an error of its own); LmCheckManageable() checks the rest.
 */
static void
LmCheckTableArg(Oid relid, const char *role)
{
	char		kind = get_rel_relkind(relid);

	if (kind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("%s table with OID %u does not exist", role, relid),
				 errhint("Name the table, for example %s_table => 'crm.%s'.", role, role)));
	if (kind == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is a partitioned table", LmRelidQualifiedName(relid)),
				 errdetail("lead_mgmt does not manage partitioned tables yet."),
				 errhint("Pass an ordinary table as the %s table.", role)));
	if (kind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not an ordinary table", LmRelidQualifiedName(relid)),
				 errdetail("lead_mgmt manages ordinary tables."),
				 errhint("Pass the %s table as %s_table.", role, role)));
}

/*
 * lead_mgmt.manage(company_table regclass, person_table regclass,
 *                  company_column name, category_column name,
 *                  lead_status_column name, label_column name,
 *                  owner_column name) RETURNS void
 */
Datum
lm_manage(PG_FUNCTION_ARGS)
{
	Oid			company_relid;
	Oid			person_relid;
	const char *company_column;
	const char *category_column;
	const char *status_column;
	const char *label_column;
	const char *owner_column;
	const LmOids *oids;
	Relation	crel;
	Relation	prel;
	AttrNumber	company_key[2];
	AttrNumber	person_key[2];
	AttrNumber	person_company;
	AttrNumber	person_id = InvalidAttrNumber;
	AttrNumber	category_attno;
	AttrNumber	status_attno;
	int			nkeys;
	char	   *existing;
	char	   *category_fkey;
	char	   *status_fkey;
	char	   *cname;
	char	   *pname;
	char	   *company_key_name;
	char	   *person_id_name;
	char	   *person_company_name;
	Oid			save_userid;
	int			save_sec_context;
	Oid			pf_eq_op;

	LmCheckManageArgs(fcinfo);
	LmCheckAdmin("manage");
	company_relid = PG_GETARG_OID(0);
	person_relid = PG_GETARG_OID(1);
	company_column = PG_ARGISNULL(2) ? NULL : NameStr(*PG_GETARG_NAME(2));
	category_column = NameStr(*PG_GETARG_NAME(3));
	status_column = NameStr(*PG_GETARG_NAME(4));
	label_column = PG_ARGISNULL(5) ? NULL : NameStr(*PG_GETARG_NAME(5));
	owner_column = PG_ARGISNULL(6) ? NULL : NameStr(*PG_GETARG_NAME(6));
	oids = LmGetOids();

	/* one manage()/unmanage() at a time */
	LockRelationOid(oids->registration, ShareRowExclusiveLock);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* lead_mgmt's own reads and writes see every row of the caller's tables */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(save_userid, save_sec_context | SECURITY_NOFORCE_RLS);

	if (LmRegistrationExists(&existing))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("lead_mgmt already manages %s", existing),
				 errhint("One company/person pair per database: run SELECT lead_mgmt.unmanage(); first.")));
	LmCheckTableArg(company_relid, "company");
	LmCheckTableArg(person_relid, "person");
	if (company_relid == person_relid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s was given as both the company table and the person table",
						LmRelidQualifiedName(company_relid)),
				 errhint("Pass the companies as company_table and their persons as person_table: two different tables.")));

	crel = table_open(company_relid, ShareRowExclusiveLock);
	prel = table_open(person_relid, ShareRowExclusiveLock);
	cname = LmQualifiedName(crel);
	pname = LmQualifiedName(prel);
	LmCheckManageable(crel, "company");
	LmCheckManageable(prel, "person");

	nkeys = LmPrimaryKey(crel, company_key);
	if (nkeys != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("primary key of %s has %d columns", cname, nkeys),
				 errhint("lead_mgmt needs a single-column primary key on the company table.")));
	person_company = LmFindCompanyColumn(prel, crel, company_column, company_key[0], &pf_eq_op);
	nkeys = LmPrimaryKey(prel, person_key);
	if (nkeys == 1)
		person_id = person_key[0];
	else if (nkeys == 2 && (person_key[0] == person_company || person_key[1] == person_company))
		person_id = person_key[0] == person_company ? person_key[1] : person_key[0];
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("primary key of %s has %d columns", pname, nkeys),
				 errhint("lead_mgmt needs a single-column primary key on the person table, or one of two columns with the company column.")));

	category_attno = LmExistingKeyColumn(crel, category_column, "category",
										 company_key[0], InvalidAttrNumber);
	status_attno = LmExistingKeyColumn(prel, status_column, "lead status",
									   person_company, person_id);
	LmCheckOptionalColumn(prel, label_column, "label_column");
	LmCheckOptionalColumn(prel, owner_column, "owner_column");
	if (owner_column != NULL &&
		(strcmp(owner_column, status_column) == 0 ||
		 get_attnum(person_relid, owner_column) == person_company ||
		 get_attnum(person_relid, owner_column) == person_id))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_COLUMN),
				 errmsg("owner_column \"%s\" of %s is also its %s column", owner_column, pname,
						strcmp(owner_column, status_column) == 0 ? "lead status" :
						get_attnum(person_relid, owner_column) == person_company ? "company" : "key"),
				 errhint("Name the column that holds the person's owner (sales rep), or leave owner_column out.")));
	if (category_attno != InvalidAttrNumber)
		LmCheckExistingValues(crel, category_column, "category", "category", LmCategoryList());
	if (status_attno != InvalidAttrNumber)
		LmCheckExistingValues(prel, status_column, "lead_status", "lead status", LmStatusList());

	/* validated: change things (by name; ALTER TABLE wants the tables closed) */
	company_key_name = LmAttName(crel, company_key[0]);
	person_id_name = LmAttName(prel, person_id);
	person_company_name = LmAttName(prel, person_company);
	table_close(prel, NoLock);
	table_close(crel, NoLock);

	category_fkey = LmEnsureKeyColumn(company_relid, cname, category_column,
									  oids->category, "category");
	status_fkey = LmEnsureKeyColumn(person_relid, pname, status_column,
									oids->lead_status, "lead_status");

	/* rule B1 for the rows that are already there (before the triggers) */
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		values[1];
		int			ret;

		values[0] = CStringGetTextDatum(LmDefaultStatusKey());
		ret = SPI_execute_with_args(psprintf("UPDATE ONLY %s p SET %s = $1 FROM ONLY %s c, lead_mgmt.category k"
											 " WHERE c.%s %s p.%s"
											 "   AND k.key OPERATOR(pg_catalog.=) c.%s"
											 "   AND k.enable_lead_status"
											 "   AND p.%s IS NULL",
											 pname, quote_identifier(status_column), cname,
											 quote_identifier(company_key_name),
											 LmOperatorSql(pf_eq_op),
											 quote_identifier(person_company_name),
											 quote_identifier(category_column),
											 quote_identifier(status_column)),
									1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	}

	/* the triggers, as the extension's owner (nobody else may attach them) */
	LmSpiExecAsOwner(psprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE OF %s, %s ON %s"
							  " FOR EACH ROW EXECUTE FUNCTION lead_mgmt.person_rules('person')",
							  LM_TRG_PERSON_RULES, quote_identifier(person_company_name),
							  quote_identifier(status_column), pname),
					 0, NULL, NULL, NULL);
	LmSpiExecAsOwner(psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OF %s, %s ON %s"
							  " FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.resolve_pending('person')",
							  LM_TRG_PERSON_PENDING, quote_identifier(person_company_name),
							  quote_identifier(status_column), pname),
					 0, NULL, NULL, NULL);
	LmSpiExecAsOwner(psprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE OF %s, %s OR DELETE ON %s"
							  " FOR EACH ROW EXECUTE FUNCTION lead_mgmt.company_rules('company')",
							  LM_TRG_COMPANY_RULES, quote_identifier(category_column),
							  quote_identifier(company_key_name), cname),
					 0, NULL, NULL, NULL);
	LmSpiExecAsOwner(psprintf("CREATE TRIGGER %s AFTER UPDATE OF %s ON %s FOR EACH ROW"
							  " WHEN (OLD.%s IS DISTINCT FROM NEW.%s)"
							  " EXECUTE FUNCTION lead_mgmt.company_cascade('company')",
							  LM_TRG_COMPANY_CASCADE, quote_identifier(category_column), cname,
							  quote_identifier(category_column), quote_identifier(category_column)),
					 0, NULL, NULL, NULL);
	LmSpiExecAsOwner(psprintf("CREATE TRIGGER %s AFTER INSERT ON %s"
							  " FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.resolve_pending('company')",
							  LM_TRG_COMPANY_PENDING, cname),
					 0, NULL, NULL, NULL);

	{
		Oid			argtypes[12];
		Datum		values[12];
		char		nulls[12];
		const char *args[10];
		int			i;

		args[0] = company_key_name;
		args[1] = person_id_name;
		args[2] = person_company_name;
		args[3] = category_column;
		args[4] = status_column;
		args[5] = label_column;
		args[6] = owner_column;
		args[7] = category_fkey;
		args[8] = status_fkey;
		for (i = 0; i < 9; i++)
		{
			argtypes[i] = TEXTOID;
			values[i] = args[i] ? CStringGetTextDatum(args[i]) : (Datum) 0;
			nulls[i] = args[i] ? ' ' : 'n';
		}
		argtypes[9] = OIDOID;
		values[9] = ObjectIdGetDatum(company_relid);
		nulls[9] = ' ';
		argtypes[10] = OIDOID;
		values[10] = ObjectIdGetDatum(person_relid);
		nulls[10] = ' ';
		LmSpiExecAsOwner("INSERT INTO lead_mgmt.registration"
						 " (company_key, person_key, company_column, category_column,"
						 "  lead_status_column, label_column, owner_column, category_fkey,"
						 "  lead_status_fkey, company_table, person_table)"
						 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
						 "         $10::pg_catalog.regclass, $11::pg_catalog.regclass)",
						 11, argtypes, values, nulls);
	}
	LmNoteCatalogWrite();
	LmLayoutInvalidate();

	/* the triggers that record what was written (history, counts) */
	LmSpiExecAsOwner("SELECT lead_mgmt.change_triggers(true)", 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("SELECT lead_mgmt.drop_views()", 0, NULL, NULL, NULL);
	LmEnsureCounts(company_relid, company_key[0]);
	LmEnsureHistory(company_relid, company_key[0], person_relid, person_id, true);
	LmSeedHistory(pname, cname, quote_identifier(person_id_name),
				  quote_identifier(person_company_name), quote_identifier(company_key_name),
				  quote_identifier(category_column), quote_identifier(status_column),
				  LmOperatorSql(pf_eq_op), "lead_mgmt.manage()", nkeys == 2);
	LmLayoutInvalidate();		/* the history and count tables are new */
	LmSpiExecAsOwner("SELECT lead_mgmt.rebuild_counts()", 0, NULL, NULL, NULL);
	LmSpiExecAsOwner("SELECT lead_mgmt.build_views()", 0, NULL, NULL, NULL);

	if (!LmHasIndexOn(person_relid, person_company))
		ereport(NOTICE,
				(errmsg("table %s has no index on column %s", pname,
						quote_identifier(person_company_name)),
				 errhint("A category change looks up the company's persons; consider CREATE INDEX ON %s (%s);",
						 pname, quote_identifier(person_company_name))));

	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();
	PG_RETURN_VOID();
}

/* Drop a trigger lead_mgmt created, if it is there. */
static void
LmDropTrigger(Oid relid, const char *qname, const char *trigger)
{
	if (OidIsValid(get_trigger_oid(relid, trigger, true)))
		LmSpiExec(psprintf("DROP TRIGGER %s ON %s", quote_identifier(trigger), qname));
}

/* Drop a foreign key lead_mgmt created, if it is there. */
static void
LmDropConstraint(Oid relid, const char *qname, const char *constraint)
{
	if (constraint != NULL && OidIsValid(get_relation_constraint_oid(relid, constraint, true)))
		LmSpiExec(psprintf("ALTER TABLE %s DROP CONSTRAINT %s", qname, quote_identifier(constraint)));
}

/*
 * Take lead_mgmt's triggers and foreign keys off the tables that still
 * exist and clear the registration.  With check_owner the caller must own
 * the tables (unmanage()); the drop event trigger cleans up after a drop.
 * Returns false when nothing is managed.  The caller is connected to SPI.
 */
static bool
LmUnmanageTables(bool check_owner, Oid dropped, char **survivor)
{
	const LmOids *oids = LmGetOids();
	int			ret;
	char	   *fkeys[2];
	Oid			relids[2];
	bool		isnull;
	bool		pending;
	int			i;

	LockRelationOid(oids->registration, ShareRowExclusiveLock);
	ret = SPI_execute("SELECT company_table::pg_catalog.oid, person_table::pg_catalog.oid,"
					  "       category_fkey, lead_status_fkey FROM lead_mgmt.registration",
					  false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	for (i = 0; i < 2; i++)
	{
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, i + 1, &isnull));

		/* a table that is gone (or being dropped) needs no cleanup */
		relids[i] = (relid != dropped && get_rel_name(relid) != NULL) ? relid : InvalidOid;
		fkeys[i] = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 3);
		if (OidIsValid(relids[i]) && check_owner)
			LmCheckOwner(relids[i], i == 0 ? "company" : "person");
	}
	/* the views read the tables; the history stays, the counts go */
	LmSpiExecAsOwner("SELECT lead_mgmt.drop_views()", 0, NULL, NULL, NULL);
	if (OidIsValid(get_relname_relid("count_delta", LmGetOids()->schema)))
		LmSpiExecAsOwner("DROP TABLE lead_mgmt.count_delta", 0, NULL, NULL, NULL);
	/* the registration goes first: dropping the triggers fires sql_drop again */
	LmSpiExecAsOwner("DELETE FROM lead_mgmt.registration", 0, NULL, NULL, NULL);
	LmNoteCatalogWrite();

	/*
	 * Dropping a foreign key to lead_mgmt.lead_status alters that table,
	 * which PostgreSQL refuses while its deferred check of the default is
	 * pending: run that check now, and defer it again afterwards.
	 */
	pending = AfterTriggerPendingOnRel(oids->lead_status);
	if (pending)
		LmSpiExec("SET CONSTRAINTS lead_mgmt.lead_status_single_default IMMEDIATE");
	if (OidIsValid(relids[1]))
	{
		char	   *q = LmRelidQualifiedName(relids[1]);

		LmDropTrigger(relids[1], q, LM_TRG_PERSON_RULES);
		LmDropTrigger(relids[1], q, LM_TRG_PERSON_CHANGES);
		LmDropTrigger(relids[1], q, LM_TRG_PERSON_PENDING);
		LmDropTrigger(relids[1], q, LM_TRG_PERSON_TRUNCATE);
		LmDropConstraint(relids[1], q, fkeys[1]);
		if (survivor != NULL)
			*survivor = q;
	}
	if (OidIsValid(relids[0]))
	{
		char	   *q = LmRelidQualifiedName(relids[0]);

		LmDropTrigger(relids[0], q, LM_TRG_COMPANY_RULES);
		LmDropTrigger(relids[0], q, LM_TRG_COMPANY_CASCADE);
		LmDropTrigger(relids[0], q, LM_TRG_COMPANY_PENDING);
		LmDropTrigger(relids[0], q, LM_TRG_COMPANY_CHANGES);
		LmDropTrigger(relids[0], q, LM_TRG_COMPANY_TRUNCATE);
		LmDropConstraint(relids[0], q, fkeys[0]);
		if (survivor != NULL)
			*survivor = q;
	}
	if (pending)
		LmSpiExec("SET CONSTRAINTS lead_mgmt.lead_status_single_default DEFERRED");
	LmLayoutInvalidate();
	return true;
}

/*
 * lead_mgmt.unmanage() RETURNS void
 */
Datum
lm_unmanage(PG_FUNCTION_ARGS)
{
	LmCheckAdmin("unmanage");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!LmUnmanageTables(true, InvalidOid, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("lead_mgmt manages no tables"),
				 errhint("Call lead_mgmt.manage(company_table => ..., person_table => ...) first.")));
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Event trigger on sql_drop: when a managed table is dropped, lead_mgmt
 * stops managing the pair (and says so).
 */
Datum
lm_forget_dropped(PG_FUNCTION_ARGS)
{
	int			ret;
	uint64		i;
	Oid			dropped = InvalidOid;
	char	   *survivor = NULL;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.forget_dropped() was not called by the event trigger manager")));
	if (!OidIsValid(get_namespace_oid("lead_mgmt", true)))
		return PointerGetDatum(NULL);
	/* a drop on a Citus worker came from the coordinator, which forgets it */
	if (LmCitusWorker())
		return PointerGetDatum(NULL);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute("SELECT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d,"
					  "       lead_mgmt.registration r"
					  " WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					  "   AND d.objsubid OPERATOR(pg_catalog.=) 0"
					  "   AND d.objid OPERATOR(pg_catalog.=) ANY (ARRAY[r.company_table::pg_catalog.oid,"
					  "                                                r.person_table::pg_catalog.oid])",
					  true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed && !OidIsValid(dropped); i++)
	{
		bool		isnull;

		dropped = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	if (OidIsValid(dropped))
	{
		(void) LmUnmanageTables(false, dropped, &survivor);
		ereport(NOTICE,
				(errmsg("lead_mgmt no longer manages any tables: a managed table was dropped"),
				 survivor ?
				 errdetail("lead_mgmt's triggers and foreign keys were removed from %s; its data stays.", survivor) :
				 errdetail("Both managed tables are gone."),
				 errhint("Call lead_mgmt.manage() to hand a company and person table over again.")));
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* Whether a DROP EXTENSION / DROP SCHEMA statement names lead_mgmt. */
static bool
LmDropNamesLeadMgmt(Node *parsetree)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION && stmt->removeType != OBJECT_SCHEMA)
		return false;
	foreach(lc, stmt->objects)
	{
		Node	   *name = lfirst(lc);

		if (IsA(name, String) && strcmp(strVal(name), "lead_mgmt") == 0)
			return true;
	}
	return false;
}

/*
 * The tables lead_mgmt keeps outside the extension, so that dumps carry them:
 * the status history (and histories set aside by a later manage()) and the
 * count summary; as a list of qualified names, or NULL when there are none.
 */
static char *
LmKeptTables(void)
{
	StringInfoData kept;
	int			ret;

	ret = SPI_execute("SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)"
					  "  FROM pg_catalog.pg_class c"
					  "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					  " WHERE n.nspname OPERATOR(pg_catalog.=) 'lead_mgmt' AND c.relkind OPERATOR(pg_catalog.=) 'r'"
					  "   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"
					  "                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					  "                      AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')"
					  " ORDER BY 1", false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return NULL;
	initStringInfo(&kept);
	for (uint64 i = 0; i < SPI_processed; i++)
		appendStringInfo(&kept, "%s%s", i > 0 ? ", " : "",
						 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	return kept.data;
}

/*
 * lead_mgmt.drop_guard() RETURNS event_trigger, on ddl_command_start of DROP
 * EXTENSION and DROP SCHEMA.  Dropping lead_mgmt would take the rules'
 * triggers and foreign keys off the managed tables and the status history
 * (kept outside the extension, so that dumps carry it) apart: without
 * CASCADE that is refused, saying what to run first; with CASCADE the
 * tables are unmanaged first (their rows and columns stay) and the history
 * and count summary are dropped whole.
 */
Datum
lm_drop_guard(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	DropStmt   *stmt;
	char	   *pair = NULL;
	char	   *kept;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.drop_guard() was not called by the event trigger manager")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!LmDropNamesLeadMgmt(trigdata->parsetree) || lm_internal_ddl > 0)
		return PointerGetDatum(NULL);
	stmt = (DropStmt *) trigdata->parsetree;
	if (!OidIsValid(get_namespace_oid("lead_mgmt", true)))
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	(void) LmRegistrationExists(&pair);
	kept = LmKeptTables();

	if (stmt->behavior != DROP_CASCADE)
	{
		if (pair != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop lead_mgmt while it manages %s", pair),
					 errdetail("The rules' triggers and foreign keys are on those tables; lead_mgmt also keeps %s.",
							   kept != NULL ? kept : "no other table"),
					 errhint("Run SELECT lead_mgmt.unmanage(); first: the tables keep their rows and their category and lead status columns, "
							 "and the status history stays until you drop it. "
							 "Or drop with CASCADE, which unmanages the tables and drops the history and the count summary.")));
		if (kept != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop lead_mgmt while it keeps %s", kept),
					 errdetail("unmanage() keeps the status history of the tables managed before."),
					 errhint("Keep a copy if you need it (pg_dump --table='lead_mgmt.status_history*'), then drop those tables; "
							 "or drop with CASCADE, which drops them too.")));
		SPI_finish();
		return PointerGetDatum(NULL);
	}

	/* CASCADE: the user's tables stay, unmanaged, with their data */
	if (pair != NULL)
	{
		LmUnmanageTables(false, InvalidOid, NULL);
		ereport(NOTICE,
				(errmsg("lead_mgmt no longer manages %s", pair),
				 errdetail("Their rows and their category and lead status columns stay.")));
	}
	/* unmanage() dropped the count summary */
	kept = LmKeptTables();
	if (kept != NULL)
	{
		LmSpiExecAsOwner(psprintf("DROP TABLE %s", kept), 0, NULL, NULL, NULL);
		ereport(NOTICE, (errmsg("dropped %s with lead_mgmt", kept)));
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* Whether the person table's primary key includes the company column. */
static bool
LmPersonKeyHasCompany(Oid person_relid)
{
	Relation	rel = table_open(person_relid, AccessShareLock);
	AttrNumber	keys[2];
	int			n = LmPrimaryKey(rel, keys);

	table_close(rel, AccessShareLock);
	return n == 2;
}

/*
 * lead_mgmt.start_history() RETURNS void: create the status history of the
 * managed pair if it is missing (a database upgraded from 1.0.0, or one
 * whose history was dropped), and start it from the statuses there are.
 */
Datum
lm_start_history(PG_FUNCTION_ARGS)
{
	LmLayout   *layout;
	Oid			save_userid;
	int			save_sec_context;
	bool		in_place;

	LmCheckAdmin("start_history");
	layout = LmGetLayout();
	if (layout == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("lead_mgmt manages no tables"),
				 errhint("Call lead_mgmt.manage(company_table => ..., person_table => ...) first.")));
	LmCheckOwner(layout->person_relid, "person");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(save_userid, save_sec_context | SECURITY_NOFORCE_RLS);
	/*
	 * With the history and the summary there, the history only starts
	 * again: the views and functions stay (a query of the same statement may
	 * be reading them).
	 */
	in_place = LmHistoryFits(layout->company_relid, layout->company_key_attno,
							 layout->person_relid, layout->person_key_attno) &&
		OidIsValid(get_relname_relid("count_delta", LmGetOids()->schema));
	if (!in_place)
	{
		LmSpiExecAsOwner("SELECT lead_mgmt.drop_views()", 0, NULL, NULL, NULL);
		LmEnsureHistory(layout->company_relid, layout->company_key_attno, layout->person_relid,
						layout->person_key_attno, false);
		if (!OidIsValid(get_relname_relid("count_delta", LmGetOids()->schema)))
		{
			LmEnsureCounts(layout->company_relid, layout->company_key_attno);
			LmLayoutInvalidate();
			LmSpiExecAsOwner("SELECT lead_mgmt.rebuild_counts()", 0, NULL, NULL, NULL);
		}
	}
	LmSeedHistory(layout->person_qname, layout->company_qname, layout->person_key_q,
				  layout->person_company_q, layout->company_key_q, layout->category_q,
				  layout->status_q, layout->key_eq_op, "lead_mgmt.start_history()",
				  LmPersonKeyHasCompany(layout->person_relid));
	if (!in_place)
	{
		LmSpiExecAsOwner("SELECT lead_mgmt.build_views()", 0, NULL, NULL, NULL);
		/* every session sees the history now */
		CacheInvalidateRelcacheByRelid(layout->person_relid);
	}
	SetUserIdAndSecContext(save_userid, save_sec_context);
	SPI_finish();
	LmLayoutInvalidate();
	PG_RETURN_VOID();
}

/*
 * The views read the managed tables and the history, so PostgreSQL would
 * refuse to drop those tables, or to retype or drop a column, while they
 * exist.  lead_mgmt.views_ddl(), on ddl_command_start and ddl_command_end
 * of ALTER TABLE, DROP TABLE and DROP SCHEMA: a command that drops one of
 * those tables (or its schema) or retypes or drops a column of one takes
 * the views off first, and the end of the command puts them back if the
 * pair is still managed.
 */
static TransactionId lm_views_taken_off = InvalidTransactionId;

/* Whether the registration query, given one oid, returns a row. */
static bool
LmRegistrationMatches(const char *sql, Oid arg)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	int			ret;

	args[0] = ObjectIdGetDatum(arg);
	ret = SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	return SPI_processed > 0;
}

/* Whether the relation is a managed table or the history. */
static bool
LmIsViewSource(const RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	if (!OidIsValid(relid))
		return false;
	if (relid == get_relname_relid("status_history", LmGetOids()->schema))
		return true;
	return LmRegistrationMatches("SELECT 1 FROM lead_mgmt.registration"
								 " WHERE $1 OPERATOR(pg_catalog.=) ANY (ARRAY[company_table::pg_catalog.oid,"
								 "                                            person_table::pg_catalog.oid])",
								 relid);
}

/* Whether the schema holds a managed table. */
static bool
LmSchemaHoldsManaged(Oid nspid)
{
	if (!OidIsValid(nspid))
		return false;
	return LmRegistrationMatches("SELECT 1 FROM lead_mgmt.registration r, pg_catalog.pg_class c"
								 " WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY[r.company_table::pg_catalog.oid,"
								 "                                              r.person_table::pg_catalog.oid])"
								 "   AND c.relnamespace OPERATOR(pg_catalog.=) $1",
								 nspid);
}

static bool
LmDdlTouchesViews(Node *parsetree)
{
	ListCell   *lc;

	if (parsetree == NULL)
		return false;
	if (IsA(parsetree, DropStmt))
	{
		DropStmt   *stmt = (DropStmt *) parsetree;

		if (stmt->removeType == OBJECT_SCHEMA)
		{
			foreach(lc, stmt->objects)
			{
				if (LmSchemaHoldsManaged(get_namespace_oid(strVal(lfirst(lc)), true)))
					return true;
			}
			return false;
		}
		if (stmt->removeType != OBJECT_TABLE)
			return false;
		foreach(lc, stmt->objects)
		{
			if (LmIsViewSource(makeRangeVarFromNameList(castNode(List, lfirst(lc)))))
				return true;
		}
		return false;
	}
	if (IsA(parsetree, AlterTableStmt))
	{
		AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
		bool		columns = false;

		foreach(lc, stmt->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_AlterColumnType || cmd->subtype == AT_DropColumn)
				columns = true;
		}
		return columns && stmt->relation != NULL && LmIsViewSource(stmt->relation);
	}
	return false;
}

/*
 * lead_mgmt.views_ddl() RETURNS event_trigger
 */
Datum
lm_views_ddl(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function lead_mgmt.views_ddl() was not called by the event trigger manager")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!OidIsValid(get_namespace_oid("lead_mgmt", true)))
		return PointerGetDatum(NULL);
	/* lead_mgmt's own DDL (dropping the count summary, say) */
	if (lm_internal_ddl > 0)
		return PointerGetDatum(NULL);
	/* DDL on a Citus worker came from the coordinator, which keeps the views */
	if (LmCitusWorker())
		return PointerGetDatum(NULL);
	if (strcmp(trigdata->event, "ddl_command_start") == 0)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (LmDdlTouchesViews(trigdata->parsetree))
		{
			LmSpiExecAsOwner("SELECT lead_mgmt.drop_views()", 0, NULL, NULL, NULL);
			/* its column list would keep ALTER TABLE from retyping the key */
			LmSpiExecAsOwner("SELECT lead_mgmt.change_triggers(false)", 0, NULL, NULL, NULL);
			lm_views_taken_off = GetTopTransactionId();
		}
		SPI_finish();
	}
	else if (TransactionIdIsValid(lm_views_taken_off) &&
			 TransactionIdEquals(lm_views_taken_off, GetTopTransactionIdIfAny()))
	{
		int			ret;

		/* build_views() alters the history: no second round */
		lm_views_taken_off = InvalidTransactionId;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		/* a new snapshot: the drop event trigger may have cleared it */
		ret = SPI_execute("SELECT 1 FROM lead_mgmt.registration", false, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
		if (SPI_processed > 0)
		{
			LmSpiExecAsOwner("SELECT lead_mgmt.change_triggers(true)", 0, NULL, NULL, NULL);
			LmSpiExecAsOwner("SELECT lead_mgmt.build_views()", 0, NULL, NULL, NULL);
		}
		SPI_finish();
	}
	return PointerGetDatum(NULL);
}
