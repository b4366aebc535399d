-- The audit page filters by assessment and entity, or by assessment and actor, newest
-- first, a page at a time: both by index.
CREATE INDEX audit_by_assessment_entity ON audit_log (assessment_id, entity, entity_id, id);
CREATE INDEX audit_by_assessment_actor ON audit_log (assessment_id, actor, id);
