//! Drafts kept on the server as the patient writes: with JavaScript, a questionnaire's or a
//! worksheet's form is saved as a draft 1.5 seconds after the last change, posted to the same
//! server function as its "Save draft" button (which does the same without JavaScript).
//! Nothing is kept in the browser. The behaviour is `public/autosave.js`, a script of about a
//! hundred lines that every page loads (1.2 KiB brotli): it was a lazy WASM island, whose code
//! and the runtime it shared with the design tool's editor took a page with a form from 58 to
//! 86 KiB. This component is the box that script looks for, with the texts it shows.

use crate::i18n::*;
use leptos::prelude::*;

/// The box around a form whose draft `public/autosave.js` saves a moment after each change: it
/// says so in the live region below the form, in the page's language. `data-autosave` is `off`
/// until the script has started (then `ready`).
#[component]
pub fn Autosave(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div
            data-autosave="off"
            data-saving=t_string!(i18n, care.autosave_saving)
            data-saved=t_string!(i18n, care.autosave_saved)
            data-failed=t_string!(i18n, care.autosave_failed)
        >
            {children()}
            <p class="muted autosave" role="status"></p>
        </div>
    }
}
