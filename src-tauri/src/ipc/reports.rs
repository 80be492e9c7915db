//! How the team did (analytics) and what operators did (the audit), on screen or as a file.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_desk::query::AuditFilter;

/// `analytics_report`: the days to report on, first and last included, as `YYYY-MM-DD`
/// on the clinic's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportRequest {
    pub from_day: String,
    pub to_day: String,
}

/// `analytics_export`: the report as a file where the operator chooses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportExportRequest {
    pub range: ReportRequest,
    pub format: ExportFormat,
    /// The save dialog's title.
    pub title: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

/// `audit_list`: a page of operators' actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditRequest {
    pub filter: AuditFilter,
    /// Older than this seq; null for the newest.
    #[ts(type = "number | null")]
    pub before: Option<u64>,
    pub limit: u32,
}

/// `audit_export`: the actions a filter lets through, as CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditExportRequest {
    pub filter: AuditFilter,
    pub title: String,
}
