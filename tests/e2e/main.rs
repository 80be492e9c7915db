//! The real app window, driven over WebDriver. Skipped unless `E2E=1`.

mod first_screen;
