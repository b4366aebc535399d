-- Dataset imports started from the web, as every server process of the store sees
-- them: the job page of any server shows where an import stands and how it ended. Not
-- audited (the import itself is); `rows` is the progress (updated while it runs on
-- PostgreSQL; on SQLite the import holds the only write lock, so only its own server
-- knows the live count).
CREATE TABLE import_jobs (
    id              INTEGER PRIMARY KEY,
    assessment_id   INTEGER NOT NULL REFERENCES assessments(id),
    kind            TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    size            INTEGER NOT NULL,
    lines           INTEGER NOT NULL,
    rows            INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    result_json     TEXT,
    message         TEXT,
    started_by      TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX import_jobs_by_assessment ON import_jobs (assessment_id, id);

-- The store-wide half of a city's version (Store::version_of): the newest audit entry
-- outside every assessment, found at once (PostgreSQL otherwise scans the log back).
CREATE INDEX audit_store_wide ON audit_log (id) WHERE assessment_id IS NULL;
