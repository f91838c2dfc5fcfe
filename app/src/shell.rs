use crate::i18n::*;
use crate::layout::{Layout, NotFound};
use crate::start::StartPage;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Meta, MetaTags, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <I18nContextProvider ssr_lang_header_getter=no_browser_language()>
            <Meta name="color-scheme" content="light" />
            <Router>
                <Layout>
                    // Pages render completely on the server (SsrMode::Async), so that they work
                    // without JavaScript; hydration then makes them interactive.
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=StartPage ssr=SsrMode::Async />
                    </Routes>
                </Layout>
            </Router>
        </I18nContextProvider>
    }
}

/// Swedish unless the person chose English with the switch: the browser's language setting is
/// not consulted, since many people here browse with English settings and expect a Swedish
/// public service.
fn no_browser_language() -> leptos_i18n::context::UseLocalesOptions {
    leptos_i18n::context::UseLocalesOptions::default().ssr_lang_header_getter(|| None)
}
