-- Closed vocabularies become CHECK constraints: a state, a status, a role or a source
-- that the application does not know can never be stored, whoever writes. SQLite adds
-- a constraint by rebuilding the table: copy into a checked twin, drop, rename (its
-- documented procedure). Migrations run in one transaction on a connection with foreign
-- key enforcement off (Store::open), so that dropping a parent table does not count its
-- children as orphans; every reference is checked explicitly at the end instead.

CREATE TABLE tasks_checked (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    code            TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    lead_unit_id    INTEGER NOT NULL REFERENCES units(id),
    due_date        TEXT,
    status          TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'submitted', 'returned', 'accepted')),
    UNIQUE (assessment_id, code)
);
INSERT INTO tasks_checked SELECT id, assessment_id, code, title, description, lead_unit_id, due_date, status FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_checked RENAME TO tasks;

CREATE TABLE input_values_checked (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    input_key       TEXT NOT NULL,
    value_json      TEXT NOT NULL,
    unit_id         INTEGER REFERENCES units(id),
    source_kind     TEXT NOT NULL CHECK (source_kind IN ('document', 'platform', 'note', 'file', 'dataset')),
    source_ref      TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    set_by          TEXT NOT NULL,
    set_at          TEXT NOT NULL,
    superseded_at   TEXT,
    review_state    TEXT NOT NULL DEFAULT 'pending' CHECK (review_state IN ('pending', 'accepted', 'returned'))
);
INSERT INTO input_values_checked
    SELECT id, assessment_id, input_key, value_json, unit_id, source_kind, source_ref, note, set_by, set_at, superseded_at, review_state
    FROM input_values;
DROP TABLE input_values;
ALTER TABLE input_values_checked RENAME TO input_values;
CREATE INDEX input_values_current ON input_values (assessment_id, input_key, superseded_at);
-- At most one current value per input, enforced by the database itself.
CREATE UNIQUE INDEX input_values_one_current ON input_values (assessment_id, input_key) WHERE superseded_at IS NULL;

CREATE TABLE evidence_checked (
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
    review_state    TEXT NOT NULL DEFAULT 'pending' CHECK (review_state IN ('pending', 'accepted', 'returned'))
);
INSERT INTO evidence_checked
    SELECT id, assessment_id, rule_id, item, task_id, unit_id, sha256, original_name, uploaded_by, uploaded_at, review_state
    FROM evidence;
DROP TABLE evidence;
ALTER TABLE evidence_checked RENAME TO evidence;
CREATE INDEX evidence_by_rule ON evidence (assessment_id, rule_id);

CREATE TABLE reviews_checked (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    target_kind     TEXT NOT NULL CHECK (target_kind IN ('input', 'evidence', 'task')),
    target_id       INTEGER NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('accept', 'return')),
    comment         TEXT NOT NULL,
    reviewer        TEXT NOT NULL,
    at              TEXT NOT NULL
);
INSERT INTO reviews_checked SELECT id, assessment_id, target_kind, target_id, decision, comment, reviewer, at FROM reviews;
DROP TABLE reviews;
ALTER TABLE reviews_checked RENAME TO reviews;

CREATE TABLE users_checked (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'unit', 'evaluator', 'viewer')),
    unit_id         INTEGER REFERENCES units(id),
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at      TEXT NOT NULL,
    CHECK ((role = 'unit') = (unit_id IS NOT NULL))
);
INSERT INTO users_checked SELECT id, username, display_name, password_hash, role, unit_id, active, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_checked RENAME TO users;

-- Every reference still points somewhere: a row that does not aborts the migration.
CREATE TEMP TABLE migration_dangling AS SELECT * FROM pragma_foreign_key_check;
CREATE TEMP TRIGGER migration_no_dangling BEFORE INSERT ON migration_dangling BEGIN SELECT RAISE(ABORT, 'dangling reference'); END;
INSERT INTO migration_dangling SELECT * FROM migration_dangling;
DROP TABLE migration_dangling;
