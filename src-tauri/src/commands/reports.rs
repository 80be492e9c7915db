//! How the team did (analytics) and what operators did (the audit), on screen or saved.

use tauri::State;
use tsunagi_desk::analytics;
use tsunagi_desk::analytics::Report;
use tsunagi_desk::query::AuditRecord;

use crate::desk::Shell;
use crate::ipc::{
    AuditExportRequest, AuditRequest, ExportFormat, ReportExportRequest, ReportRequest,
};

use super::{Answer, save_file};

/// How the team did on the days asked for, on the clinic's calendar.
#[tauri::command]
pub(crate) async fn analytics_report(
    shell: State<'_, Shell>,
    request: ReportRequest,
) -> Answer<Report> {
    let joined = shell.joined().await?;
    report(joined.sync.store(), &request).await
}

async fn report(store: &tsunagi_desk::Store, range: &ReportRequest) -> Answer<Report> {
    let zone = store.clinic_zone().await;
    let (from, to) = analytics::days(&zone, &range.from_day, &range.to_day)?;
    Ok(store.analytics(from, to).await?)
}

/// Saves the report as CSV or an XLSX workbook where the operator chooses; false if they
/// chose nowhere.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn analytics_export(
    window: tauri::Window,
    shell: State<'_, Shell>,
    request: ReportExportRequest,
) -> Answer<bool> {
    let joined = shell.joined().await?;
    let report = report(joined.sync.store(), &request.range).await?;
    let range = &request.range;
    let (bytes, extension) = match request.format {
        ExportFormat::Csv => (report.to_csv().into_bytes(), "csv"),
        ExportFormat::Xlsx => (report.to_xlsx()?, "xlsx"),
    };
    let name = format!("tsunagi-{}-{}.{extension}", range.from_day, range.to_day);
    save_file(&window, request.title, name, bytes).await
}

/// A page of operators' actions, newest first.
#[tauri::command]
pub(crate) async fn audit_list(
    shell: State<'_, Shell>,
    request: AuditRequest,
) -> Answer<Vec<AuditRecord>> {
    let joined = shell.joined().await?;
    let store = joined.sync.store();
    Ok(store
        .audit_page(&request.filter, request.before, request.limit)
        .await?)
}

/// Saves the actions a filter lets through as CSV where the operator chooses.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn audit_export(
    window: tauri::Window,
    shell: State<'_, Shell>,
    request: AuditExportRequest,
) -> Answer<bool> {
    let joined = shell.joined().await?;
    let mut out = Vec::new();
    joined
        .sync
        .store()
        .audit_csv(&request.filter, &mut out)
        .await?;
    save_file(&window, request.title, "audit.csv".into(), out).await
}
