//! The panel's HTML: one layout for every page, and escaping. Every value that did not come
//! from this file goes through [`escape`]. No inline script or style (the CSP forbids both).

use std::fmt::Write as _;

/// Which main navigation link is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Nav {
    /// `/` and the room pages.
    Overview,
    /// `/harvests`.
    Harvests,
    /// `/system`.
    System,
}

/// The signed-in manager a page is shown to: the header's name and logout form need them.
pub(super) struct Viewer<'a> {
    /// The user's name.
    pub user: &'a str,
    /// The session's CSRF token, for the forms on the page.
    pub csrf: &'a str,
}

/// `text` with `& < > " '` replaced by entities: safe in element content and quoted
/// attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: the document head (viewport, stylesheet), then, for a signed-in viewer, the
/// header with the navigation and the logout form, then `main` (already HTML).
pub(super) fn page(title: &str, viewer: Option<(&Viewer<'_>, Nav)>, main: &str) -> String {
    let mut out = String::with_capacity(2048 + main.len());
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · Farm panel</title>\n\
         <link rel=\"stylesheet\" href=\"/assets/panel.css\">\n</head>\n<body>\n",
        escape(title)
    );
    match viewer {
        Some((viewer, current)) => header(&mut out, viewer, current),
        None => {
            out.push_str("<header class=\"top\"><span class=\"brand\">Farm panel</span></header>\n")
        }
    }
    let _ = write!(out, "<main id=\"main\">\n{main}</main>\n</body>\n</html>\n");
    out
}

fn header(out: &mut String, viewer: &Viewer<'_>, current: Nav) {
    out.push_str(
        "<header class=\"top\">\n<span class=\"brand\">Farm panel</span>\n\
         <nav aria-label=\"Main\">\n<ul>\n",
    );
    for (nav, href, label) in [
        (Nav::Overview, "/", "Overview"),
        (Nav::Harvests, "/harvests", "Harvests"),
        (Nav::System, "/system", "System"),
    ] {
        let aria = if nav == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = writeln!(out, "<li><a href=\"{href}\"{aria}>{label}</a></li>");
    }
    let _ = write!(
        out,
        "</ul>\n</nav>\n\
         <form class=\"logout\" method=\"post\" action=\"/logout\" aria-label=\"Sign out\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <span class=\"who\">Signed in as <strong>{user}</strong></span>\n\
         <button type=\"submit\">Log out</button>\n</form>\n</header>\n",
        csrf = escape(viewer.csrf),
        user = escape(viewer.user),
    );
}

/// A required `<select>` of (value, label) options, `chosen` selected; values and labels
/// are escaped.
pub(super) fn select(
    out: &mut String,
    id: &str,
    name: &str,
    options: impl Iterator<Item = (String, String)>,
    chosen: &str,
) {
    let _ = writeln!(out, "<select id=\"{id}\" name=\"{name}\" required>");
    for (value, label) in options {
        let selected = if value == chosen { " selected" } else { "" };
        let _ = writeln!(
            out,
            "<option value=\"{}\"{selected}>{}</option>",
            escape(&value),
            escape(&label)
        );
    }
    out.push_str("</select>\n");
}

/// The sign-in form. `csrf` is the login form's double-submit token, `next` the (already
/// safe) path to go to afterwards, `name` what was typed before, `message` why the form is
/// shown again.
pub(super) fn login_form(csrf: &str, next: &str, name: &str, message: Option<&str>) -> String {
    let mut main = String::from("<h1 id=\"page-title\">Sign in</h1>\n");
    if let Some(message) = message {
        let _ = writeln!(
            main,
            "<p class=\"error\" role=\"alert\" id=\"login-error\">{}</p>",
            escape(message)
        );
    }
    let described = if message.is_some() {
        " aria-describedby=\"login-error\""
    } else {
        ""
    };
    let _ = write!(
        main,
        "<form class=\"login\" method=\"post\" action=\"/login\" aria-labelledby=\"page-title\"{described}>\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <label for=\"username\">Name</label>\n\
         <input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" \
         autocapitalize=\"none\" spellcheck=\"false\" maxlength=\"64\" required value=\"{name}\">\n\
         <label for=\"password\">Password</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required>\n\
         <button type=\"submit\">Sign in</button>\n</form>\n",
        csrf = escape(csrf),
        next = escape(next),
        name = escape(name),
    );
    page("Sign in", None, &main)
}

/// A page with a heading and one paragraph (errors, the no-users page), with a link.
pub(super) fn notice(title: &str, text: &str, link: Option<(&str, &str)>) -> String {
    let mut main = format!(
        "<h1 id=\"page-title\">{}</h1>\n<p>{}</p>\n",
        escape(title),
        escape(text)
    );
    if let Some((href, label)) = link {
        let _ = writeln!(
            main,
            "<p><a href=\"{}\">{}</a></p>",
            escape(href),
            escape(label)
        );
    }
    page(title, None, &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn the_layout_has_the_viewport_nav_and_a_logout_form_with_the_token() {
        let viewer = Viewer {
            user: "<b>",
            csrf: "tok\"en",
        };
        let html = page("Harvests", Some((&viewer, Nav::Harvests)), "<p>x</p>\n");
        assert!(html
            .contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
        for link in [
            "<a href=\"/\">Overview</a>",
            "<a href=\"/harvests\" aria-current=\"page\">Harvests</a>",
            "<a href=\"/system\">System</a>",
        ] {
            assert!(html.contains(link), "{link} in {html}");
        }
        assert!(html.contains("action=\"/logout\""));
        assert!(html.contains("name=\"csrf\" value=\"tok&quot;en\""));
        assert!(html.contains("<strong>&lt;b&gt;</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("style="));
    }

    #[test]
    fn the_login_form_labels_its_inputs_and_escapes_what_it_echoes() {
        let html = login_form(
            "t0k",
            "/rooms/a",
            "\"><script>",
            Some("Wrong name or password."),
        );
        assert!(html.contains("<label for=\"username\">Name</label>"));
        assert!(html.contains("<label for=\"password\">Password</label>"));
        assert!(html.contains("id=\"username\" name=\"username\""));
        assert!(html.contains("id=\"password\" name=\"password\" type=\"password\""));
        assert!(html.contains("name=\"csrf\" value=\"t0k\""));
        assert!(html.contains("name=\"next\" value=\"/rooms/a\""));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;\""));
        assert!(html.contains("role=\"alert\""));
        assert!(!html.contains("action=\"/logout\""));
    }
}
