//! The real app window, driven over WebDriver against a clinic in process (linesim, the
//! relay and its executor). Skipped unless `E2E=1`.

mod alerts;
mod automations;
mod desktop;
mod erase;
mod installers;
mod line_platform;
mod notifications;
mod operator;
mod outreach;
mod owner;
mod patient_data;
mod settings;
mod worklist;
