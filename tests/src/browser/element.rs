//! What a test does with one element of the page.

use serde_json::{json, Value};

use super::{string, Element, ELEMENT_KEY};

impl Element<'_> {
    /// Clicks the element (scrolled into view first).
    pub fn click(&self) {
        self.command("POST", "/click", json!({}));
    }

    /// Types `text` into the element.
    pub fn send_keys(&self, text: &str) {
        self.command("POST", "/value", json!({ "text": text }));
    }

    /// Empties an input or textarea.
    pub fn clear(&self) {
        self.command("POST", "/clear", json!({}));
    }

    /// The element's rendered text.
    pub fn text(&self) -> String {
        string(self.command("GET", "/text", Value::Null))
    }

    /// The element's attribute `name` (e.g. `aria-invalid`), `None` if it has none.
    pub fn attribute(&self, name: &str) -> Option<String> {
        let value = self.command("GET", &format!("/attribute/{name}"), Value::Null);
        value.as_str().map(str::to_owned)
    }

    /// The element's DOM property `name` (e.g. `value` of an input, `checked`), as JSON.
    pub fn property(&self, name: &str) -> Value {
        self.command("GET", &format!("/property/{name}"), Value::Null)
    }

    /// The element as an argument for [`Browser::execute`] (`arguments[i]` in the script).
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.browser
            .command(method, &format!("/element/{}{path}", self.id), body)
    }
}
