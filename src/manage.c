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

#include "lead_mgmt.h"

PG_FUNCTION_INFO_V1(lm_manage);
PG_FUNCTION_INFO_V1(lm_unmanage);

#define LM_TRG_PERSON_RULES		"lead_mgmt_person_rules"
#define LM_TRG_PERSON_PENDING	"lead_mgmt_person_pending"
#define LM_TRG_COMPANY_RULES	"lead_mgmt_company_rules"
#define LM_TRG_COMPANY_CASCADE	"lead_mgmt_company_cascade"
#define LM_TRG_COMPANY_PENDING	"lead_mgmt_company_pending"

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

/* An ordinary, permanent table owned by the caller. */
static void
LmCheckManageable(Relation rel, const char *role)
{
	char		kind = rel->rd_rel->relkind;

	if (kind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not an ordinary table", LmQualifiedName(rel)),
				 kind == RELKIND_PARTITIONED_TABLE ?
				 errdetail("It is a partitioned table, which lead_mgmt does not manage yet.") :
				 errdetail("lead_mgmt manages ordinary tables."),
				 errhint("Pass the %s table.", role)));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" is a temporary table", RelationGetRelationName(rel)),
				 errhint("lead_mgmt manages permanent tables: the registration outlives the session.")));
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s does not use the heap access method", LmQualifiedName(rel))));
	if (!LmTableOwnercheck(RelationGetRelid(rel), GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(rel));
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

/*
 * The person -> company foreign key: the one on company_column, or the only
 * single-column one.  It must reference the company's primary key.
 */
static AttrNumber
LmFindCompanyColumn(Relation prel, Relation crel, const char *company_column,
					AttrNumber company_key)
{
	AttrNumber	wanted = InvalidAttrNumber;
	ForeignKeyCacheInfo *chosen = NULL;
	int			candidates = 0;
	ListCell   *lc;

	if (company_column != NULL)
	{
		wanted = get_attnum(RelationGetRelid(prel), company_column);
		if (wanted <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of table %s does not exist",
							company_column, LmQualifiedName(prel))));
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
				 errhint("A person belongs to at most one company through a single-column foreign key: ALTER TABLE %s ADD FOREIGN KEY (company_id) REFERENCES %s; or name it with company_column.",
						 LmQualifiedName(prel), LmQualifiedName(crel))));
	}
	if (candidates > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FOREIGN_KEY),
				 errmsg("table %s has %d foreign keys to %s",
						LmQualifiedName(prel), candidates, LmQualifiedName(crel)),
				 errhint("Pass company_column => '...' to say which column holds the person's company.")));
	if (chosen->confkey[0] != company_key)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FOREIGN_KEY),
				 errmsg("foreign key on column \"%s\" of %s references column \"%s\", not the primary key of %s",
						LmAttName(prel, chosen->conkey[0]), LmQualifiedName(prel),
						LmAttName(crel, chosen->confkey[0]), LmQualifiedName(crel)),
				 errhint("lead_mgmt needs the foreign key to reference the company's primary key.")));
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
 * foreign key is added; report the first offender.
 */
static void
LmCheckExistingValues(Relation rel, const char *column, const char *catalog,
					  const char *what, const char *valid)
{
	StringInfoData sql;
	int			ret;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT t.%s::pg_catalog.text FROM %s t WHERE t.%s IS NOT NULL"
					 " AND NOT EXISTS (SELECT 1 FROM lead_mgmt.%s k"
					 "                  WHERE k.key OPERATOR(pg_catalog.=) t.%s::pg_catalog.text)"
					 " LIMIT 1",
					 quote_identifier(column), LmQualifiedName(rel), quote_identifier(column),
					 catalog, quote_identifier(column));
	ret = SPI_execute(sql.data, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("column \"%s\" of %s holds \"%s\", which is not a %s",
						column, LmQualifiedName(rel),
						SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), what),
				 errhint("Valid values are: %s. Correct or clear the others first.", valid)));
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
	int			ret = SPI_execute("SELECT pg_catalog.format('%I.%I and %I.%I',"
								  " company_schema, company_table, person_schema, person_table)"
								  " FROM lead_mgmt.registration", true, 1);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	*description = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	return true;
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
	const char *company_column = PG_ARGISNULL(2) ? NULL : NameStr(*PG_GETARG_NAME(2));
	const char *category_column;
	const char *status_column;
	const char *label_column = PG_ARGISNULL(5) ? NULL : NameStr(*PG_GETARG_NAME(5));
	const char *owner_column = PG_ARGISNULL(6) ? NULL : NameStr(*PG_GETARG_NAME(6));
	const LmOids *oids = LmGetOids();
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
	char	   *company_schema;
	char	   *company_table;
	char	   *company_key_name;
	char	   *person_schema;
	char	   *person_table;
	char	   *person_id_name;
	char	   *person_company_name;
	Oid			save_userid;
	int			save_sec_context;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("company_table, person_table, category_column and lead_status_column must not be null")));
	company_relid = PG_GETARG_OID(0);
	person_relid = PG_GETARG_OID(1);
	category_column = NameStr(*PG_GETARG_NAME(3));
	status_column = NameStr(*PG_GETARG_NAME(4));

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
	if (company_relid == person_relid)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the company table and the person table must be two different tables")));

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
	person_company = LmFindCompanyColumn(prel, crel, company_column, company_key[0]);
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
	if (category_attno != InvalidAttrNumber)
		LmCheckExistingValues(crel, category_column, "category", "category", LmCategoryList());
	if (status_attno != InvalidAttrNumber)
		LmCheckExistingValues(prel, status_column, "lead_status", "lead status", LmStatusList());

	/* validated: change things (by name; ALTER TABLE wants the tables closed) */
	company_schema = get_namespace_name(RelationGetNamespace(crel));
	company_table = pstrdup(RelationGetRelationName(crel));
	company_key_name = LmAttName(crel, company_key[0]);
	person_schema = get_namespace_name(RelationGetNamespace(prel));
	person_table = pstrdup(RelationGetRelationName(prel));
	person_id_name = LmAttName(prel, person_id);
	person_company_name = LmAttName(prel, person_company);
	table_close(prel, NoLock);
	table_close(crel, NoLock);

	category_fkey = LmEnsureKeyColumn(company_relid, cname, category_column,
									  oids->category, "category");
	status_fkey = LmEnsureKeyColumn(person_relid, pname, status_column,
									oids->lead_status, "lead_status");

	LmSpiExec(psprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE OF %s, %s ON %s"
					   " FOR EACH ROW EXECUTE FUNCTION lead_mgmt.person_rules()",
					   LM_TRG_PERSON_RULES, quote_identifier(person_company_name),
					   quote_identifier(status_column), pname));
	LmSpiExec(psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OF %s ON %s"
					   " FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.resolve_pending()",
					   LM_TRG_PERSON_PENDING, quote_identifier(person_company_name),
					   pname));
	LmSpiExec(psprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE OF %s ON %s"
					   " FOR EACH ROW EXECUTE FUNCTION lead_mgmt.company_rules()",
					   LM_TRG_COMPANY_RULES, quote_identifier(category_column), cname));
	LmSpiExec(psprintf("CREATE TRIGGER %s AFTER UPDATE OF %s ON %s FOR EACH ROW"
					   " WHEN (OLD.%s IS DISTINCT FROM NEW.%s)"
					   " EXECUTE FUNCTION lead_mgmt.company_cascade()",
					   LM_TRG_COMPANY_CASCADE, quote_identifier(category_column), cname,
					   quote_identifier(category_column), quote_identifier(category_column)));
	LmSpiExec(psprintf("CREATE TRIGGER %s AFTER INSERT ON %s"
					   " FOR EACH STATEMENT EXECUTE FUNCTION lead_mgmt.resolve_pending()",
					   LM_TRG_COMPANY_PENDING, cname));

	{
		Oid			argtypes[13];
		Datum		values[13];
		char		nulls[13];
		const char *args[13];
		int			i;
		int			ret;

		args[0] = company_schema;
		args[1] = company_table;
		args[2] = company_key_name;
		args[3] = person_schema;
		args[4] = person_table;
		args[5] = person_id_name;
		args[6] = person_company_name;
		args[7] = category_column;
		args[8] = status_column;
		args[9] = label_column;
		args[10] = owner_column;
		args[11] = category_fkey;
		args[12] = status_fkey;
		for (i = 0; i < 13; i++)
		{
			argtypes[i] = TEXTOID;
			values[i] = args[i] ? CStringGetTextDatum(args[i]) : (Datum) 0;
			nulls[i] = args[i] ? ' ' : 'n';
		}
		ret = SPI_execute_with_args("INSERT INTO lead_mgmt.registration"
									" (company_schema, company_table, company_key,"
									"  person_schema, person_table, person_key,"
									"  company_column, category_column, lead_status_column,"
									"  label_column, owner_column, category_fkey, lead_status_fkey)"
									" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
									13, argtypes, values, nulls, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	}
	LmLayoutInvalidate();

	/* rule B1 for the rows that are already there */
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		values[1];
		int			ret = 0;

		values[0] = LmDefaultStatusDatum();
		lm_internal_depth++;
		PG_TRY();
		{
			ret = SPI_execute_with_args(psprintf("UPDATE %s p SET %s = $1 FROM %s c, lead_mgmt.category k"
												 " WHERE p.%s OPERATOR(pg_catalog.=) c.%s"
												 "   AND k.key OPERATOR(pg_catalog.=) c.%s"
												 "   AND k.enable_lead_status"
												 "   AND k.category_group OPERATOR(pg_catalog.=) 'potential_customer'::lead_mgmt.category_group"
												 "   AND p.%s IS NULL",
												 pname, quote_identifier(status_column), cname,
												 quote_identifier(person_company_name),
												 quote_identifier(company_key_name),
												 quote_identifier(category_column),
												 quote_identifier(status_column)),
										1, argtypes, values, NULL, false, 0);
		}
		PG_FINALLY();
		{
			lm_internal_depth--;
		}
		PG_END_TRY();
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
	}

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

/* The relation a registration names, InvalidOid when it is gone. */
static Oid
LmRegisteredRelid(const char *schema, const char *table)
{
	Oid			ns = get_namespace_oid(schema, true);
	Oid			relid = OidIsValid(ns) ? get_relname_relid(table, ns) : InvalidOid;

	if (OidIsValid(relid) && !LmTableOwnercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, table);
	return relid;
}

/*
 * lead_mgmt.unmanage() RETURNS void
 */
Datum
lm_unmanage(PG_FUNCTION_ARGS)
{
	const LmOids *oids = LmGetOids();
	int			ret;
	char	   *reg[6];
	int			i;
	Oid			company_relid;
	Oid			person_relid;

	LockRelationOid(oids->registration, ShareRowExclusiveLock);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute("SELECT company_schema, company_table, person_schema, person_table,"
					  "       category_fkey, lead_status_fkey FROM lead_mgmt.registration",
					  false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("lead_mgmt manages no tables"),
				 errhint("Call lead_mgmt.manage(company_table => ..., person_table => ...) first.")));
	for (i = 0; i < 6; i++)
		reg[i] = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1);

	company_relid = LmRegisteredRelid(reg[0], reg[1]);
	person_relid = LmRegisteredRelid(reg[2], reg[3]);

	/*
	 * Dropping a foreign key to lead_mgmt.lead_status alters that table,
	 * which PostgreSQL refuses while its deferred check of the default is
	 * pending: run that check now.
	 */
	LmSpiExec("SET CONSTRAINTS lead_mgmt.lead_status_single_default IMMEDIATE");
	if (OidIsValid(person_relid))
	{
		char	   *q = quote_qualified_identifier(reg[2], reg[3]);

		LmDropTrigger(person_relid, q, LM_TRG_PERSON_RULES);
		LmDropTrigger(person_relid, q, LM_TRG_PERSON_PENDING);
		LmDropConstraint(person_relid, q, reg[5]);
	}
	if (OidIsValid(company_relid))
	{
		char	   *q = quote_qualified_identifier(reg[0], reg[1]);

		LmDropTrigger(company_relid, q, LM_TRG_COMPANY_RULES);
		LmDropTrigger(company_relid, q, LM_TRG_COMPANY_CASCADE);
		LmDropTrigger(company_relid, q, LM_TRG_COMPANY_PENDING);
		LmDropConstraint(company_relid, q, reg[4]);
	}
	LmSpiExec("DELETE FROM lead_mgmt.registration");
	LmLayoutInvalidate();
	SPI_finish();
	PG_RETURN_VOID();
}
