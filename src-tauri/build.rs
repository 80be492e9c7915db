fn main() {
    // Each app command needs an explicit grant in a capability file.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "relay_url_check",
        "desk_join",
        "desk_leave",
        "channel_connect",
        "team_list",
        "team_invite",
        "team_revoke",
        "desk_status",
        "inbox_list",
        "inbox_counts",
        "conversation_open",
        "conversation_messages",
        "conversation_act",
        "conversation_typing",
        "message_send",
        "image_upload",
        "stickers_list",
        "op_retry",
        "op_discard",
        "operators_list",
        "search_run",
        "contact_tag",
        "contact_note",
        "clinic_settings",
        "link_open",
        "media_save",
        "alert_preferences",
        "alert_preferences_set",
        "alert_show",
        "alert_test",
        "alert_paused",
        "alert_pause",
        "presence_update",
        "autostart_get",
        "autostart_set",
    ]);
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(manifest),
    )
    .expect("tauri build script failed");
}
