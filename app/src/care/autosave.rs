//! Drafts kept on the server as the patient writes: with JavaScript, a questionnaire's or a
//! worksheet's form is saved as a draft 1.5 seconds after the last change, posted to the same
//! server function as its "Save draft" button (which does the same without JavaScript).
//! Nothing is kept in the browser. The island's code is small on purpose (the browser's own
//! form data and fetch, no serialisation of its own): it loads with every form.

use crate::i18n::*;
use leptos::prelude::*;

/// How long after the last change a draft is saved.
pub const AUTOSAVE_MS: u64 = 1500;

/// Saves the draft of the form inside it a moment after each change, and says so in a live
/// region. Lazy: its code loads only on pages with such a form. It takes no props besides its
/// children (the language is the page's): props would bring the JSON decoder into every page's
/// first load.
#[island(lazy)]
pub fn Autosave(children: Children) -> impl IntoView {
    let locale = if page_is_english() {
        Locale::en
    } else {
        Locale::sv
    };
    let status = RwSignal::new(String::new());
    let root = NodeRef::<leptos::html::Div>::new();
    let timer = StoredValue::new(None::<TimeoutHandle>);
    // Effects run only in the browser: the attribute says the form now saves as it is written.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    // A save on its way, and a button press held back until it has arrived (the press carries
    // newer text, which must not be overwritten by the older save arriving after it).
    let in_flight = StoredValue::new(false);
    // The button as its name and value (a DOM handle may not live in the server's render).
    let held = StoredValue::new(None::<Option<(String, String)>>);
    let save = move || {
        let Some(div) = root.get_untracked() else {
            return;
        };
        status.set(td_string!(locale, care.autosave_saving).to_owned());
        in_flight.set_value(true);
        leptos::task::spawn_local(async move {
            let saved = save_draft(&div).await;
            in_flight.set_value(false);
            if let Some(submitter) = held.try_update_value(Option::take).flatten() {
                resubmit(&div, submitter);
            }
            status.set(match saved {
                Some(Saved::Yes) => {
                    format!("{} {}", td_string!(locale, care.autosave_saved), clock())
                }
                // Sent for good in the meantime: nothing left to save.
                Some(Saved::AlreadySent) => String::new(),
                None => td_string!(locale, care.autosave_failed).to_owned(),
            });
        });
    };
    let changed = move |_: leptos::ev::Event| {
        if let Some(pending) = timer.get_value() {
            pending.clear();
        }
        let next =
            set_timeout_with_handle(save, std::time::Duration::from_millis(AUTOSAVE_MS)).ok();
        timer.set_value(next);
    };
    // A button pressed: the form is posted as it is, and no draft follows it; while a draft is
    // on its way, the press waits for it.
    let submitted = move |ev: leptos::ev::SubmitEvent| {
        if let Some(pending) = timer.get_value() {
            pending.clear();
        }
        timer.set_value(None);
        if in_flight.get_value() {
            ev.prevent_default();
            let pressed = ev.submitter().map(|button| {
                let attribute = |name| button.get_attribute(name).unwrap_or_default();
                (attribute("name"), attribute("value"))
            });
            held.set_value(Some(pressed));
        }
    };
    view! {
        <div
            node_ref=root
            data-autosave=move || if ready.get() { "ready" } else { "off" }
            on:input=changed
            on:change=changed
            on:submit=submitted
        >
            {children()}
            <p class="muted autosave" role="status">{move || status.get()}</p>
        </div>
    }
}

/// Presses the held button (by its name and value) again, or submits the form as Enter would.
fn resubmit(root: &web_sys::HtmlDivElement, pressed: Option<(String, String)>) {
    use leptos::wasm_bindgen::JsCast;
    let Some(form) = root
        .query_selector("form")
        .ok()
        .flatten()
        .and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return;
    };
    let button = pressed.and_then(|(name, value)| {
        form.query_selector(&format!("button[name=\"{name}\"][value=\"{value}\"]"))
            .ok()
            .flatten()
            .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
    });
    let _ = form.request_submit_with_submitter(button.as_ref());
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Saved {
    Yes,
    AlreadySent,
}

/// Posts the form inside `root` to its own server function as a draft (`intent=save`), as the
/// "Save draft" button would, asking for the answer as data rather than a page. No code of its
/// own for the fields: the browser's form data is sent as it is.
#[cfg(feature = "hydrate")]
async fn save_draft(root: &web_sys::HtmlDivElement) -> Option<Saved> {
    use leptos::wasm_bindgen::JsCast;
    let form: web_sys::HtmlFormElement = root.query_selector("form").ok()??.dyn_into().ok()?;
    let data = web_sys::FormData::new_with_form(&form).ok()?;
    let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
    params.set("intent", "save");
    let headers = web_sys::Headers::new().ok()?;
    headers.set("Accept", "application/json").ok()?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&params);
    init.set_headers(&headers);
    let window = web_sys::window()?;
    let reply =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_str_and_init(&form.action(), &init))
            .await
            .ok()?;
    let reply: web_sys::Response = reply.dyn_into().ok()?;
    match reply.status() {
        200..=299 => Some(Saved::Yes),
        409 => Some(Saved::AlreadySent),
        _ => None,
    }
}

#[cfg(not(feature = "hydrate"))]
async fn save_draft(_root: &web_sys::HtmlDivElement) -> Option<Saved> {
    None
}

/// Whether the page is in English (`<html lang="en">`).
#[cfg(feature = "hydrate")]
fn page_is_english() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|html| html.get_attribute("lang"))
        .is_some_and(|lang| lang.starts_with("en"))
}

#[cfg(not(feature = "hydrate"))]
fn page_is_english() -> bool {
    false
}

/// The browser's local time, `HH:MM`.
#[cfg(feature = "hydrate")]
fn clock() -> String {
    let now = js_sys::Date::new_0();
    format!("{:02}:{:02}", now.get_hours(), now.get_minutes())
}

#[cfg(not(feature = "hydrate"))]
fn clock() -> String {
    String::new()
}
