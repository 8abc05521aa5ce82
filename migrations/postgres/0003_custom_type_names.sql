-- Mirrors migrations/sqlite/0003_custom_type_names.sql: custom type names need only differ from
-- each other, not from the built-in system types' names.
DROP INDEX activity_types_name;
CREATE UNIQUE INDEX activity_types_name ON activity_types(tenant_id, name_lc) WHERE kind <> 'system';
