/*
 * refusal.h
 *		The errors of the person rules: unknown or deleted status (B6),
 *		disallowed transition (S2), hidden or company-less person (B5).
 *
 * Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
 */
#ifndef LEAD_MGMT_REFUSAL_H
#define LEAD_MGMT_REFUSAL_H

#include "access/htup.h"
#include "access/tupdesc.h"

#include "layout.h"

extern void LmRefuseUnknownStatus(const char *value) pg_attribute_noreturn();
extern void LmCheckSettable(const char *key);
extern void LmCheckTransition(const char *from, const char *to);
extern void LmRefuseHidden(LmLayout *layout, const char *status,
						   Datum company) pg_attribute_noreturn();
extern void LmRefuseNoCompany(const char *status) pg_attribute_noreturn();
extern void LmRefuseClear(LmLayout *layout, Datum company) pg_attribute_noreturn();

/*
 * B5 refusals of a statement are collected row by row and reported once,
 * at the statement's end, with how many persons of how many companies.
 */
extern void LmHiddenNote(LmRelLayout *rl, HeapTuple tuple, TupleDesc desc,
						 const char *status, Datum company);
extern void LmHiddenReport(void);
extern void LmHiddenReset(void);
extern void LmHiddenSubXactAbort(int level);

#endif							/* LEAD_MGMT_REFUSAL_H */
