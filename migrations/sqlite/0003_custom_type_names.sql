-- Custom activity type names need only differ from each other: a tenant may call its own type
-- "Site Visit" although a built-in system type (one per Salesloft type) has that name too.
DROP INDEX activity_types_name;
CREATE UNIQUE INDEX activity_types_name ON activity_types(tenant_id, name_lc) WHERE kind <> 'system';
