//! The window's own origin: the one place the window may be, and the one page that may read
//! the `media` scheme with `fetch`. A navigation anywhere else (a link in a patient's
//! message, a `media://` file a patient sent, a page a script sends the window to) is
//! refused: the page that holds the app's commands never gives way to another. WebKit has
//! no CSP for this (`navigate-to` never shipped), so the webview's navigation hook does it.

use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Manager as _, Runtime, Url};

/// Where the window's page comes from: the dev server while developing, else the app's
/// own scheme (`tauri://localhost`, and `http://tauri.localhost` on Windows, where WebView2
/// serves it so).
pub(crate) fn app_url(dev_url: Option<&Url>) -> Url {
    if let Some(dev) = dev_url {
        return dev.clone();
    }
    let url = if cfg!(windows) {
        "http://tauri.localhost/"
    } else {
        "tauri://localhost/"
    };
    Url::parse(url).expect("the app's own address is a URL")
}

/// The window's page's address, for this build of the app.
pub(crate) fn of_app<R: Runtime>(app: &AppHandle<R>) -> Url {
    let dev = if tauri::is_dev() {
        app.config().build.dev_url.clone()
    } else {
        None
    };
    app_url(dev.as_ref())
}

/// Whether `url` is on the page's origin (its scheme, host and port), the only one the
/// window may show.
pub(crate) fn is_app(url: &Url, app: &Url) -> bool {
    url.scheme() == app.scheme()
        && url.host_str() == app.host_str()
        && url.port_or_known_default() == app.port_or_known_default()
}

/// The origin as the page's requests name it (`Origin`), and as an answer allows it
/// (`Access-Control-Allow-Origin`).
pub(crate) fn serialized(app: &Url) -> String {
    let host = app.host_str().unwrap_or_default();
    match app.port() {
        Some(port) => format!("{}://{host}:{port}", app.scheme()),
        None => format!("{}://{host}", app.scheme()),
    }
}

/// Keeps every webview of the app on the app's origin.
pub(crate) fn guard<R: Runtime>() -> TauriPlugin<R> {
    tauri::plugin::Builder::new("stay-on-app")
        .on_navigation(|webview, url| {
            let allowed = is_app(url, &of_app(webview.app_handle()));
            if !allowed {
                tracing::warn!(
                    scheme = url.scheme(),
                    "the window was kept from navigating away from the app"
                );
            }
            allowed
        })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("a URL")
    }

    #[test]
    fn the_window_stays_on_the_app_and_never_shows_media_or_the_web() {
        let app = app_url(None);
        assert!(is_app(&app, &app));
        assert!(is_app(&app.join("index.html?x=1#y").expect("a path"), &app));
        for away in [
            // A file a patient sent, as the window would open it, on each system.
            "media://localhost/468789577898262530",
            "media://localhost/upload%2Fa.html",
            "http://media.localhost/468789577898262530",
            "https://evil.example/",
            "http://localhost:5173/",
            "file:///etc/passwd",
            "data:text/html,<script>alert(1)</script>",
            "blob:tauri://localhost/1b4e28ba",
            "about:blank",
        ] {
            assert!(!is_app(&url(away), &app), "{away}");
        }

        let dev = app_url(Some(&url("http://localhost:5173")));
        assert!(is_app(&url("http://localhost:5173/src/main.ts"), &dev));
        assert!(!is_app(&url("http://localhost:5174/"), &dev));
        assert!(!is_app(&url("http://127.0.0.1:5173/"), &dev));
        assert_eq!(serialized(&dev), "http://localhost:5173");
    }

    #[test]
    fn the_app_names_its_own_origin_as_webkit_and_webview2_do() {
        let origin = serialized(&app_url(None));
        if cfg!(windows) {
            assert_eq!(origin, "http://tauri.localhost");
        } else {
            assert_eq!(origin, "tauri://localhost");
        }
    }

    #[test]
    fn the_csp_loads_media_but_never_frames_it_or_posts_a_form_to_it() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../../tauri.conf.json")).expect("the config");
        let csp = config["app"]["security"]["csp"]
            .as_str()
            .expect("a CSP string");
        let directive = |name: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("no {name} in {csp}"))
                .to_owned()
        };
        for name in [
            "frame-src",
            "child-src",
            "worker-src",
            "form-action",
            "object-src",
        ] {
            assert_eq!(directive(name), format!("{name} 'none'"));
        }
        assert_eq!(directive("default-src"), "default-src 'self'");
        assert!(!csp.contains('*'), "no wildcard source: {csp}");
    }
}
