//! What can go wrong in a use-case: typed, each naming the field or the file and the problem.


use std::path::PathBuf;

use creditcity_rubric::InputErrors;
use creditcity_store::StoreError;

use crate::plan::PlanIssue;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Values that break the rubric's rules; nothing was stored.
    #[error("{0}")]
    Inputs(InputErrors),
    /// A field of a request (a unit, a date, a comment…) and what is wrong with it.
    #[error("{field}:{problem}")]
    Invalid { field: String, problem: String },
    /// Problems of a plan file, each with its line; nothing was imported.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Plan(Vec<PlanIssue>),
    /// Problems in a filled workbook, each with its sheet and cell.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Cells(Vec<CellProblem>),
    /// A workbook that cannot be read as one.
    #[error(transparent)]
    Workbook(#[from] creditcity_excel::ExcelError),
    /// A file of the user's that cannot be read.
    #[error("无法读取 {}:{}", .path.display(), describe_io(.source))]
    FileRead { path: PathBuf, source: std::io::Error },
    /// A file of the user's that cannot be written; nothing partial was left in its place.
    #[error("无法写入 {}:{}", .path.display(), describe_io(.source))]
    FileWrite { path: PathBuf, source: std::io::Error },
    /// The evidence package could not be built.
    #[error("打包迎检材料失败:{0}")]
    Package(#[from] zip::result::ZipError),
}

/// What went wrong with a file, in the users' language.
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "文件或目录不存在".to_owned(),
        K::PermissionDenied => "没有访问权限".to_owned(),
        K::InvalidData => "内容不是有效的 UTF-8 文本(如为 GBK 编码,请另存为 UTF-8)".to_owned(),
        K::IsADirectory => "这是一个目录,不是文件".to_owned(),
        K::NotADirectory => "路径中有一部分不是目录".to_owned(),
        K::AlreadyExists => "文件已存在".to_owned(),
        K::StorageFull => "磁盘空间不足".to_owned(),
        K::ReadOnlyFilesystem => "文件系统只读".to_owned(),
        K::WriteZero | K::UnexpectedEof => "写入或读取中断".to_owned(),
        _ => format!("系统错误({e})"),
    }
}

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
