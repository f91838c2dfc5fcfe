//! The browser entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker that the page is interactive, for people's tools and for the browser tests.
    let _ = leptos::tachys::dom::body().set_attribute("data-hydrated", "true");
}
