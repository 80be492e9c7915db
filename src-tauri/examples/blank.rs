//! A blank window: the app's Tauri, with its features and plugins, showing one empty page.
//! `cargo xtask bench` starts it beside the app and measures both the same way, so the
//! app's memory and start are read against what it stands on (Tauri, GTK and WebKit), not
//! against nothing.
//!
//! What is the app's own is left out: the desk, its commands, the tray, the `media` scheme
//! and the navigation guard. What the app sets on the webview is kept (painting without
//! OpenGL where there is no GPU), since that changes what WebKit itself holds.

fn main() {
    let builder = tauri::Builder::default().plugin(
        tauri_plugin_single_instance::Builder::new()
            .dbus_id("app.tsunagi.blank")
            .build(),
    );
    let result = tsunagi_app::with_desktop_plugins(builder)
        .setup(|app| {
            tsunagi_app::lean_webview(app);
            Ok(())
        })
        .run(tauri::generate_context!(
            "src-tauri/examples/blank/tauri.conf.json"
        ));
    if let Err(error) = result {
        eprintln!("the blank window stopped: {error}");
        std::process::exit(1);
    }
}
