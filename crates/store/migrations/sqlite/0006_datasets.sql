-- The city's own records (datasets): each import is kept, content-addressed like
-- evidence, so any derivation can be reproduced; the newest import of a kind is the
-- current one (superseded_at NULL). Every problem found in a record is kept with its
-- row, column and owning unit, so each unit sees only its own.

ALTER TABLE cities ADD COLUMN division_code TEXT;
-- Other names records use for a unit (青川市市场监督管理局 for 市市场监管局), one per line.
ALTER TABLE units ADD COLUMN aliases TEXT NOT NULL DEFAULT '';

CREATE TABLE datasets (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    kind            TEXT NOT NULL CHECK (kind IN ('register', 'licences', 'penalties', 'lists', 'commitments', 'approval_items', 'cases')),
    sha256          TEXT NOT NULL REFERENCES blobs(sha256),
    file_name       TEXT NOT NULL,
    encoding        TEXT NOT NULL,
    rows            INTEGER NOT NULL CHECK (rows >= 0),
    problems        INTEGER NOT NULL CHECK (problems >= 0),
    header_json     TEXT NOT NULL,
    settings_json   TEXT NOT NULL,
    imported_by     TEXT NOT NULL,
    imported_at     TEXT NOT NULL,
    superseded_at   TEXT
);
CREATE UNIQUE INDEX datasets_one_current ON datasets (assessment_id, kind) WHERE superseded_at IS NULL;

CREATE TABLE dataset_problems (
    id              INTEGER PRIMARY KEY,
    dataset_id      INTEGER NOT NULL REFERENCES datasets(id),
    row_number      INTEGER NOT NULL,
    column_name     TEXT,
    kind            TEXT NOT NULL,
    unit_id         INTEGER REFERENCES units(id),
    unit_name       TEXT,
    message         TEXT NOT NULL,
    feeds           TEXT NOT NULL,
    raw_json        TEXT NOT NULL
);
CREATE INDEX dataset_problems_by_unit ON dataset_problems (dataset_id, unit_id, id);
CREATE INDEX dataset_problems_by_kind ON dataset_problems (dataset_id, kind, id);
