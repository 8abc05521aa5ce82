-- An activity's field values are stored as the text of one JSON object, and the pages of
-- activities paste that text into their answers without parsing it again (docs/decisions.md,
-- "Performance and durability"). These triggers make the database refuse any other value, from
-- this service or from anyone editing the file. Rows stored before this migration are checked
-- once when it is applied (`migrate` in src/store/sqlite.rs).
CREATE TRIGGER activities_fields_insert BEFORE INSERT ON activities
WHEN CASE WHEN json_valid(NEW.fields) THEN json_type(NEW.fields) <> 'object' ELSE 1 END
BEGIN
    SELECT RAISE(ABORT, 'activities.fields must be the text of one JSON object');
END;
CREATE TRIGGER activities_fields_update BEFORE UPDATE OF fields ON activities
WHEN CASE WHEN json_valid(NEW.fields) THEN json_type(NEW.fields) <> 'object' ELSE 1 END
BEGIN
    SELECT RAISE(ABORT, 'activities.fields must be the text of one JSON object');
END;
