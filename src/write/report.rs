//! `report.json`: the run's counts, serialized.
//!
//! This module owns the report's serialization: pretty JSON with 2-space indents,
//! fields in [`RunReport`]'s declared order, UTF-8, one final newline.

use crate::model::RunReport;

/// The text of `report.json`.
///
/// # Errors
/// Never in practice: the report holds only strings and numbers.
pub fn render(report: &RunReport) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}
