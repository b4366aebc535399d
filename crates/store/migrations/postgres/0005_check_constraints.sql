-- Closed vocabularies become CHECK constraints (PostgreSQL dialect). SQLite needed a
-- rebuild of each table; PostgreSQL adds a constraint in place and checks the existing
-- rows as it does. Foreign keys are always enforced here, so no reference can dangle.

ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
    CHECK (status IN ('not_started', 'in_progress', 'submitted', 'returned', 'accepted'));

ALTER TABLE input_values ADD CONSTRAINT input_values_source_kind_check
    CHECK (source_kind IN ('document', 'platform', 'note', 'file', 'dataset'));
ALTER TABLE input_values ADD CONSTRAINT input_values_review_state_check
    CHECK (review_state IN ('pending', 'accepted', 'returned'));
-- At most one current value per input, enforced by the database itself.
CREATE UNIQUE INDEX input_values_one_current ON input_values (assessment_id, input_key) WHERE superseded_at IS NULL;

ALTER TABLE evidence ADD CONSTRAINT evidence_review_state_check
    CHECK (review_state IN ('pending', 'accepted', 'returned'));

ALTER TABLE reviews ADD CONSTRAINT reviews_target_kind_check CHECK (target_kind IN ('input', 'evidence', 'task'));
ALTER TABLE reviews ADD CONSTRAINT reviews_decision_check CHECK (decision IN ('accept', 'return'));

ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'unit', 'evaluator', 'viewer'));
ALTER TABLE users ADD CONSTRAINT users_active_check CHECK (active IN (0, 1));
ALTER TABLE users ADD CONSTRAINT users_unit_check CHECK ((role = 'unit') = (unit_id IS NOT NULL));
