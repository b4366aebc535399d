//! What can go wrong in a use-case: typed, each naming the field or the file and the problem.


use creditcity_rubric::InputErrors;
use creditcity_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Inputs(InputErrors),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    #[error("{0}")]
    Plan(String),
    /// Problems in a filled workbook, each with its sheet and cell.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Cells(Vec<CellProblem>),
}

/// One problem in a spreadsheet cell.
/// One problem in a spreadsheet cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    pub sheet: String,
    pub cell: String,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}!{} {}: {}", self.sheet, self.cell, self.key, self.message)
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> AppError {
    AppError::Invalid { field: field.into(), problem: problem.into() }
}
