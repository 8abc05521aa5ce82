-- Leads' pages keep 30 % free, so that adding to a lead's score (every scored insert, and one
-- statement per import batch for each lead it touched) can write the new row version on the same
-- page (a HOT update): no new entry in any of the leads' eighteen indexes. Packed full, a batch
-- that touches every lead of a page found no room for most of them. Applies to pages written from
-- now on. docs/benchmarks.md, "Bulk import".
ALTER TABLE leads SET (fillfactor = 70);
