use crate::access::{AccessAdminPage, ProviderAdminPage};
use crate::account::AccountPage;
use crate::audit::AuditPage;
use crate::care::{DueFormView, ResultsPage, TestTherapistPage, TreatmentPage, TreatmentStepPage};
use crate::catalogue::CataloguePage;
use crate::clinic::{ClinicHome, PatientRecordPage, RecordSummaryPage};
use crate::design::{DesignPage, ProgramsPage, ReviewPage};
use crate::i18n::*;
use crate::layout::{Layout, NotFound, provide_site_session};
use crate::login::{ChooseAssignmentPage, LoginFailedPage, LoginPage};
use crate::messages::MessagesPage;
use crate::patient::{MyDataPage, NotificationsPage, PatientHome};
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
                <HydrationScripts options islands=true />
                // Moves between the patient's pages without reloading the document; saves the
                // drafts of forms as they are written (public/nav.js, public/autosave.js).
                <script type="module" src="/nav.js" nonce=leptos::nonce::use_nonce()></script>
                <script type="module" src="/autosave.js" nonce=leptos::nonce::use_nonce()></script>
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
    provide_site_session();
    view! {
        <I18nContextProvider ssr_lang_header_getter=chosen_language()>
            <Meta name="color-scheme" content="light" />
            <Router>
                <Layout>
                    // Pages render completely on the server (SsrMode::Async), so that they work
                    // without JavaScript; hydration then makes them interactive.
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=StartPage ssr=SsrMode::Async />
                        <Route path=path!("/mina-sidor") view=PatientHome ssr=SsrMode::Async />
                        <Route path=path!("/mina-sidor/mina-uppgifter") view=MyDataPage ssr=SsrMode::Async />
                        <Route path=path!("/mina-sidor/aviseringar") view=NotificationsPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/mina-sidor/behandling/:enrolment")
                            view=TreatmentPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/mina-sidor/behandling/:enrolment/resultat")
                            view=ResultsPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/mina-sidor/behandling/:enrolment/meddelanden")
                            view=MessagesPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/mina-sidor/behandling/:enrolment/:module/:step")
                            view=TreatmentStepPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/mina-sidor/formular/:enrolment/:schedule")
                            view=DueFormView
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/mottagning") view=ClinicHome ssr=SsrMode::Async />
                        <Route
                            path=path!("/mottagning/patient/:id")
                            view=PatientRecordPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/mottagning/patient/:id/sammanfattning/:enrolment")
                            view=RecordSummaryPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/konto") view=AccountPage ssr=SsrMode::Async />
                        <Route path=path!("/logga-in") view=LoginPage ssr=SsrMode::Async />
                        <Route path=path!("/logga-in/fel") view=LoginFailedPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/logga-in/uppdrag")
                            view=ChooseAssignmentPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/granskning") view=AuditPage ssr=SsrMode::Async />
                        <Route path=path!("/behorigheter") view=AccessAdminPage ssr=SsrMode::Async />
                        <Route path=path!("/vardgivare") view=ProviderAdminPage ssr=SsrMode::Async />
                        <Route path=path!("/katalog") view=CataloguePage ssr=SsrMode::Async />
                        <Route path=path!("/testa/behandlare") view=TestTherapistPage ssr=SsrMode::Async />
                        <Route path=path!("/program") view=ProgramsPage ssr=SsrMode::Async />
                        <Route path=path!("/program/:id") view=DesignPage ssr=SsrMode::Async />
                        <Route path=path!("/program/:id/granska") view=ReviewPage ssr=SsrMode::Async />
                    </Routes>
                </Layout>
            </Router>
        </I18nContextProvider>
    }
}

/// Swedish unless the person chose English with the switch, which sets the language cookie.
/// The browser's language setting is deliberately not consulted: many people here browse with
/// English settings and expect a Swedish public service. (leptos_i18n takes the server-side
/// language from this "header getter"; in the browser it reads `<html lang>`.)
fn chosen_language() -> leptos_i18n::context::UseLocalesOptions {
    leptos_i18n::context::UseLocalesOptions::default().ssr_lang_header_getter(language_cookie)
}

#[cfg(feature = "ssr")]
fn language_cookie() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|cookie| {
            let value = cookie
                .trim()
                .strip_prefix(crate::LANGUAGE_COOKIE)?
                .strip_prefix('=')?;
            Some(value.to_owned())
        })
}

#[cfg(not(feature = "ssr"))]
fn language_cookie() -> Option<String> {
    None
}
