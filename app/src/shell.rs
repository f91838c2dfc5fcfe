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
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let locale = provide_language();
    view! {
        <!DOCTYPE html>
        <html lang=locale.as_str() dir=locale.direction().as_str()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <BundleLinks options />
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

/// The stylesheet and the browser bundle's scripts: what Leptos's `HashedStylesheet` and
/// `HydrationScripts` render, with this response's nonce.
#[component]
fn BundleLinks(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        bundle::links(options)
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos_own(options)
    }
}

/// Leptos's own components for the stylesheet and the bundle.
fn leptos_own(options: LeptosOptions) -> impl IntoView {
    view! {
        <leptos_meta::HashedStylesheet options=options.clone() id="leptos" />
        <HydrationScripts options islands=true />
    }
}

/// Leptos's components read the build's hash file from disk on every render (twice a page);
/// these tags are rendered by them once per process, with a stand-in for the nonce that each
/// response then puts in its place.
#[cfg(feature = "ssr")]
pub mod bundle {
    use leptos::either::Either;
    use leptos::prelude::*;
    use leptos::tachys::html::InertElement;
    use std::sync::OnceLock;

    /// Stands in for a response's nonce in the kept tags.
    const STAND_IN: &str = "lotsen-nonce-stand-in";

    struct Kept {
        /// What the tags were rendered for.
        options: LeptosOptions,
        /// The tags, cut where the nonce goes.
        around_nonce: Vec<String>,
        /// Which split-off parts of the bundle each lazy island loads; Leptos looks for it
        /// in the context to preload them.
        split_manifest: Option<leptos::WasmSplitManifest>,
    }

    static KEPT: OnceLock<Kept> = OnceLock::new();

    /// Leptos's own tags for `options`, with `nonce`. Rendered on a thread of its own: a
    /// reactive root takes over its thread's owner and arena, which on a thread that renders
    /// pages must stay the page's.
    pub fn leptos_tags(
        options: &LeptosOptions,
        nonce: &str,
    ) -> (String, Option<leptos::WasmSplitManifest>) {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let owner = Owner::new_root(None);
                    owner.with(|| {
                        provide_context(leptos::nonce::Nonce::from_value(nonce));
                        let html = super::leptos_own(options.clone()).to_html();
                        (html, use_context::<leptos::WasmSplitManifest>())
                    })
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// The tags for `options`, rendered on first use.
    fn kept(options: &LeptosOptions) -> Option<&'static Kept> {
        let kept = KEPT.get_or_init(|| {
            let (tags, split_manifest) = leptos_tags(options, STAND_IN);
            Kept {
                options: options.clone(),
                around_nonce: tags.split(STAND_IN).map(str::to_owned).collect(),
                split_manifest,
            }
        });
        let same = |a: &LeptosOptions, b: &LeptosOptions| {
            a.output_name == b.output_name
                && a.site_root == b.site_root
                && a.site_pkg_dir == b.site_pkg_dir
                && a.hash_files == b.hash_files
                && a.hash_file == b.hash_file
        };
        same(&kept.options, options).then_some(kept)
    }

    /// Renders the tags before the first page is asked for.
    pub fn prepare(options: &LeptosOptions) {
        kept(options);
    }

    pub fn links(options: LeptosOptions) -> impl IntoView + use<> {
        // The kept tags take the nonce as it is, where Leptos would escape it: the server's
        // nonces are hex. No nonce (no randomness), another nonce, or other options than the
        // first in this process (tests): Leptos's own, as they are.
        let fast = leptos::nonce::use_nonce()
            .filter(|n| n.as_inner().bytes().all(|b| b.is_ascii_alphanumeric()))
            .zip(kept(&options));
        let Some((nonce, kept)) = fast else {
            return Either::Right(super::leptos_own(options));
        };
        // What `HydrationScripts` does for islands besides its tags: nothing of the page is
        // hydrated as a whole, so nothing of it is serialized for the browser.
        if let Some(shared) = Owner::current_shared_context() {
            shared.set_is_hydrating(false);
        }
        if let Some(manifest) = &kept.split_manifest {
            provide_context(manifest.clone());
        }
        Either::Left(InertElement::new(
            kept.around_nonce.join(nonce.as_inner().as_ref()),
        ))
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_site_session();
    // The shell has provided it; the app alone (its routes listed) has not.
    if use_context::<leptos_i18n::context::I18nContext<Locale>>().is_none() {
        provide_language();
    }
    view! {
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
    }
}

/// Provides the language of this page (see [`chosen_language`]) to its components, and
/// returns it for the document's `lang` and `dir`. Pages render only on the server (islands):
/// the language is read once, from the request, and does not change while the page renders.
/// Leptos_i18n's context also starts an effect, as a task of its own, that would keep a cookie
/// in step with the language. On the server it has nothing to do, and such a task may run after
/// the page's reactive owner is gone, when what it reads is disposed. Its owner is paused from
/// the start, so it never runs; the owner is kept until the page's is cleaned up.
fn provide_language() -> Locale {
    let owner = Owner::current().unwrap_or_else(|| Owner::new_root(None));
    let quiet = owner.child();
    let i18n = quiet.with(|| {
        leptos_i18n::context::init_i18n_context_with_options::<Locale>(
            leptos_i18n::context::I18nContextOptions::default()
                .ssr_lang_header_getter(chosen_language()),
        )
    });
    // Now that the effect's owner is among its children (an owner is not born paused).
    quiet.pause();
    provide_context(i18n);
    on_cleanup(move || drop(quiet));
    i18n.get_locale_untracked()
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
    with_context::<http::request::Parts, _>(|parts| {
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
    })
    .flatten()
}

#[cfg(not(feature = "ssr"))]
fn language_cookie() -> Option<String> {
    None
}
