-- A province holds cities; accounts belong to a city (credit office, viewer), a unit
-- (its staff), a province (省信用办) or, for evaluators, to the cities assigned to them.
-- A session remembers which of its permitted cities it is looking at.
--
-- Stores made before this migration served one city: their credit office, viewers and
-- evaluators belong to (are assigned to) its first city. Migrations run with foreign
-- key enforcement off (Store::open); every reference is checked at the end.

CREATE TABLE provinces (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

ALTER TABLE cities ADD COLUMN province_id INTEGER REFERENCES provinces(id);

CREATE TABLE users_scoped (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'unit', 'evaluator', 'viewer', 'province')),
    unit_id         INTEGER REFERENCES units(id),
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at      TEXT NOT NULL,
    city_id         INTEGER REFERENCES cities(id),
    province_id     INTEGER REFERENCES provinces(id),
    CHECK ((role = 'unit') = (unit_id IS NOT NULL)),
    CHECK ((role IN ('admin', 'viewer')) = (city_id IS NOT NULL)),
    CHECK ((role = 'province') = (province_id IS NOT NULL))
);
INSERT INTO users_scoped
    SELECT id, username, display_name, password_hash, role, unit_id, active, created_at,
           CASE WHEN role IN ('admin', 'viewer') THEN (SELECT MIN(id) FROM cities) END, NULL
    FROM users;
DROP TABLE users;
ALTER TABLE users_scoped RENAME TO users;

-- The cities an evaluator reviews.
CREATE TABLE evaluator_cities (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    city_id     INTEGER NOT NULL REFERENCES cities(id),
    PRIMARY KEY (user_id, city_id)
);
INSERT INTO evaluator_cities (user_id, city_id)
    SELECT u.id, c.id FROM users u JOIN cities c ON c.id = (SELECT MIN(id) FROM cities) WHERE u.role = 'evaluator';

ALTER TABLE sessions ADD COLUMN city_id INTEGER REFERENCES cities(id);

-- An API token pushes the datasets of one city.
ALTER TABLE api_tokens ADD COLUMN city_id INTEGER REFERENCES cities(id);
UPDATE api_tokens SET city_id = (SELECT MIN(id) FROM cities);

-- The cities of a province, in order.
CREATE INDEX cities_by_province ON cities (province_id, id);

-- A city's caches follow its own assessment's changes (Store::version_of,
-- Store::plan_version_of), not every city's: audit_by_assessment (0001) and
-- audit_by_assessment_entity (0004) serve those reads.

-- Failed sign-ins, by account and by client address, shared by every server process of
-- the store: the throttle counts them within its window; old rows are deleted.
CREATE TABLE login_failures (
    key     TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
CREATE INDEX login_failures_by_at ON login_failures (at);

-- Every reference still points somewhere: a row that does not aborts the migration.
CREATE TEMP TABLE migration_dangling AS SELECT * FROM pragma_foreign_key_check;
CREATE TEMP TRIGGER migration_no_dangling BEFORE INSERT ON migration_dangling BEGIN SELECT RAISE(ABORT, 'dangling reference'); END;
INSERT INTO migration_dangling SELECT * FROM migration_dangling;
DROP TABLE migration_dangling;
