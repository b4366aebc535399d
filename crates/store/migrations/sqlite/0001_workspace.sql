-- The evaluation workspace. Portable SQL: standard types, $N placeholders in queries,
-- RETURNING; SQLite today, PostgreSQL later.

CREATE TABLE cities (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

-- An assessment: a city x a rubric edition x a period.
CREATE TABLE assessments (
    id              INTEGER PRIMARY KEY,
    city_id         INTEGER NOT NULL REFERENCES cities(id),
    rubric_edition  TEXT NOT NULL,
    period          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (city_id, rubric_edition, period)
);

-- Responsible units (责任单位) of a city: departments, county governments, branches.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    city_id     INTEGER NOT NULL REFERENCES cities(id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_id   INTEGER REFERENCES units(id),
    contact     TEXT NOT NULL DEFAULT '',
    UNIQUE (city_id, name)
);

-- The plan (任务分解): tasks of an assessment.
CREATE TABLE tasks (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    code            TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    lead_unit_id    INTEGER NOT NULL REFERENCES units(id),
    due_date        TEXT,
    status          TEXT NOT NULL,
    UNIQUE (assessment_id, code)
);

CREATE TABLE task_rules (
    task_id     INTEGER NOT NULL REFERENCES tasks(id),
    rule_id     TEXT NOT NULL,
    PRIMARY KEY (task_id, rule_id)
);

-- Participating units (配合单位) of a task.
CREATE TABLE task_units (
    task_id     INTEGER NOT NULL REFERENCES tasks(id),
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (task_id, unit_id)
);

-- Every value ever set for an input: the current one has superseded_at NULL.
-- A value is never overwritten: a new one supersedes it.
CREATE TABLE input_values (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    input_key       TEXT NOT NULL,
    value_json      TEXT NOT NULL,
    unit_id         INTEGER REFERENCES units(id),
    source_kind     TEXT NOT NULL,
    source_ref      TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    set_by          TEXT NOT NULL,
    set_at          TEXT NOT NULL,
    superseded_at   TEXT,
    review_state    TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX input_values_current ON input_values (assessment_id, input_key, superseded_at);

-- File contents, stored once by SHA-256 under the evidence directory.
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    media_type  TEXT NOT NULL,
    stored_at   TEXT NOT NULL
);

-- Evidence (佐证材料): a file attached to a rule's checklist item, optionally a task.
CREATE TABLE evidence (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    rule_id         TEXT NOT NULL,
    item            INTEGER,
    task_id         INTEGER REFERENCES tasks(id),
    unit_id         INTEGER REFERENCES units(id),
    sha256          TEXT NOT NULL REFERENCES blobs(sha256),
    original_name   TEXT NOT NULL,
    uploaded_by     TEXT NOT NULL,
    uploaded_at     TEXT NOT NULL,
    review_state    TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX evidence_by_rule ON evidence (assessment_id, rule_id);

-- Evidence linked to an input value (a value's supporting document).
CREATE TABLE input_evidence (
    input_value_id  INTEGER NOT NULL REFERENCES input_values(id),
    evidence_id     INTEGER NOT NULL REFERENCES evidence(id),
    PRIMARY KEY (input_value_id, evidence_id)
);

-- An evaluator's decision on an input value, an evidence item or a task.
CREATE TABLE reviews (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    target_kind     TEXT NOT NULL,
    target_id       INTEGER NOT NULL,
    decision        TEXT NOT NULL,
    comment         TEXT NOT NULL,
    reviewer        TEXT NOT NULL,
    at              TEXT NOT NULL
);

-- Append-only: who changed what, when, before and after (JSON).
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    assessment_id   INTEGER,
    entity          TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    before_json     TEXT,
    after_json      TEXT
);
CREATE INDEX audit_by_assessment ON audit_log (assessment_id, id);

-- The audit log is append-only, enforced by the database itself.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
