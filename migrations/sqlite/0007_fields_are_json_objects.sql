-- An activity's field values are stored as the text of one JSON object, and the pages of
-- activities paste that text into their answers without parsing it again (docs/decisions.md,
-- "Performance and durability"). The database refuses any other value, from this service or from
-- anyone editing the file: every insert and every change of `fields` computes this virtual
-- column (it takes no space) and its CHECK fails unless the text is strict JSON (RFC 8259, not
-- the JSON5 SQLite also reads) holding one object. A CHECK rather than a trigger: a trigger
-- would make every INSERT keep a statement journal, a copy of each page it changes.
-- Adding the column checks every row already stored; the store first looks for such rows itself
-- to name them (`migrate` in src/store/sqlite.rs).
ALTER TABLE activities ADD COLUMN fields_are_an_object INTEGER
    GENERATED ALWAYS AS (CASE WHEN json_valid(fields) THEN json_type(fields) = 'object' ELSE 0 END)
    VIRTUAL CONSTRAINT fields_must_be_one_json_object CHECK (fields_are_an_object);
