-- The newest audit entry of one kind of an assessment (Store::plan_version_of: the
-- newest change of its units or tasks), read on every page of a unit and every write,
-- found in one step: audit_by_assessment_entity (0004) has the entity's id before the
-- entry's, so without this the newest entry of a kind was sought by walking back
-- through every entry of the assessment, the more of them the more writes of values.
CREATE INDEX audit_by_assessment_kind ON audit_log (assessment_id, entity, id);
