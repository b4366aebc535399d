//! A whole store copied into another, table by table, from one consistent snapshot:
//! `backup` of a PostgreSQL store (into a SQLite file), `restore` into PostgreSQL, and
//! `creditcity migrate --to postgres://…`. Ids are kept as they are, so every
//! reference, the audit log's entity ids and the store's version stay the same.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Dialect, Result, Store, StoreError, blobs};

/// A column's type as copied: every column of the schema is an integer or text.
#[derive(Clone, Copy)]
enum Col {
    Int(&'static str),
    Text(&'static str),
    Bytes(&'static str),
}

use Col::{Bytes, Int, Text};

/// Every table, parents before children, with every column (the schema after the last
/// migration; `the_copy_knows_every_table_and_column` keeps this list complete).
const TABLES: &[(&str, &[Col], &str)] = &[
    ("provinces", &[Int("id"), Text("name"), Text("created_at")], "id"),
    ("cities", &[Int("id"), Text("name"), Text("created_at"), Text("division_code"), Int("province_id")], "id"),
    ("assessments", &[Int("id"), Int("city_id"), Text("rubric_edition"), Text("period"), Text("created_at")], "id"),
    ("units", &[Int("id"), Int("city_id"), Text("name"), Text("kind"), Int("parent_id"), Text("contact"), Text("aliases")], "id"),
    (
        "tasks",
        &[Int("id"), Int("assessment_id"), Text("code"), Text("title"), Text("description"), Int("lead_unit_id"), Text("due_date"), Text("status")],
        "id",
    ),
    ("task_rules", &[Int("task_id"), Text("rule_id")], "task_id, rule_id"),
    ("task_units", &[Int("task_id"), Int("unit_id")], "task_id, unit_id"),
    ("blobs", &[Text("sha256"), Int("size"), Text("media_type"), Text("stored_at")], "sha256"),
    (
        "input_values",
        &[
            Int("id"),
            Int("assessment_id"),
            Text("input_key"),
            Text("value_json"),
            Int("unit_id"),
            Text("source_kind"),
            Text("source_ref"),
            Text("note"),
            Text("set_by"),
            Text("set_at"),
            Text("superseded_at"),
            Text("review_state"),
        ],
        "id",
    ),
    (
        "evidence",
        &[
            Int("id"),
            Int("assessment_id"),
            Text("rule_id"),
            Int("item"),
            Int("task_id"),
            Int("unit_id"),
            Text("sha256"),
            Text("original_name"),
            Text("uploaded_by"),
            Text("uploaded_at"),
            Text("review_state"),
        ],
        "id",
    ),
    ("input_evidence", &[Int("input_value_id"), Int("evidence_id")], "input_value_id, evidence_id"),
    (
        "reviews",
        &[Int("id"), Int("assessment_id"), Text("target_kind"), Int("target_id"), Text("decision"), Text("comment"), Text("reviewer"), Text("at")],
        "id",
    ),
    (
        "audit_log",
        &[
            Int("id"),
            Text("at"),
            Text("actor"),
            Text("action"),
            Int("assessment_id"),
            Text("entity"),
            Text("entity_id"),
            Text("before_json"),
            Text("after_json"),
        ],
        "id",
    ),
    (
        "users",
        &[
            Int("id"),
            Text("username"),
            Text("display_name"),
            Text("password_hash"),
            Text("role"),
            Int("unit_id"),
            Int("active"),
            Text("created_at"),
            Int("city_id"),
            Int("province_id"),
        ],
        "id",
    ),
    ("evaluator_cities", &[Int("user_id"), Int("city_id")], "user_id, city_id"),
    ("login_failures", &[Text("key"), Text("at")], "key, at"),
    (
        "import_jobs",
        &[
            Int("id"),
            Int("assessment_id"),
            Text("kind"),
            Text("file_name"),
            Int("size"),
            Int("lines"),
            Int("rows"),
            Text("state"),
            Text("result_json"),
            Text("message"),
            Text("started_by"),
            Text("started_at"),
            Text("updated_at"),
        ],
        "id",
    ),
    ("sessions", &[Text("token_hash"), Int("user_id"), Text("csrf"), Text("created_at"), Text("expires_at"), Int("city_id")], "token_hash"),
    (
        "datasets",
        &[
            Int("id"),
            Int("assessment_id"),
            Text("kind"),
            Text("sha256"),
            Text("file_name"),
            Text("encoding"),
            Int("rows"),
            Int("problems"),
            Text("header_json"),
            Text("settings_json"),
            Text("imported_by"),
            Text("imported_at"),
            Text("superseded_at"),
            Bytes("facts"),
        ],
        "id",
    ),
    (
        "dataset_problems",
        &[
            Int("id"),
            Int("dataset_id"),
            Int("row_number"),
            Text("column_name"),
            Text("kind"),
            Int("unit_id"),
            Text("unit_name"),
            Text("message"),
            Text("feeds"),
            Text("raw_json"),
        ],
        "id",
    ),
    (
        "api_tokens",
        &[
            Int("id"),
            Text("name"),
            Text("token_hash"),
            Text("scope"),
            Text("created_by"),
            Text("created_at"),
            Text("last_used_at"),
            Text("revoked_at"),
            Int("city_id"),
        ],
        "id",
    ),
];

/// What a copy carried: rows by table, in `TABLES` order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopySummary {
    pub tables: Vec<(String, u64)>,
    pub files: usize,
}

impl CopySummary {
    pub fn rows(&self, table: &str) -> u64 {
        self.tables.iter().find(|(t, _)| t == table).map_or(0, |(_, n)| *n)
    }
}

impl Store {
    /// Copies this whole store into `target`, which must be empty (just created): every
    /// row of every table from one snapshot of this store (a read transaction; REPEATABLE
    /// READ on PostgreSQL), written in one transaction of the target, then every file
    /// the snapshot names, each verified by its hash. Writers of this store may go on
    /// meanwhile; what they write after the snapshot is not copied.
    pub async fn copy_into(&self, target: &Store) -> Result<CopySummary> {
        for table in ["provinces", "cities", "users", "audit_log", "blobs", "api_tokens"] {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&target.pool).await?;
            if n > 0 {
                return Err(StoreError::Conflict(format!("目标存储 {} 不是空的({table} 已有 {n} 行);不会覆盖", target.location.db.display())));
            }
        }
        let mut read = match self.dialect {
            Dialect::Sqlite => self.pool.begin().await?,
            Dialect::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?,
        };
        let mut write = target.write_tx().await?;
        let mut summary = CopySummary::default();
        for (table, columns, order) in TABLES {
            let names: Vec<&str> = columns.iter().map(|c| match c {
                Int(n) | Text(n) | Bytes(n) => *n,
            }).collect();
            let list = names.join(", ");
            let rows: Vec<AnyRow> = sqlx::query(&format!("SELECT {list} FROM {table} ORDER BY {order}")).fetch_all(&mut *read).await?;
            // Several rows a statement, well under either database's limit of parameters.
            let per_statement = (900 / columns.len()).max(1);
            for chunk in rows.chunks(per_statement) {
                let mut sql = format!("INSERT INTO {table} ({list}) VALUES ");
                for i in 0..chunk.len() {
                    let b = i * columns.len();
                    let marks: Vec<String> = (1..=columns.len()).map(|j| format!("${}", b + j)).collect();
                    sql.push_str(&format!("{}({})", if i > 0 { ", " } else { "" }, marks.join(", ")));
                }
                let mut q = sqlx::query(&sql);
                for row in chunk {
                    for (i, column) in columns.iter().enumerate() {
                        q = match column {
                            Int(_) => q.bind(row.try_get::<Option<i64>, _>(i)?),
                            Text(_) => q.bind(row.try_get::<Option<String>, _>(i)?),
                            Bytes(_) => q.bind(row.try_get::<Option<Vec<u8>>, _>(i)?),
                        };
                    }
                }
                q.execute(&mut *write).await?;
            }
            summary.tables.push(((*table).to_owned(), rows.len() as u64));
        }
        let hashes: Vec<String> = sqlx::query_scalar("SELECT sha256 FROM blobs ORDER BY sha256").fetch_all(&mut *read).await?;
        read.commit().await?;
        if target.dialect == Dialect::Postgres {
            // The identities go on after the ids copied.
            for (table, columns, _) in TABLES {
                if matches!(columns.first(), Some(Int("id"))) {
                    sqlx::query(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    ))
                    .execute(&mut *write)
                    .await?;
                }
            }
        }
        // The files first, then the rows that name them: a failure leaves no row naming
        // a file that is not there.
        for hash in &hashes {
            let from = self.blobs.path_of(hash);
            let to = target.blobs.path_of(hash);
            if from != to && target.blobs.verify(hash).is_err() {
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| blobs::io_error(parent, e))?;
                }
                std::fs::copy(&from, &to).map_err(|e| blobs::io_error(&from, e))?;
            }
            target.blobs.verify(hash)?;
        }
        if target.dialect == Dialect::Postgres {
            // Statistics for the planner now, not when autovacuum gets round to the new
            // rows: without them the first minutes of a migrated or restored store plan
            // its reads as if every table were empty (hash joins over whole tables).
            // Only the copied tables, in the copy's transaction: the statistics commit
            // with the rows, and a failure leaves the target empty, to be tried again.
            let tables: Vec<&str> = TABLES.iter().map(|(table, _, _)| *table).collect();
            sqlx::query(&format!("ANALYZE {}", tables.join(", "))).execute(&mut *write).await?;
        }
        write.commit().await?;
        summary.files = hashes.len();
        Ok(summary)
    }

    /// The tables of the schema and their columns, as the database lists them.
    #[cfg(test)]
    pub(crate) async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        let sql = match self.dialect {
            Dialect::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' ORDER BY m.name, p.name"
            }
            Dialect::Postgres => {
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' ORDER BY 1, 2"
            }
        };
        Ok(sqlx::query_as(sql).fetch_all(&self.pool).await?)
    }
}

/// The tables and columns the copy carries, sorted as `schema_columns` lists them.
#[cfg(test)]
pub(crate) fn copied_columns() -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = TABLES
        .iter()
        .flat_map(|(table, columns, _)| {
            columns.iter().map(move |c| match c {
                Int(n) | Text(n) | Bytes(n) => ((*table).to_owned(), (*n).to_owned()),
            })
        })
        .collect();
    all.sort();
    all
}
