//! The farm panel's sign-in, as a person does it: shared by the panel's browser tests.

use std::time::Duration;

use super::Browser;

impl Browser {
    /// Opens `base` (`http://host:port`) at `/`, which sends to the sign-in form, types `name`
    /// and `password` and submits. Does not wait for the answer; see [`Browser::sign_in`].
    pub fn submit_sign_in(&self, base: &str, name: &str, password: &str) {
        self.goto(&format!("{base}/"));
        assert_eq!(
            self.find("#page-title").text(),
            "Sign in",
            "{}",
            self.current_url()
        );
        self.find("#username").send_keys(name);
        self.find("#password").send_keys(password);
        self.find("form.login button[type=submit]").click();
    }

    /// Signs in at `base` and waits (up to `timeout`) for the overview.
    pub fn sign_in(&self, base: &str, name: &str, password: &str, timeout: Duration) {
        self.submit_sign_in(base, name, password);
        self.wait_for_text("#page-title", "Overview", timeout);
    }

    /// The path (and query and fragment) of the current page on `base`.
    pub fn path_on(&self, base: &str) -> String {
        let url = self.current_url();
        url.strip_prefix(base).unwrap_or(&url).to_owned()
    }
}
