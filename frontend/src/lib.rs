//! The browser entry point. Pages are rendered on the server and stay plain HTML; only the
//! components marked `#[island]` in `app` are hydrated (Leptos islands).

// Links the app crate, whose islands register themselves for hydration.
#[allow(unused_imports)]
use app::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // A marker that the page is interactive, for people's tools and for the browser tests.
    let _ = leptos::tachys::dom::body().set_attribute("data-hydrated", "true");
}
