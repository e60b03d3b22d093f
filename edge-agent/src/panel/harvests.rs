//! The harvests page: `GET /harvests` shows the form and the recent harvests (newest first,
//! each pending or synced); `POST /harvests` records one through the same checks and the same
//! durable outbox write as `POST /api/harvests` ([`HarvestState::record`]), then answers 303
//! back to `/harvests` (post/redirect/get), so the new harvest shows at the top as pending. A
//! refused harvest answers 422 with the form again, the values kept and the reason shown;
//! nothing is written. The guard has checked the CSRF token before the handler runs.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::html::{escape, page, select, Nav, Viewer};
use super::pages::SignedIn;
use super::sessions::Session;
use super::state::{FormFields, PanelState};
use super::{format, CSRF_FIELD};
use crate::config::Unit;
use crate::harvest::{Catalogue, HarvestRequest, HarvestState, Listed, RecordError};
use crate::outbox::OutboxError;

/// How many harvests the page lists.
const RECENT: usize = 20;

/// What the manager typed, kept to show the form again.
#[derive(Debug, Default, Clone, PartialEq)]
struct Entered {
    room: String,
    product: String,
    quantity: String,
    unit: String,
    lot: String,
}

impl Entered {
    fn from_form(form: &FormFields) -> Entered {
        let field = |name| form.get(name).unwrap_or_default().to_owned();
        Entered {
            room: field("room"),
            product: field("product"),
            quantity: field("quantity"),
            unit: field("unit"),
            lot: field("lot"),
        }
    }

    /// The request the API would get: the quantity read as a number (a decimal comma is
    /// taken as a point), an empty lot left for the agent to make up.
    fn request(&self) -> Result<HarvestRequest, String> {
        let typed = self.quantity.trim();
        let quantity = format::decimal(typed)
            .ok_or_else(|| format!("quantity must be a number such as 4.5, got {typed:?}"))?;
        let lot = self.lot.trim();
        Ok(HarvestRequest {
            room: self.room.clone(),
            product: self.product.clone(),
            quantity,
            unit: self.unit.clone(),
            lot: (!lot.is_empty()).then(|| lot.to_owned()),
        })
    }
}

/// `GET /harvests`.
pub(super) async fn show(SignedIn(session): SignedIn, State(panel): State<PanelState>) -> Response {
    let Some(farm) = panel.farm() else {
        return unavailable(&session);
    };
    let entered = Entered {
        unit: Unit::Kg.as_str().to_owned(),
        ..Entered::default()
    };
    let html = render(&session, &farm.harvests, &entered, None).await;
    Html(html).into_response()
}

/// `POST /harvests` (form-encoded).
pub(super) async fn record(
    SignedIn(session): SignedIn,
    State(panel): State<PanelState>,
    body: Bytes,
) -> Response {
    let Some(farm) = panel.farm() else {
        return unavailable(&session);
    };
    let harvests = &farm.harvests;
    let entered = Entered::from_form(&FormFields::parse(&body));
    let request = match entered.request() {
        Ok(request) => request,
        Err(message) => return refused(&session, harvests, &entered, &message).await,
    };
    match harvests.record(request).await {
        Ok(_) => Redirect::to("/harvests").into_response(),
        Err(RecordError::Invalid(e)) => refused(&session, harvests, &entered, &e.to_string()).await,
        Err(RecordError::NotSaved(e)) => {
            let status = match e {
                OutboxError::Closed => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let message = "The harvest could not be saved and was not recorded. Try again; \
                           if it keeps failing, check the System page.";
            let html = render(&session, harvests, &entered, Some(message)).await;
            (status, Html(html)).into_response()
        }
    }
}

/// 422: the form again with the values and the reason.
async fn refused(
    session: &Session,
    harvests: &HarvestState,
    entered: &Entered,
    message: &str,
) -> Response {
    let message = format!("Not recorded: {message}");
    let html = render(session, harvests, entered, Some(&message)).await;
    (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
}

fn unavailable(session: &Session) -> Response {
    let main = "<h1 id=\"page-title\">Harvests</h1>\n\
        <p class=\"error\" role=\"alert\">Harvest entry is not available on this agent.</p>\n";
    let html = layout(session, main);
    (StatusCode::SERVICE_UNAVAILABLE, Html(html)).into_response()
}

/// The whole page: the form (with `entered` and `error`) and the recent harvests.
async fn render(
    session: &Session,
    harvests: &HarvestState,
    entered: &Entered,
    error: Option<&str>,
) -> String {
    let recent = harvests.recent(RECENT).await.ok();
    let mut main = String::from("<h1 id=\"page-title\">Harvests</h1>\n");
    form(
        &mut main,
        &harvests.catalogue,
        &session.csrf,
        entered,
        error,
    );
    recent_list(&mut main, &harvests.catalogue, recent.as_deref());
    layout(session, &main)
}

fn layout(session: &Session, main: &str) -> String {
    let viewer = Viewer {
        user: &session.user,
        csrf: &session.csrf,
    };
    page("Harvests", Some((&viewer, Nav::Harvests)), main)
}

fn form(
    out: &mut String,
    catalogue: &Catalogue,
    csrf: &str,
    entered: &Entered,
    error: Option<&str>,
) {
    out.push_str(
        "<section aria-labelledby=\"record-title\">\n<h2 id=\"record-title\">Record a harvest</h2>\n",
    );
    if let Some(error) = error {
        let _ = writeln!(
            out,
            "<p class=\"error\" role=\"alert\" id=\"harvest-error\">{}</p>",
            escape(error)
        );
    }
    let described = if error.is_some() {
        " aria-describedby=\"harvest-error\""
    } else {
        ""
    };
    let _ = write!(
        out,
        "<form class=\"stacked\" method=\"post\" action=\"/harvests\" \
         aria-labelledby=\"record-title\"{described}>\n\
         <input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{}\">\n\
         <label for=\"harvest-room\">Room</label>\n",
        escape(csrf)
    );
    if catalogue.rooms.is_empty() {
        text_input(out, "harvest-room", "room", &entered.room, true);
    } else {
        let rooms = catalogue.rooms.iter().map(|r| (r.clone(), r.clone()));
        select(out, "harvest-room", "room", rooms, &entered.room);
    }
    out.push_str("<label for=\"harvest-product\">Product</label>\n");
    if catalogue.products.is_empty() {
        text_input(out, "harvest-product", "product", &entered.product, true);
    } else {
        let mut products: Vec<_> = catalogue.products.values().collect();
        products.sort_by(|a, b| a.sku.cmp(&b.sku));
        let first = std::iter::once((String::new(), "Choose a product".to_owned()));
        let options = products
            .into_iter()
            .map(|p| (p.sku.clone(), format!("{} — {}", p.sku, p.name)));
        select(
            out,
            "harvest-product",
            "product",
            first.chain(options),
            &entered.product,
        );
    }
    let _ = write!(
        out,
        "<label for=\"harvest-quantity\">Quantity</label>\n\
         <input id=\"harvest-quantity\" name=\"quantity\" type=\"text\" inputmode=\"decimal\" \
         autocomplete=\"off\" required value=\"{}\">\n\
         <label for=\"harvest-unit\">Unit</label>\n",
        escape(&entered.quantity)
    );
    let units = Unit::ALL.map(|u| (u.as_str().to_owned(), u.as_str().to_owned()));
    select(
        out,
        "harvest-unit",
        "unit",
        units.into_iter(),
        &entered.unit,
    );
    out.push_str("<label for=\"harvest-lot\">Lot code or note (optional)</label>\n");
    text_input(out, "harvest-lot", "lot", &entered.lot, false);
    out.push_str(
        "<p class=\"hint\">Left empty, a lot code is made up from the room and today's date.</p>\n\
         <button type=\"submit\">Record harvest</button>\n</form>\n</section>\n",
    );
}

fn text_input(out: &mut String, id: &str, name: &str, value: &str, required: bool) {
    let required = if required { " required" } else { "" };
    let _ = writeln!(
        out,
        "<input id=\"{id}\" name=\"{name}\" type=\"text\" maxlength=\"64\" autocomplete=\"off\"{required} value=\"{}\">",
        escape(value)
    );
}

/// The recent harvests, newest first; `None` when they could not be read.
fn recent_list(out: &mut String, catalogue: &Catalogue, recent: Option<&[Listed]>) {
    out.push_str(
        "<section aria-labelledby=\"recent-title\">\n<h2 id=\"recent-title\">Recent harvests</h2>\n",
    );
    match recent {
        None => out.push_str(
            "<p class=\"error\" role=\"alert\">The recent harvests could not be read.</p>\n",
        ),
        Some([]) => out.push_str("<p>No harvests recorded yet.</p>\n"),
        Some(recent) => {
            out.push_str("<ol class=\"harvests\">\n");
            for listed in recent {
                harvest_item(out, catalogue, listed);
            }
            out.push_str("</ol>\n");
        }
    }
    out.push_str("</section>\n");
}

fn harvest_item(out: &mut String, catalogue: &Catalogue, listed: &Listed) {
    let h = &listed.harvest;
    let product = match catalogue.products.get(&h.product) {
        Some(p) => format!("{} — {}", p.sku, p.name),
        None => h.product.clone(),
    };
    let (when, datetime) = format::local_time(listed.ts, &catalogue.timezone);
    let status = listed.status();
    let _ = write!(
        out,
        "<li id=\"harvest-{seq}\">\n\
         <span class=\"what\"><strong>{quantity} {unit}</strong> {product}</span>\n\
         <span class=\"status status-{status}\">{status}</span>\n\
         <span class=\"meta\">{room} · lot {lot} · <time datetime=\"{datetime}\">{when}</time></span>\n\
         </li>\n",
        seq = listed.seq,
        quantity = h.quantity,
        unit = escape(&h.unit),
        product = escape(&product),
        room = escape(&h.room),
        lot = escape(&h.lot),
    );
}

#[cfg(test)]
mod tests;
