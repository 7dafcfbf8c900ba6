-- Copyright (c) 2026, the lead_mgmt authors; PostgreSQL License (LICENSE).
/*
 * bench/plpgsql_rules.sql
 *		The lead rules of lead_mgmt as PL/pgSQL triggers, written the way a
 *		careful user would write them for their own tables.  bench/run
 *		measures the C triggers against these (SPEC §8: "the C triggers must
 *		beat a PL/pgSQL implementation of the same rules by a wide margin").
 *
 * Needs bench/catalogs.sql (schema lead_catalog) and bench/tables.sql
 * (public.company, public.person) first.
 *
 * Rules covered, with the same decisions and SQLSTATEs as the C triggers:
 *	B1	insert under a lead-enabled company without status: the default
 *	B2	company category becomes lead-enabled: its persons get the default;
 *		a person moves from a company that is not lead-enabled (or none)
 *		into one that is: the default (reentry policy "reset")
 *	B3	category stops being lead-enabled, person moves out: nothing changes
 *	B5	a status cannot be set on a hidden person or one without company
 *	B6	a deleted status cannot be newly set
 *	S2	where transition rules exist for the old status, only listed moves
 *
 * Locking follows the same protocol as lead_mgmt: the company row is locked
 * FOR KEY SHARE in a query of its own (the foreign-key check takes that lock
 * right after anyway), and only then is its category looked up in the
 * catalog, in a second query.  A category change that flips whether the
 * company is lead-enabled takes FOR UPDATE on the company row, so it waits
 * for in-flight inserts and moves of its persons.  Every catalog lookup is
 * plain SQL against the catalog tables; every name is schema-qualified, so
 * the functions need no SET search_path (which would cost a GUC save and
 * restore per row).
 *
 * Not covered, as no benchmark path touches it: history, automation rules,
 * the "restore" reentry policy, catalog changes by an administrator, and
 * persons whose company is not visible yet (the foreign key reports those).
 */

CREATE SCHEMA lead_rules;

/*
 * BEFORE INSERT OR UPDATE OF company_id, lead_status ON public.person
 */
CREATE FUNCTION lead_rules.person_rules() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    moved           boolean := false;
    status_given    boolean;
    company_cat     text;
    enabled         boolean := false;
    was_enabled     boolean := false;
    default_status  text;
    status_deleted  boolean;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        moved := NEW.company_id IS DISTINCT FROM OLD.company_id;
        status_given := NEW.lead_status IS DISTINCT FROM OLD.lead_status;
        IF NOT moved AND NOT status_given THEN
            RETURN NEW;
        END IF;
        -- company_cascade() writes the default itself
        IF current_setting('lead_rules.cascade', true) = 'on' THEN
            RETURN NEW;
        END IF;
    ELSE
        status_given := NEW.lead_status IS NOT NULL;
    END IF;

    -- B5: no company, no status
    IF NEW.company_id IS NULL THEN
        IF status_given THEN
            RAISE EXCEPTION 'cannot set lead status "%" on a person without a company',
                    coalesce(NEW.lead_status, '')
                USING ERRCODE = '23L02',
                      HINT = 'Assign the person to a company whose category is lead-enabled, in the same statement or before.';
        END IF;
        RETURN NEW;
    END IF;

    -- lock, then read: the company row alone ...
    SELECT c.category INTO company_cat
      FROM public.company c
     WHERE c.id = NEW.company_id
       FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN NEW;             -- the foreign key reports the missing company
    END IF;
    -- ... then its category
    IF company_cat IS NOT NULL THEN
        SELECT k.enable_lead_status AND k.category_group = 'potential_customer'
          INTO enabled
          FROM lead_catalog.category k
         WHERE k.key = company_cat;
        enabled := coalesce(enabled, false);
    END IF;

    IF status_given THEN
        -- B5: only a visible status can be set, and a visible one not cleared
        IF NOT enabled THEN
            RAISE EXCEPTION 'cannot set lead status "%" on a person whose company is not lead-enabled',
                    coalesce(NEW.lead_status, '')
                USING ERRCODE = '23L01',
                      DETAIL = format('Company %s has category %s.', NEW.company_id,
                                      coalesce(quote_literal(company_cat), 'none')),
                      HINT = 'Lead status is visible and editable only while the company''s category is in group potential_customer with enable_lead_status on.';
        END IF;
        IF NEW.lead_status IS NULL THEN
            RAISE EXCEPTION 'lead status of a person in lead-enabled company % cannot be empty',
                    NEW.company_id
                USING ERRCODE = '23502',
                      HINT = 'Set another status instead.';
        END IF;
        -- B6 (an unknown key is left to the foreign key)
        SELECT s.deleted INTO status_deleted
          FROM lead_catalog.lead_status s
         WHERE s.key = NEW.lead_status;
        IF status_deleted THEN
            RAISE EXCEPTION 'lead status "%" is deleted', NEW.lead_status
                USING ERRCODE = '23L03',
                      DETAIL = 'A deleted status cannot be newly set; persons who already hold it keep it.';
        END IF;
        -- S2, from a status that was visible
        IF TG_OP = 'UPDATE' AND OLD.lead_status IS NOT NULL THEN
            IF moved THEN
                was_enabled := false;
                IF OLD.company_id IS NOT NULL THEN
                    SELECT k.enable_lead_status AND k.category_group = 'potential_customer'
                      INTO was_enabled
                      FROM public.company c
                      JOIN lead_catalog.category k ON k.key = c.category
                     WHERE c.id = OLD.company_id;
                    was_enabled := coalesce(was_enabled, false);
                END IF;
            ELSE
                was_enabled := true;
            END IF;
            IF was_enabled
               AND EXISTS (SELECT 1 FROM lead_catalog.status_transition t
                            WHERE t.from_status = OLD.lead_status)
               AND NOT EXISTS (SELECT 1 FROM lead_catalog.status_transition t
                                WHERE t.from_status = OLD.lead_status
                                  AND t.to_status = NEW.lead_status) THEN
                RAISE EXCEPTION 'lead status cannot move from "%" to "%"',
                        OLD.lead_status, NEW.lead_status
                    USING ERRCODE = '23L04',
                          DETAIL = format('lead_catalog.status_transition lists the moves allowed from %L.',
                                          OLD.lead_status);
            END IF;
        END IF;
        RETURN NEW;
    END IF;

    -- no status given: B3 (hidden and kept) outside lead-enabled companies
    IF NOT enabled THEN
        RETURN NEW;
    END IF;

    IF TG_OP = 'UPDATE' AND NEW.lead_status IS NOT NULL THEN
        -- B2: a move between two lead-enabled companies changes nothing
        IF OLD.company_id IS NOT NULL THEN
            SELECT k.enable_lead_status AND k.category_group = 'potential_customer'
              INTO was_enabled
              FROM public.company c
              JOIN lead_catalog.category k ON k.key = c.category
             WHERE c.id = OLD.company_id;
        END IF;
        IF coalesce(was_enabled, false) THEN
            RETURN NEW;
        END IF;
    END IF;

    -- B1 on insert, B2 on entry (reset): the default status
    SELECT s.key INTO default_status
      FROM lead_catalog.lead_status s
     WHERE s.is_default AND NOT s.deleted;
    IF default_status IS NULL THEN
        RAISE EXCEPTION 'lead_catalog.lead_status has no default status'
            USING ERRCODE = '23L06';
    END IF;
    NEW.lead_status := default_status;
    RETURN NEW;
END
$$;

/*
 * BEFORE INSERT OR UPDATE OF category ON public.company
 *
 * A deleted category cannot be newly set; a change that flips whether the
 * company is lead-enabled locks the row FOR UPDATE, which waits for the
 * FOR KEY SHARE locks of in-flight person inserts and moves.
 */
CREATE FUNCTION lead_rules.company_rules() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    cat_deleted     boolean;
    enabled         boolean;
    was_enabled     boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.category IS NOT DISTINCT FROM OLD.category THEN
        RETURN NEW;
    END IF;
    IF NEW.category IS NOT NULL THEN
        SELECT k.deleted, k.enable_lead_status AND k.category_group = 'potential_customer'
          INTO cat_deleted, enabled
          FROM lead_catalog.category k
         WHERE k.key = NEW.category;
        IF cat_deleted THEN
            RAISE EXCEPTION 'category "%" is deleted', NEW.category
                USING ERRCODE = '23L03',
                      DETAIL = 'A deleted category cannot be newly set; companies that already have it keep it.';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.category IS NOT NULL THEN
            SELECT k.enable_lead_status AND k.category_group = 'potential_customer'
              INTO was_enabled
              FROM lead_catalog.category k
             WHERE k.key = OLD.category;
        END IF;
        IF coalesce(enabled, false) <> coalesce(was_enabled, false) THEN
            PERFORM 1 FROM public.company c WHERE c.id = OLD.id FOR UPDATE;
        END IF;
    END IF;
    RETURN NEW;
END
$$;

/*
 * AFTER UPDATE OF category ON public.company
 * WHEN (OLD.category IS DISTINCT FROM NEW.category)
 *
 * B2: the company became lead-enabled; its persons get the default status.
 * B3: it stopped being lead-enabled; nothing changes.
 */
CREATE FUNCTION lead_rules.company_cascade() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    enabled         boolean;
    was_enabled     boolean;
    default_status  text;
BEGIN
    SELECT k.enable_lead_status AND k.category_group = 'potential_customer'
      INTO enabled
      FROM lead_catalog.category k
     WHERE k.key = NEW.category;
    SELECT k.enable_lead_status AND k.category_group = 'potential_customer'
      INTO was_enabled
      FROM lead_catalog.category k
     WHERE k.key = OLD.category;
    IF NOT coalesce(enabled, false) OR coalesce(was_enabled, false) THEN
        RETURN NULL;
    END IF;

    SELECT s.key INTO default_status
      FROM lead_catalog.lead_status s
     WHERE s.is_default AND NOT s.deleted;
    IF default_status IS NULL THEN
        RAISE EXCEPTION 'lead_catalog.lead_status has no default status'
            USING ERRCODE = '23L06';
    END IF;
    PERFORM set_config('lead_rules.cascade', 'on', true);
    UPDATE public.person p
       SET lead_status = default_status
     WHERE p.company_id = NEW.id
       AND p.lead_status IS DISTINCT FROM default_status;
    PERFORM set_config('lead_rules.cascade', 'off', true);
    RETURN NULL;
END
$$;

CREATE TRIGGER lead_rules_person BEFORE INSERT OR UPDATE OF company_id, lead_status
    ON public.person
    FOR EACH ROW EXECUTE FUNCTION lead_rules.person_rules();

CREATE TRIGGER lead_rules_company BEFORE INSERT OR UPDATE OF category
    ON public.company
    FOR EACH ROW EXECUTE FUNCTION lead_rules.company_rules();

CREATE TRIGGER lead_rules_company_cascade AFTER UPDATE OF category
    ON public.company
    FOR EACH ROW
    WHEN (OLD.category IS DISTINCT FROM NEW.category)
    EXECUTE FUNCTION lead_rules.company_cascade();
