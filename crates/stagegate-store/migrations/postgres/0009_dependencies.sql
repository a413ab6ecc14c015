-- Check dependencies (SPEC.md §12): an incident opened while a check it
-- depends on is down is suppressed by that check's incident.
ALTER TABLE incidents ADD COLUMN suppressed_by BIGINT;

CREATE INDEX incidents_by_parent ON incidents (suppressed_by) WHERE suppressed_by IS NOT NULL;
