/*
 * layout.c
 *		The registered company/person pair, per-relation layouts and the
 *		prepared statements lead_mgmt runs against the managed tables.
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 *
 * The registration holds the two tables as regclass (dumped by name, so it
 * survives dump and restore; resolved by OID at run time, so renames are
 * followed) and the managed columns by name.  Only manage() and unmanage()
 * write it.  The pair is resolved from it and rebuilt whenever either
 * table or the registration is invalidated, so an ALTER TABLE between
 * statements just works; a renamed or dropped managed column is reported
 * with a hint instead of being guessed.  The pair counts as managed only
 * while every trigger manage() installs is in place (during a restore they
 * come last), and a trigger acts only on the relation the registration
 * names for its role.
 *
 * A per-relation layout gives the column numbers of a relation a trigger
 * fires on, resolved by name in that relation, keyed by its OID.
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
#include "catalog/pg_class.h"
#include "catalog/dependency.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "utils/syscache.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "decide.h"
#include "citus.h"
#include "direct.h"
#include "layout.h"

static LmLayout *layout = NULL;
static MemoryContext layout_cxt = NULL;
static bool layout_valid = false;
static bool layout_managed = false;
static uint64 layout_inval_count = 0;

const char *const lm_count_columns[LM_COUNT_COLUMNS] = {
	"company_id", "kind", "category", "status", "owner", "n"
};

const char *const lm_history_columns[LM_HISTORY_COLUMNS] = {
	"seq", "company_id", "person_id", "from_status", "to_status", "event", "category",
	"changed_at", "changed_by", "source", "visible"
};

/* per-relation layouts, by OID */
static HTAB *rel_layouts = NULL;
static LmRelLayout *last_rel_layout = NULL;	/* an entry of rel_layouts */

/* layouts replaced during this transaction, freed at its end */
typedef struct LmRetired
{
	LmLayout   *layout;
	MemoryContext cxt;
	struct LmRetired *next;
} LmRetired;

static LmRetired *retired = NULL;

/*
 * The shards of one hash range on this node (Citus), co-located: a layout
 * of them serves the triggers on the company and person shards.
 */
typedef struct LmShardGroup
{
	Oid			company;
	Oid			person;
	Oid			history;		/* InvalidOid: no status history */
	Oid			counts;			/* InvalidOid: no count summary */
	Oid			counts_index;
} LmShardGroup;

/* layouts of the shard groups of this node, by company shard */
typedef struct LmShardLayout
{
	Oid			company_shard;	/* hash key */
	LmLayout   *layout;
	MemoryContext cxt;
} LmShardLayout;

static HTAB *shard_layouts = NULL;


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

/* Mark every per-relation layout stale. */
static void
LmRelLayoutsInvalidate(void)
{
	HASH_SEQ_STATUS status;
	LmRelLayout *rl;

	if (rel_layouts == NULL)
		return;
	hash_seq_init(&status, rel_layouts);
	while ((rl = hash_seq_search(&status)) != NULL)
		rl->valid = false;
}

/*
 * The pair and every per-relation layout are stale (the registration
 * changed, an invalidation of everything, an abort after a write).
 */
void
LmLayoutInvalidate(void)
{
	layout_valid = false;
	layout_inval_count++;
	LmRelLayoutsInvalidate();
	if (shard_layouts != NULL)
	{
		HASH_SEQ_STATUS status;
		LmShardLayout *sl;

		/* triggers further up the stack may use them: freed at transaction end */
		hash_seq_init(&status, shard_layouts);
		while ((sl = hash_seq_search(&status)) != NULL)
			LmLayoutRetire(sl->layout, sl->cxt);
		hash_destroy(shard_layouts);
		shard_layouts = NULL;
	}
}

/* Whether relid is one of the shards a layout of this node's groups uses. */
static bool
LmShardLayoutsUse(Oid relid)
{
	HASH_SEQ_STATUS status;
	LmShardLayout *sl;

	if (shard_layouts == NULL)
		return false;
	hash_seq_init(&status, shard_layouts);
	while ((sl = hash_seq_search(&status)) != NULL)
	{
		if (relid == sl->layout->company_relid || relid == sl->layout->person_relid ||
			relid == sl->layout->history_relid)
		{
			hash_seq_term(&status);
			return true;
		}
	}
	return false;
}

/*
 * A relation was invalidated: the layouts that depend on it are stale.
 */
void
LmLayoutInvalidateRel(Oid relid)
{
	LmRelLayout *rl;

	/* also while not managed: a trigger of manage() may just be restored */
	if ((layout != NULL &&
		 (relid == layout->company_relid || relid == layout->person_relid ||
		  relid == layout->history_relid)) ||
		LmShardLayoutsUse(relid))
		LmLayoutInvalidate();
	else if (rel_layouts != NULL &&
			 (rl = hash_search(rel_layouts, &relid, HASH_FIND, NULL)) != NULL)
		rl->valid = false;
}

typedef struct LmRegistration
{
	Oid			company_relid;
	Oid			person_relid;
	char	   *company_key;
	char	   *person_key;
	char	   *company_column;
	char	   *category_column;
	char	   *status_column;
	char	   *label_column;
	char	   *owner_column;
} LmRegistration;

static char *
LmRegText(HeapTuple tuple, TupleDesc desc, int col)
{
	return SPI_getvalue(tuple, desc, col);
}

/*
 * Read the registration row with the latest snapshot; false when nothing is
 * managed.  Strings are palloc'd in the caller's context.
 */
static bool
LmReadRegistration(LmRegistration *reg)
{
	SPIPlanPtr	plan;
	int			ret;
	bool		found = false;
	MemoryContext caller = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare("SELECT company_table::pg_catalog.oid, person_table::pg_catalog.oid,"
					   "       company_key, person_key, company_column, category_column,"
					   "       lead_status_column, label_column, owner_column"
					   "  FROM lead_mgmt.registration", 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	ret = SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(),
							   InvalidSnapshot, true, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		MemoryContext spi = MemoryContextSwitchTo(caller);

		reg->company_relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		reg->person_relid = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		reg->company_key = LmRegText(tup, desc, 3);
		reg->person_key = LmRegText(tup, desc, 4);
		reg->company_column = LmRegText(tup, desc, 5);
		reg->category_column = LmRegText(tup, desc, 6);
		reg->status_column = LmRegText(tup, desc, 7);
		reg->label_column = LmRegText(tup, desc, 8);
		reg->owner_column = LmRegText(tup, desc, 9);
		MemoryContextSwitchTo(spi);
		found = true;
	}
	SPI_finish();
	return found;
}

/* The managed table of a role, opened; an error when it is gone. */
static Relation
LmOpenManaged(Oid relid, const char *role)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);

	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the managed %s table (OID %u) does not exist", role, relid),
				 errhint("Run SELECT lead_mgmt.unmanage(); to clear the registration, then manage() the tables again.")));
	return rel;
}

char *
LmRelQualifiedName(Relation rel)
{
	return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
}

static char *
LmRelidQualifiedName(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/*
 * A catalog of lead_mgmt as generated SQL names it: the table itself, or on
 * a Citus node where it is a reference table, this node's copy of it (SQL
 * run on a shard must stay on its node).
 */
static char *
LmCatalogQualifiedName(Oid relid, const char *name)
{
	Oid			placement = LmCitusLocalPlacement(relid);

	return OidIsValid(placement) ? LmRelidQualifiedName(placement) : pstrdup(name);
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
						column, role, LmRelQualifiedName(rel)),
				 errhint("It was renamed or dropped. Run SELECT lead_mgmt.unmanage(); and manage() the tables again with the new column names.")));
	type = getBaseType(TupleDescAttr(RelationGetDescr(rel), attno - 1)->atttypid);
	if (texty && type != TEXTOID && type != VARCHAROID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of managed table %s has type %s, but lead_mgmt needs text",
						column, LmRelQualifiedName(rel), format_type_be(type)),
				 errhint("Change the column back to text.")));
	return attno;
}

/*
 * Whether a relation carries the named trigger calling lead_mgmt's function
 * (on a shard, Citus appends the shard's number to the trigger's name).
 */
static bool
LmHasOwnTrigger(Oid relid, bool shard, const char *trigger, const char *function)
{
	Oid			trigoid;
	HeapTuple	tup;
	bool		ok = false;
	Relation	tgrel;
	ScanKeyData skey;
	SysScanDesc scan;

	if (shard)
		trigger = psprintf("%s_" INT64_FORMAT, trigger, LmCitusShardIdOf(get_rel_name(relid)));
	trigoid = get_trigger_oid(relid, trigger, true);

	if (!OidIsValid(trigoid))
		return false;
	tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&skey, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(trigoid));
	scan = systable_beginscan(tgrel, TriggerOidIndexId, true, NULL, 1, &skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Oid			funcoid = ((Form_pg_trigger) GETSTRUCT(tup))->tgfoid;
		char	   *name = get_func_name(funcoid);

		ok = name != NULL && strcmp(name, function) == 0 &&
			get_func_namespace(funcoid) == LmGetOids()->schema;
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
	return ok;
}

/* The owner of a relation. */
Oid
LmRelOwner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* OPERATOR(schema.name) of an operator, for generated SQL. */
char *
LmOperatorSql(Oid opoid)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opoid));
	Form_pg_operator op;
	char	   *sql;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", opoid);
	op = (Form_pg_operator) GETSTRUCT(tup);
	sql = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(op->oprnamespace)),
				   NameStr(op->oprname));
	ReleaseSysCache(tup);
	return sql;
}

/*
 * Resolve the registration against the live tables.
 */
static void
LmLayoutBuild(MemoryContext cxt, LmLayout *l, LmRegistration *reg, const LmShardGroup *g)
{
	Relation	crel;
	Relation	prel;
	Relation	idx;
	Oid			opfamily;
	Oid			opcintype;
	Oid			eqop;
	Oid			outfunc;
	bool		varlena;
	AttrNumber	person_company_attno;
	char	   *person_company_q;
	MemoryContext old;

	l->shard = g != NULL;
	l->company_relid = g ? g->company : reg->company_relid;
	l->person_relid = g ? g->person : reg->person_relid;
	crel = LmOpenManaged(l->company_relid, "company");
	prel = LmOpenManaged(l->person_relid, "person");
	old = MemoryContextSwitchTo(cxt);
	l->company_qname = LmRelQualifiedName(crel);
	l->person_qname = LmRelQualifiedName(prel);
	l->history_qname = g && OidIsValid(g->history) ? LmRelidQualifiedName(g->history) :
		pstrdup("lead_mgmt.status_history");
	l->counts_qname = g && OidIsValid(g->counts) ? LmRelidQualifiedName(g->counts) :
		pstrdup("lead_mgmt.count_delta");
	l->category_catalog_qname = LmCatalogQualifiedName(LmGetOids()->category, "lead_mgmt.category");
	MemoryContextSwitchTo(old);

	/* the history table manage() creates, and the events' enum values */
	l->history_relid = g ? g->history : get_relname_relid("status_history", LmGetOids()->schema);
	l->history_owner = OidIsValid(l->history_relid) ? LmRelOwner(l->history_relid) : InvalidOid;
	l->history_seq = InvalidOid;
	l->history_seq_step = 1;
	l->history_direct = false;
	if (OidIsValid(l->history_relid))
	{
		int			c;

		l->history_direct = LmDirectAllowed(l->history_relid);
		for (c = 0; c < LM_HISTORY_COLUMNS; c++)
		{
			l->history_att[c] = get_attnum(l->history_relid, lm_history_columns[c]);
			if (l->history_att[c] == InvalidAttrNumber)
				l->history_direct = false;
		}
	}
	/* the count summary manage() creates (direct appends only) */
	l->counts_relid = g ? g->counts : get_relname_relid("count_delta", LmGetOids()->schema);
	if (OidIsValid(l->counts_relid))
	{
		int			c;

		for (c = 0; c < LM_COUNT_COLUMNS; c++)
		{
			l->counts_att[c] = get_attnum(l->counts_relid, lm_count_columns[c]);
			if (l->counts_att[c] == InvalidAttrNumber)
				l->counts_relid = InvalidOid;	/* not one of ours */
		}
	}
	/* distributed (Citus): shards take the deltas, SQL reads and folds it */
	l->counts_direct = OidIsValid(l->counts_relid) && LmDirectAllowed(l->counts_relid);
	l->counts_owner = OidIsValid(l->counts_relid) ? LmRelOwner(l->counts_relid) : InvalidOid;
	l->counts_index = !l->counts_direct ? InvalidOid :
		g ? g->counts_index : get_relname_relid("count_delta_kind", LmGetOids()->schema);

	if (OidIsValid(l->history_relid))
	{
		/* a shard draws its numbers from the table's sequence on this node */
		Oid			seq_of = g ? get_relname_relid("status_history", LmGetOids()->schema) :
			l->history_relid;
		AttrNumber	seq_attno = get_attnum(seq_of, "seq");
		HeapTuple	seqtup;

		if (seq_attno != InvalidAttrNumber)
			l->history_seq = LmIdentitySequence(seq_of, seq_attno);
		if (OidIsValid(l->history_seq) &&
			HeapTupleIsValid(seqtup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(l->history_seq))))
		{
			l->history_seq_step = Max(((Form_pg_sequence) GETSTRUCT(seqtup))->seqincrement, 1);
			ReleaseSysCache(seqtup);
		}
	}
	l->event_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									CStringGetDatum("history_event"),
									ObjectIdGetDatum(LmGetOids()->schema));
	if (!OidIsValid(l->event_type))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("type lead_mgmt.history_event does not exist"),
				 errhint("Update the extension: ALTER EXTENSION lead_mgmt UPDATE;")));
	{
		int			e;

		for (e = 0; e < 7; e++)
			l->event_values[e] = DirectFunctionCall2(enum_in, CStringGetDatum(lm_event_names[e]),
													 ObjectIdGetDatum(l->event_type));
	}

	/* managed only once manage()'s triggers are in place (a restore adds them last) */
	l->rules_installed =
		LmHasOwnTrigger(l->person_relid, g != NULL, LM_TRG_PERSON_RULES, "person_rules") &&
		LmHasOwnTrigger(l->person_relid, g != NULL, LM_TRG_PERSON_CHANGES, "person_changes") &&
		LmHasOwnTrigger(l->company_relid, g != NULL, LM_TRG_COMPANY_RULES, "company_rules") &&
		LmHasOwnTrigger(l->company_relid, g != NULL, LM_TRG_COMPANY_CASCADE, "company_cascade");

	l->company_owner = crel->rd_rel->relowner;
	l->person_owner = prel->rd_rel->relowner;
	l->company_key_attno = LmResolveColumn(crel, reg->company_key, "key", false);
	l->category_attno = LmResolveColumn(crel, reg->category_column, "category", true);
	person_company_attno = LmResolveColumn(prel, reg->company_column, "company", false);
	(void) LmResolveColumn(prel, reg->status_column, "lead status", true);
	{
		TypeCacheEntry *tc;

		l->person_key_attno = LmResolveColumn(prel, reg->person_key, "key", false);
		l->person_key_type = TupleDescAttr(RelationGetDescr(prel), l->person_key_attno - 1)->atttypid;
		get_typlenbyval(l->person_key_type, &l->person_key_typlen, &l->person_key_byval);
		tc = lookup_type_cache(l->person_key_type, TYPECACHE_EQ_OPR);
		if (!OidIsValid(tc->eq_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("type %s of the person key has no equality operator",
							format_type_be(l->person_key_type))));
		l->person_key_eq_op = MemoryContextStrdup(cxt, LmOperatorSql(tc->eq_opr));
	}
	{
		Oid			pk = RelationGetPrimaryKeyIndex(prel);

		l->person_key_has_company = false;
		if (OidIsValid(pk))
		{
			Relation	pidx = index_open(pk, AccessShareLock);

			l->person_key_has_company = pidx->rd_index->indnkeyatts == 2;
			index_close(pidx, AccessShareLock);
		}
	}
	l->company_key_type = TupleDescAttr(RelationGetDescr(crel), l->company_key_attno - 1)->atttypid;
	l->person_company_type = TupleDescAttr(RelationGetDescr(prel), person_company_attno - 1)->atttypid;
	get_typlenbyval(l->company_key_type, &l->company_key_typlen, &l->company_key_byval);

	/* the primary key index of the company table, for direct lookups */
	l->company_pk_index = RelationGetPrimaryKeyIndex(crel);
	if (!OidIsValid(l->company_pk_index))
	{
		if (!l->rules_installed)
		{
			/* a restore in progress: the key comes back with the triggers */
			table_close(prel, AccessShareLock);
			table_close(crel, AccessShareLock);
			return;
		}
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("managed company table %s has no primary key",
						LmRelQualifiedName(crel)),
				 errhint("Restore its primary key on column \"%s\".", reg->company_key)));
	}
	idx = index_open(l->company_pk_index, AccessShareLock);
	if (idx->rd_index->indnkeyatts != 1 ||
		idx->rd_index->indkey.values[0] != l->company_key_attno)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("primary key of managed company table %s is no longer column \"%s\"",
						LmRelQualifiedName(crel), reg->company_key),
				 errhint("Run SELECT lead_mgmt.unmanage(); and manage() the tables again.")));
	opfamily = idx->rd_opfamily[0];
	opcintype = idx->rd_opcintype[0];
	l->company_key_collation = idx->rd_indcollation[0];
	index_close(idx, AccessShareLock);
	eqop = get_opfamily_member(opfamily, opcintype, opcintype, BTEqualStrategyNumber);
	if (!OidIsValid(eqop))
		elog(ERROR, "no equality operator for the primary key of %s",
			 LmRelQualifiedName(crel));
	l->company_key_eqproc = get_opcode(eqop);
	l->company_key_eq_op = MemoryContextStrdup(cxt, LmOperatorSql(eqop));
	/* equal keys have equal bytes (not so for citext, numeric, bpchar) */
	l->company_key_binary = l->company_key_byval ||
		l->company_key_type == UUIDOID || l->company_key_type == BYTEAOID ||
		((l->company_key_type == TEXTOID || l->company_key_type == VARCHAROID) &&
		 get_collation_isdeterministic(OidIsValid(l->company_key_collation) ?
									   l->company_key_collation : DEFAULT_COLLATION_OID));
	fmgr_info_cxt(l->company_key_eqproc, &l->key_eq, cxt);
	getTypeOutputInfo(l->company_key_type, &outfunc, &varlena);
	fmgr_info_cxt(outfunc, &l->key_out, cxt);

	/*
	 * Generated SQL compares a company key with the person's company column
	 * by the key's own btree equality (citext keys compare as citext): the
	 * cross-type member of the key's operator family where there is one,
	 * else the key type's, with the column cast to the key type.
	 */
	person_company_q = pstrdup(quote_identifier(reg->company_column));
	{
		Oid			cross = get_opfamily_member(opfamily, opcintype,
												l->person_company_type,
												BTEqualStrategyNumber);

		if (OidIsValid(cross))
			eqop = cross;
		else if (l->person_company_type != l->company_key_type)
			person_company_q = psprintf("%s::%s", person_company_q,
										format_type_be_qualified(l->company_key_type));
	}

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

	old = MemoryContextSwitchTo(cxt);
	l->company_key_q = pstrdup(quote_identifier(reg->company_key));
	l->category_q = pstrdup(quote_identifier(reg->category_column));
	l->person_company_q = pstrdup(person_company_q);
	l->person_key_q = pstrdup(quote_identifier(reg->person_key));
	l->status_q = pstrdup(quote_identifier(reg->status_column));
	l->label_q = reg->label_column ? pstrdup(quote_identifier(reg->label_column)) : NULL;
	/* an owner column dropped since manage() counts as none */
	l->has_owner = reg->owner_column != NULL &&
		get_attnum(l->person_relid, reg->owner_column) != InvalidAttrNumber;
	l->owner_q = l->has_owner ? pstrdup(quote_identifier(reg->owner_column)) : NULL;
	l->key_eq_op = LmOperatorSql(eqop);
	MemoryContextSwitchTo(old);

	table_close(prel, AccessShareLock);
	table_close(crel, AccessShareLock);
}

/*
 * A new layout in a memory context of its own (freed again on error).
 */
static LmLayout *
LmLayoutCreate(LmRegistration *reg, const LmShardGroup *g, MemoryContext *cxt_out)
{
	MemoryContext cxt = AllocSetContextCreate(CacheMemoryContext, "lead_mgmt layout",
											  ALLOCSET_SMALL_SIZES);
	LmLayout   *fresh = MemoryContextAllocZero(cxt, sizeof(LmLayout));

	PG_TRY();
	{
		LmLayoutBuild(cxt, fresh, reg, g);
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
 * The current pair, or NULL when no tables are managed (or manage()'s
 * triggers are not all in place, as during a restore).
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
			fresh = LmLayoutCreate(&reg, NULL, &cxt);
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
		layout_managed = managed && fresh->rules_installed;
		layout_valid = true;
	}
	return layout_managed ? layout : NULL;
}

/*
 * The role a trigger was attached for (its argument), or the fallback for
 * triggers created without one.
 */
LmTableRole
LmTriggerRole(TriggerData *trigdata, LmTableRole fallback)
{
	Trigger    *tg = trigdata->tg_trigger;

	if (tg->tgnargs < 1)
		return fallback;
	if (strcmp(tg->tgargs[0], "company") == 0)
		return LM_ROLE_COMPANY;
	if (strcmp(tg->tgargs[0], "person") == 0)
		return LM_ROLE_PERSON;
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("trigger \"%s\" has argument \"%s\", expected \"company\" or \"person\"",
					tg->tgname, tg->tgargs[0])));
	return fallback;			/* keep compiler quiet */
}

/* A table of cached entries keyed by an OID, for the backend's life. */
static HTAB *
LmOidTable(const char *name, Size entrysize)
{
	HASHCTL		ctl;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = entrysize;
	ctl.hcxt = CacheMemoryContext;
	return hash_create(name, 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * The layout of the shard group of this node (Citus) of the given shards
 * (by LmShardGroupRelations), built on first use and kept by its company
 * shard.  NULL when the group lacks its company or person shard here.
 */
static LmLayout *
LmShardLayoutBuild(const Oid *shards)
{
	LmShardLayout *sl;
	LmShardGroup g;
	LmRegistration reg;
	MemoryContext cxt;
	bool		found;

	if (!OidIsValid(shards[0]) || !OidIsValid(shards[1]))
		return NULL;
	if (shard_layouts != NULL &&
		(sl = hash_search(shard_layouts, &shards[0], HASH_FIND, NULL)) != NULL)
		return sl->layout;
	g.company = shards[0];
	g.person = shards[1];
	g.history = shards[2];
	g.counts = shards[3];
	g.counts_index = shards[4];
	if (!LmReadRegistration(&reg))
		elog(ERROR, "lead_mgmt registration disappeared");
	{
		LmLayout   *fresh = LmLayoutCreate(&reg, &g, &cxt);

		if (shard_layouts == NULL)
			shard_layouts = LmOidTable("lead_mgmt shard layouts", sizeof(LmShardLayout));
		sl = hash_search(shard_layouts, &shards[0], HASH_ENTER, &found);
		sl->layout = fresh;
		sl->cxt = cxt;
	}
	return sl->layout;
}

/*
 * The relations of the pair whose shards make a group: company, person,
 * status history, count summary and its index (InvalidOid where missing).
 */
static void
LmShardGroupRelations(LmLayout *pair, Oid *rels)
{
	Oid			schema = LmGetOids()->schema;

	rels[0] = pair->company_relid;
	rels[1] = pair->person_relid;
	rels[2] = get_relname_relid("status_history", schema);
	rels[3] = get_relname_relid("count_delta", schema);
	rels[4] = OidIsValid(rels[3]) ? get_relname_relid("count_delta_kind", schema) : InvalidOid;
}

/*
 * The layout of the shard group of which shard is the shard of the pair's
 * table rels[me] (0: company, 1: person), or NULL when it is not one.
 */
static LmLayout *
LmShardLayoutOf(LmLayout *pair, int me, Oid shard)
{
	Oid			rels[5];
	Oid			shards[5];
	LmShardLayout *sl;

	/* the layouts are kept by their company shard */
	if (me == 0 && shard_layouts != NULL &&
		(sl = hash_search(shard_layouts, &shard, HASH_FIND, NULL)) != NULL)
		return sl->layout;
	LmShardGroupRelations(pair, rels);
	if (!LmCitusColocatedShards(rels[me], LmCitusShardIdOf(get_rel_name(shard)), 5, rels, shards) ||
		shards[me] != shard)
		return NULL;
	return LmShardLayoutBuild(shards);
}

/*
 * The layout for a trigger firing on rel, a shard of the managed table of
 * role on a Citus node, or NULL when rel is not one.
 */
static LmLayout *
LmShardLayoutFor(LmLayout *pair, Relation rel, LmTableRole role)
{
	if (!LmCitusInstalled() || LmCitusShardIdOf(RelationGetRelationName(rel)) <= 0)
		return NULL;
	return LmShardLayoutOf(pair, role == LM_ROLE_PERSON ? 1 : 0, RelationGetRelid(rel));
}

/*
 * The layouts of every shard group on this node (Citus): work that spans
 * many companies, done by a trigger on this node's copy of a catalog,
 * stays on this node.  NIL on a single server or without managed tables.
 */
List *
LmLocalShardLayouts(void)
{
	LmLayout   *pair = LmGetLayout();
	List	   *result = NIL;
	ListCell   *lc;

	if (pair == NULL || !LmCitusInstalled() || !LmCitusTable(pair->company_relid))
		return NIL;
	foreach(lc, LmCitusLocalShards(pair->company_relid))
	{
		LmLayout   *l = LmShardLayoutOf(pair, 0, lfirst_oid(lc));

		if (l != NULL && l->rules_installed)
			result = lappend(result, l);
	}
	return result;
}

/*
 * The layout of the relation a trigger fires on, for the given role: the
 * relation must be the managed table of that role, or on a Citus node one
 * of its shards.
 */
LmRelLayout *
LmGetRelLayout(TriggerData *trigdata, LmTableRole role, const char *funcname)
{
	Relation	rel = trigdata->tg_relation;
	Oid			relid = RelationGetRelid(rel);
	LmLayout   *pair = LmGetLayout();
	LmLayout   *target = pair;
	LmRelLayout *rl;
	bool		found;

	if (pair == NULL && layout != NULL &&
		(relid == layout->company_relid || relid == layout->person_relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a trigger of lead_mgmt is missing on the managed tables %s and %s",
						layout->company_qname, layout->person_qname),
				 errdetail("lead_mgmt.manage() installs %s, %s and %s on the company table and %s, %s and %s on the person table.",
						   LM_TRG_COMPANY_RULES, LM_TRG_COMPANY_CASCADE, LM_TRG_COMPANY_PENDING,
						   LM_TRG_PERSON_RULES, LM_TRG_PERSON_CHANGES, LM_TRG_PERSON_PENDING),
				 errhint("Run SELECT lead_mgmt.unmanage(); and lead_mgmt.manage() again to install them.")));

	/* the entry of the last call (entries never move or go away) */
	if (last_rel_layout != NULL && last_rel_layout->relid == relid &&
		last_rel_layout->valid && last_rel_layout->role == role &&
		(last_rel_layout->shard ? pair != NULL : last_rel_layout->pair == pair))
		return last_rel_layout;

	if (rel_layouts == NULL)
		rel_layouts = LmOidTable("lead_mgmt relation layouts", sizeof(LmRelLayout));
	rl = hash_search(rel_layouts, &relid, HASH_FIND, NULL);
	if (rl != NULL && rl->valid && rl->role == role &&
		(rl->shard ? pair != NULL : rl->pair == pair))
	{
		last_rel_layout = rl;
		return rl;
	}

	if (pair != NULL &&
		relid != (role == LM_ROLE_PERSON ? pair->person_relid : pair->company_relid))
		target = LmShardLayoutFor(pair, rel, role);
	if (target == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not the %s table managed by lead_mgmt",
						RelationGetRelationName(rel),
						role == LM_ROLE_PERSON ? "person" : "company"),
				 errhint("lead_mgmt.manage() attaches lead_mgmt.%s() to the managed tables only; drop trigger \"%s\".",
						 funcname, trigdata->tg_trigger->tgname)));

	rl = hash_search(rel_layouts, &relid, HASH_ENTER, &found);
	rl->shard = target != pair;
	pair = target;
	rl->valid = false;
	rl->role = role;
	rl->pair = pair;
	rl->label_attno = 0;
	rl->owner_attno = 0;
	{
		LmRegistration reg;

		if (!LmReadRegistration(&reg))
			elog(ERROR, "lead_mgmt registration disappeared");
		if (role == LM_ROLE_PERSON)
		{
			rl->key_attno = LmResolveColumn(rel, reg.person_key, "key", false);
			rl->company_attno = LmResolveColumn(rel, reg.company_column, "company", false);
			rl->status_attno = LmResolveColumn(rel, reg.status_column, "lead status", true);
			if (reg.label_column != NULL)
				rl->label_attno = LmResolveColumn(rel, reg.label_column, "label", false);
			if (reg.owner_column != NULL &&
				(rl->owner_attno = attnameAttNum(rel, reg.owner_column, false)) > 0)
			{
				Oid			outfunc;
				bool		varlena;

				getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), rl->owner_attno - 1)->atttypid,
								  &outfunc, &varlena);
				fmgr_info_cxt(outfunc, &rl->owner_out, CacheMemoryContext);
			}
			else
				rl->owner_attno = 0;
		}
		else
		{
			rl->key_attno = LmResolveColumn(rel, reg.company_key, "key", false);
			rl->company_attno = rl->key_attno;
			rl->status_attno = LmResolveColumn(rel, reg.category_column, "category", true);
		}
	}
	rl->valid = true;
	last_rel_layout = rl;
	return rl;
}

/*
 * The persons with their company, as the count summary counts them (its
 * recount and the readers' own count share it): "FROM ... p LEFT JOIN ... c".
 */
static char *
LmPersonsWithCompanySql(LmLayout *l)
{
	return psprintf("FROM ONLY %s p LEFT JOIN ONLY %s c ON c.%s %s p.%s",
					l->person_qname, l->company_qname, l->company_key_q,
					l->key_eq_op, l->person_company_q);
}

/* The owner of a person as text (qualified by alias, if any); NULL without. */
static char *
LmOwnerTextSql(LmLayout *l, const char *alias)
{
	if (!l->has_owner)
		return "NULL::pg_catalog.text";
	return psprintf("%s%s%s::pg_catalog.text", alias ? alias : "", alias ? "." : "", l->owner_q);
}

/*
 * SQL text of a prepared statement, with its parameter types.  Every name
 * is quoted and qualified, the managed tables are read and written ONLY (as
 * PostgreSQL's referential actions do), and values are parameters.
 */
static char *
LmPlanSql(LmLayout *l, LmPlanId id, Oid *argtypes, int *nargs)
{
	StringInfoData sql;

	initStringInfo(&sql);
	switch (id)
	{
		case LM_PLAN_ENTRY_RESET:
		case LM_PLAN_ENTRY_EMPTY:
			appendStringInfo(&sql, "UPDATE ONLY %s SET %s = $2 WHERE $1 %s %s",
							 l->person_qname, l->status_q, l->key_eq_op, l->person_company_q);
			if (id == LM_PLAN_ENTRY_RESET)
				appendStringInfo(&sql, " AND (%s IS NULL OR %s OPERATOR(pg_catalog.<>) $2)",
								 l->status_q, l->status_q);
			else
				appendStringInfo(&sql, " AND %s IS NULL", l->status_q);
			argtypes[0] = l->company_key_type;
			argtypes[1] = TEXTOID;
			*nargs = 2;
			break;
		case LM_PLAN_COUNT_HELD:
			appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM ONLY %s WHERE $1 %s %s AND %s IS NOT NULL",
							 l->person_qname, l->key_eq_op, l->person_company_q, l->status_q);
			argtypes[0] = l->company_key_type;
			*nargs = 1;
			break;
		case LM_PLAN_COUNT_AT:
			appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM ONLY %s WHERE $1 %s %s AND %s OPERATOR(pg_catalog.=) $2",
							 l->person_qname, l->key_eq_op, l->person_company_q, l->status_q);
			argtypes[0] = l->company_key_type;
			argtypes[1] = TEXTOID;
			*nargs = 2;
			break;
		case LM_PLAN_COMPANIES_OF_CATEGORY:
			/*
			 * FOR UPDATE: a writer may hold a company of the category in
			 * KEY SHARE since before the company changed to this category
			 * (the category lock it holds is then the old one's); the flip
			 * waits for it here.
			 */
			appendStringInfo(&sql, "SELECT %s FROM ONLY %s WHERE %s OPERATOR(pg_catalog.=) $1 FOR UPDATE",
							 l->company_key_q, l->company_qname, l->category_q);
			argtypes[0] = TEXTOID;
			*nargs = 1;
			break;
		case LM_PLAN_CATEGORY_USERS:
			appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM ONLY %s WHERE %s OPERATOR(pg_catalog.=) $1",
							 l->company_qname, l->category_q);
			argtypes[0] = TEXTOID;
			*nargs = 1;
			break;
		case LM_PLAN_PERSON_STATUS:
			appendStringInfo(&sql, "SELECT %s, %s FROM ONLY %s WHERE %s %s $1 AND $2 %s %s",
							 l->status_q, LmOwnerTextSql(l, NULL),
							 l->person_qname, l->person_key_q, l->person_key_eq_op,
							 l->key_eq_op, l->person_company_q);
			argtypes[0] = l->person_key_type;
			argtypes[1] = l->company_key_type;
			*nargs = 2;
			break;
		case LM_PLAN_PERSON_SET:
			appendStringInfo(&sql, "UPDATE ONLY %s SET %s = $3 WHERE %s %s $1 AND $2 %s %s",
							 l->person_qname, l->status_q, l->person_key_q, l->person_key_eq_op,
							 l->key_eq_op, l->person_company_q);
			argtypes[0] = l->person_key_type;
			argtypes[1] = l->company_key_type;
			argtypes[2] = TEXTOID;
			*nargs = 3;
			break;
		case LM_PLAN_HISTORY_INSERT:
			appendStringInfo(&sql,
							 "INSERT INTO %s"
							 " (seq, company_id, person_id, from_status, to_status, event, category,"
							 "  changed_at, changed_by, source, visible) OVERRIDING SYSTEM VALUE"
							 " SELECT b.q, b.c, b.p, b.f, b.t, b.e, b.k, b.w, SESSION_USER, b.s, b.v"
							 "   FROM lead_mgmt.history_batch() AS b (q pg_catalog.int8, c %s, p %s, f pg_catalog.text,"
							 "        t pg_catalog.text, e lead_mgmt.history_event, k pg_catalog.text,"
							 "        w pg_catalog.timestamptz, s pg_catalog.text, v pg_catalog.bool)",
							 l->history_qname,
							 format_type_be_qualified(getBaseType(l->company_key_type)),
							 format_type_be_qualified(getBaseType(l->person_key_type)));
			*nargs = 0;
			break;
		case LM_PLAN_HISTORY_HELD:
		case LM_PLAN_HISTORY_AT:
			appendStringInfo(&sql,
							 "INSERT INTO %s"
							 " (%scompany_id, person_id, from_status, to_status, event, category,"
							 "  changed_at, changed_by, source, visible)"
							 " SELECT %s$1, p.%s, p.%s, p.%s, $3, $2, $4, SESSION_USER, $5, $6"
							 "   FROM ONLY %s p WHERE $1 %s p.%s AND p.%s %s",
							 l->history_qname,
			/* a shard has no identity column: numbers from the table's sequence here */
							 l->shard ? "seq, " : "",
							 l->shard ? psprintf("pg_catalog.nextval(%s::pg_catalog.regclass), ",
												 quote_literal_cstr(LmRelidQualifiedName(l->history_seq))) : "",
							 l->person_key_q, l->status_q, l->status_q, l->person_qname,
							 l->key_eq_op, l->person_company_q, l->status_q,
							 id == LM_PLAN_HISTORY_AT ? "OPERATOR(pg_catalog.=) $7" : "IS NOT NULL");
			argtypes[0] = l->company_key_type;
			argtypes[1] = TEXTOID;
			argtypes[2] = l->event_type;
			argtypes[3] = TIMESTAMPTZOID;
			argtypes[4] = TEXTOID;
			argtypes[5] = BOOLOID;
			argtypes[6] = TEXTOID;
			*nargs = id == LM_PLAN_HISTORY_AT ? 7 : 6;
			break;
		case LM_PLAN_MERGE:
			appendStringInfo(&sql, "UPDATE ONLY %s SET %s = $2 WHERE %s OPERATOR(pg_catalog.=) $1",
							 l->person_qname, l->status_q, l->status_q);
			argtypes[0] = TEXTOID;
			argtypes[1] = TEXTOID;
			*nargs = 2;
			break;
		case LM_PLAN_COMPANY_ADVANCE:
			appendStringInfo(&sql, "UPDATE ONLY %s c SET %s = $2 WHERE c.%s OPERATOR(pg_catalog.=) $1"
							 " AND c.%s OPERATOR(pg_catalog.<>) $2"
							 " AND EXISTS (SELECT FROM %s k"
							 "              WHERE k.key OPERATOR(pg_catalog.=) c.%s AND k.enable_lead_status)",
							 l->company_qname, l->category_q, l->company_key_q, l->category_q,
							 l->category_catalog_qname, l->category_q);
			argtypes[0] = l->company_key_type;
			argtypes[1] = TEXTOID;
			*nargs = 2;
			break;
		case LM_PLAN_HISTORY_REKEY:
			appendStringInfo(&sql, "UPDATE %s SET person_id = $2", l->history_qname);
			if (l->person_key_has_company)
				appendStringInfo(&sql, ", company_id = $4");
			appendStringInfo(&sql, " WHERE person_id %s $1", l->person_key_eq_op);
			if (l->person_key_has_company)
				appendStringInfo(&sql, " AND company_id %s $3", l->company_key_eq_op);
			argtypes[0] = getBaseType(l->person_key_type);
			argtypes[1] = argtypes[0];
			argtypes[2] = getBaseType(l->company_key_type);
			argtypes[3] = argtypes[2];
			*nargs = l->person_key_has_company ? 4 : 2;
			break;
		case LM_PLAN_COUNT_GROUPS:
			appendStringInfo(&sql, "SELECT %s, %s, pg_catalog.count(*) FROM ONLY %s WHERE $1 %s %s GROUP BY 1, 2",
							 l->status_q, LmOwnerTextSql(l, NULL),
							 l->person_qname, l->key_eq_op, l->person_company_q);
			argtypes[0] = l->company_key_type;
			*nargs = 1;
			break;
		case LM_PLAN_COUNTS_READ:
			appendStringInfo(&sql, "SELECT category, status, owner, pg_catalog.sum(n)::pg_catalog.int8"
							 "  FROM %s WHERE kind OPERATOR(pg_catalog.=) $1"
							 " GROUP BY 1, 2, 3", l->counts_qname);
			argtypes[0] = CHAROID;
			*nargs = 1;
			break;
		case LM_PLAN_COUNTS_COMPACT:
			/*
			 * Only the keys with more than one row, or adding up to zero:
			 * the rows already folded stay where they are.
			 */
			appendStringInfo(&sql, "WITH d AS (DELETE FROM %s"
							 "        WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
							 "              SELECT pg_catalog.unnest(pg_catalog.array_agg(ctid))"
							 "                FROM %s GROUP BY kind, category, status, owner"
							 "               HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1"
							 "                   OR pg_catalog.sum(n) OPERATOR(pg_catalog.=) 0))"
							 "       RETURNING *),"
							 " f AS (INSERT INTO %s (company_id, kind, category, status, owner, n)"
							 "       SELECT (pg_catalog.array_agg(d.company_id))[1], d.kind, d.category, d.status,"
							 "              d.owner, pg_catalog.sum(d.n)"
							 "         FROM d GROUP BY d.kind, d.category, d.status, d.owner"
							 "        HAVING pg_catalog.sum(d.n) OPERATOR(pg_catalog.<>) 0)"
							 " SELECT FROM d", l->counts_qname, l->counts_qname, l->counts_qname);
			*nargs = 0;
			break;
		case LM_PLAN_COUNTS_SEED:
			{
				const char *any_company = psprintf("(pg_catalog.array_agg(c.%s) FILTER (WHERE c.%s IS NOT NULL))[1]",
												   l->company_key_q, l->company_key_q);
				const char *persons = LmPersonsWithCompanySql(l);

				appendStringInfo(&sql, "INSERT INTO %s (company_id, kind, category, status, owner, n)"
								 " SELECT %s, 'p', c.%s, p.%s, NULL, pg_catalog.count(*) %s GROUP BY c.%s, p.%s",
								 l->counts_qname, any_company, l->category_q, l->status_q, persons, l->category_q, l->status_q);
				if (l->has_owner)
					appendStringInfo(&sql, " UNION ALL"
									 " SELECT %s, 'o', c.%s, p.%s, %s, pg_catalog.count(*) %s"
									 "  GROUP BY c.%s, p.%s, %s",
									 any_company, l->category_q, l->status_q, LmOwnerTextSql(l, "p"),
									 persons, l->category_q, l->status_q, LmOwnerTextSql(l, "p"));
				appendStringInfo(&sql, " UNION ALL"
								 " SELECT (pg_catalog.array_agg(c.%s))[1], 'c', c.%s, NULL, NULL, pg_catalog.count(*)"
								 "   FROM ONLY %s c GROUP BY c.%s",
								 l->company_key_q, l->category_q, l->company_qname, l->category_q);
				*nargs = 0;
			}
			break;
		case LM_PLAN_COUNTS_SCAN_P:
		case LM_PLAN_COUNTS_SCAN_O:
			/* (run as the reader: its privileges and row-level security apply) */
			appendStringInfo(&sql, "SELECT c.%s::pg_catalog.text, p.%s::pg_catalog.text, %s, pg_catalog.count(*)"
							 "  %s GROUP BY 1, 2, 3",
							 l->category_q, l->status_q,
							 id == LM_PLAN_COUNTS_SCAN_O ? LmOwnerTextSql(l, "p") : "NULL::pg_catalog.text",
							 LmPersonsWithCompanySql(l));
			*nargs = 0;
			break;
		case LM_PLAN_COUNTS_SCAN_C:
			appendStringInfo(&sql, "SELECT c.%s::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text,"
							 " pg_catalog.count(*) FROM ONLY %s c GROUP BY 1",
							 l->category_q, l->company_qname);
			*nargs = 0;
			break;
		case LM_PLAN_COUNTS_CLEAR:
			appendStringInfo(&sql, "DELETE FROM %s"
							 " WHERE pg_catalog.strpos($1, kind::pg_catalog.text) OPERATOR(pg_catalog.>) 0",
							 l->counts_qname);
			argtypes[0] = TEXTOID;
			*nargs = 1;
			break;
		case LM_PLAN_STATUS_HOLDERS:
			appendStringInfo(&sql, "SELECT pg_catalog.count(*) FROM ONLY %s WHERE %s OPERATOR(pg_catalog.=) $1",
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
 * A prepared statement of the layout, prepared on first use and kept until
 * the layout is rebuilt.  The caller is connected to SPI.
 */
static SPIPlanPtr
LmLayoutPlan(LmLayout *l, LmPlanId id)
{
	if (l->plans[id] == NULL)
	{
		Oid			argtypes[FUNC_MAX_ARGS];
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

/* The owner of a person row as text; NULL when none (or not configured). */
char *
LmPersonOwnerText(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		value;

	if (rl->owner_attno <= 0)
		return NULL;
	value = heap_getattr(tuple, rl->owner_attno, desc, &isnull);
	return isnull ? NULL : OutputFunctionCall(&rl->owner_out, value);
}

/*
 * Text form of a company key, for messages.
 */
char *
LmCompanyKeyText(LmLayout *l, Datum key)
{
	return OutputFunctionCall(&l->key_out, key);
}

/* Equality of two company keys by the key's btree equality. */
bool
LmCompanyKeyEqual(LmLayout *l, Datum a, Datum b)
{
	return DatumGetBool(FunctionCall2Coll(&l->key_eq, l->company_key_collation, a, b));
}

/* The owner of the table a prepared statement reads or writes. */
static Oid
LmPlanOwner(LmLayout *l, LmPlanId id)
{
	switch (id)
	{
		case LM_PLAN_COMPANIES_OF_CATEGORY:
		case LM_PLAN_CATEGORY_USERS:
		case LM_PLAN_COMPANY_ADVANCE:
			return l->company_owner;
		case LM_PLAN_COUNTS_READ:
		case LM_PLAN_COUNTS_COMPACT:
		case LM_PLAN_COUNTS_CLEAR:
		case LM_PLAN_COUNTS_SEED:
			return l->counts_owner;
		case LM_PLAN_HISTORY_INSERT:
		case LM_PLAN_HISTORY_HELD:
		case LM_PLAN_HISTORY_AT:
		case LM_PLAN_HISTORY_REKEY:
			/* writes history (the set plans read the persons too) */
			return l->history_owner;
		default:
			return l->person_owner;
	}
}

/*
 * Run a prepared statement of the layout (without arguments) as the current
 * user, read-only, with the caller's snapshot.  The caller is connected to
 * SPI.
 */
uint64
LmExecuteAsCaller(LmLayout *l, LmPlanId id)
{
	int			ret = SPI_execute_plan(LmLayoutPlan(l, id), NULL, NULL, true, 0);

	if (ret < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/*
 * Run a prepared statement of the layout as the owner of the table it reads
 * or writes, with row-level security of that owner not forced (as
 * PostgreSQL does for referential actions): lead_mgmt's own statements must
 * see every row, whoever triggered them.  Under REPEATABLE READ and
 * SERIALIZABLE the statement sees the latest committed rows and fails with a
 * serialization error where those differ from the transaction's snapshot,
 * instead of missing rows.  The count summary is the exception: it is read
 * with the transaction's snapshot (its counts are those of the snapshot),
 * and folded or rebuilt with the latest one and no such check (a fold only
 * replaces committed rows by their sum, under a lock that other folds take
 * too, so the rows it sees cannot be gone, and rows committed after the
 * transaction's snapshot are no conflict).  The statement's AFTER triggers join those of the
 * statement that fired us, unless own_query says there is none (at commit).
 * The caller is connected to SPI.
 */
uint64
LmExecuteAsOwner(LmLayout *l, LmPlanId id, Datum *values, const char *nulls,
				 bool own_query)
{
	Oid			save_userid;
	int			save_sec_context;
	volatile int ret = 0;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(LmPlanOwner(l, id), save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	PG_TRY();
	{
		SPIPlanPtr	plan = LmLayoutPlan(l, id);

		if (!IsolationUsesXactSnapshot() || id == LM_PLAN_COUNTS_READ)
			ret = SPI_execute_snapshot(plan, values, nulls, InvalidSnapshot,
									   InvalidSnapshot, false, own_query, 0);
		else if (id == LM_PLAN_COUNTS_COMPACT || id == LM_PLAN_COUNTS_CLEAR ||
				 id == LM_PLAN_COUNTS_SEED)
			ret = SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(),
									   InvalidSnapshot, false, own_query, 0);
		else
			ret = SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(),
									   GetTransactionSnapshot(), false, own_query, 0);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	if (ret < 0)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/*
 * Run a count(*) statement of the layout (connects to SPI itself).
 */
int64
LmCountAsOwner(LmLayout *l, LmPlanId id, Datum *values)
{
	int64		n = 0;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (LmExecuteAsOwner(l, id, values, NULL, false) == 1)
		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return n;
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
