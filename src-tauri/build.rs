fn main() {
    // Each app command needs an explicit grant in a capability file.
    let manifest = tauri_build::AppManifest::new().commands(&["app_info", "relay_url_check"]);
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(manifest),
    )
    .expect("tauri build script failed");
}
