-- New activities of a lead take their ids from a block of that lead's own (see
-- `allocate_activity_ids` in src/store/sqlite.rs), so that a lead's rows sit together in the
-- table instead of one per page across the whole file. Block 0 is the plain region of ids (every
-- id before this migration, activities without a lead, leads past their block's size); block
-- L > 0 is lead L's. A new id follows the largest id in its block's range, or the largest id ever
-- deleted from the block if that is larger: `last` keeps the latter, so that a deleted activity's
-- id is never handed out again (what AUTOINCREMENT guaranteed before).
CREATE TABLE activity_id_floors (
    block  INTEGER PRIMARY KEY,
    last   INTEGER NOT NULL
);
-- The plain region goes on after the last id AUTOINCREMENT handed out, deleted or not
-- (1099511627776 = 2^40, where the lead blocks begin).
INSERT INTO activity_id_floors (block, last)
SELECT 0, coalesce(max(seq), 0) FROM sqlite_sequence
 WHERE name = 'activities' AND seq < 1099511627776;
