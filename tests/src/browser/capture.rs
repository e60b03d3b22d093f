//! Screenshots and render timings of the page a [`Browser`] shows.

use std::path::Path;

use serde_json::{json, Value};

use super::wire::decode_base64;
use super::{string, Browser, RenderTiming};

impl Browser {
    /// A PNG of the visible part of the page.
    pub fn screenshot(&self) -> Vec<u8> {
        let encoded = string(self.command("GET", "/screenshot", Value::Null));
        decode_base64(&encoded).unwrap_or_else(|| panic!("screenshot is not base64"))
    }

    /// A PNG of the whole page at the window's width, as tall as the document (beyond the
    /// window; Chromium's DevTools `Page.captureScreenshot` through chromedriver).
    pub fn full_page_screenshot(&self) -> Vec<u8> {
        let size = self.execute(
            "const e = document.documentElement;\n\
             return [e.scrollWidth, e.scrollHeight];",
            &[],
        );
        let side = |i: usize| size.get(i).and_then(Value::as_f64).unwrap_or(1.0);
        let params = json!({
            "format": "png",
            "captureBeyondViewport": true,
            "clip": { "x": 0, "y": 0, "width": side(0), "height": side(1), "scale": 1 },
        });
        let value = self.command(
            "POST",
            "/goog/cdp/execute",
            json!({ "cmd": "Page.captureScreenshot", "params": params }),
        );
        let encoded = value
            .get("data")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no screenshot data in {value}"));
        decode_base64(encoded).unwrap_or_else(|| panic!("screenshot is not base64"))
    }

    /// `png` (from [`Browser::screenshot`] or [`Browser::full_page_screenshot`]) written to
    /// `path`, its directory created first.
    pub fn save_png(path: &Path, png: &[u8]) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// [`Browser::screenshot`], also written to `path` (its directory is created); returns the
    /// PNG.
    pub fn save_screenshot(&self, path: &Path) -> Vec<u8> {
        let png = self.screenshot();
        Browser::save_png(path, &png);
        png
    }

    /// When the current page first rendered, from its navigation and paint timing entries.
    /// Call it after the page has loaded (e.g. after [`Browser::goto`]).
    pub fn render_timing(&self) -> RenderTiming {
        let value = self.execute(
            "const nav = performance.getEntriesByType('navigation')[0];\n\
             const paint = (name) => {\n\
               const e = performance.getEntriesByType('paint').find((p) => p.name === name);\n\
               return e ? e.startTime : null;\n\
             };\n\
             return nav ? {\n\
               response_end: nav.responseEnd,\n\
               dom_content_loaded: nav.domContentLoadedEventEnd,\n\
               load: nav.loadEventEnd,\n\
               transfer_size: nav.transferSize,\n\
               first_paint: paint('first-paint'),\n\
               first_contentful_paint: paint('first-contentful-paint'),\n\
             } : null;",
            &[],
        );
        let number = |key: &str| value.get(key).and_then(Value::as_f64);
        RenderTiming {
            response_end_ms: number("response_end")
                .unwrap_or_else(|| panic!("no navigation timing: {value}")),
            dom_content_loaded_ms: number("dom_content_loaded").unwrap_or_default(),
            load_ms: number("load").unwrap_or_default(),
            first_paint_ms: number("first_paint"),
            first_contentful_paint_ms: number("first_contentful_paint"),
            document_bytes: value
                .get("transfer_size")
                .and_then(Value::as_u64)
                .unwrap_or_default(),
        }
    }
}
