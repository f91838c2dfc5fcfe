//! Care as the patient walks it: their treatment's modules (open or locked), its pages through
//! the one content renderer, and the questionnaires on them, answered as drafts kept on the
//! server and then submitted once, scored by the server. An urgent answer shows the unit's
//! crisis information at once and raises one flag per alert rule for the care team.
//!
//! What the patient may open is decided on the server from their record (`progress`): the
//! pages of a locked module, or of a section hidden by its condition, are refused, not merely
//! left out of the menu.

mod components;
pub mod progress;
#[cfg(feature = "ssr")]
mod record;
pub mod results;

pub use components::{ResultsPage, TreatmentPage, TreatmentStepPage};

use crate::error::AppError;
use crate::programs::{QuestionnaireDef, Step};
use lotsen_macros::endpoint;
use progress::ModuleStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The patient's treatment in one program: its modules and pages, and how far they have come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Treatment {
    pub enrolment_id: i64,
    pub program: String,
    pub care_unit: String,
    /// New answers are taken (treatment is going on).
    pub ongoing: bool,
    pub modules: Vec<ModuleView>,
    /// The care team's messages the patient has not opened yet.
    pub unread_messages: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleView {
    pub key: String,
    pub title: String,
    pub status: ModuleStatus,
    /// Empty while the module is locked.
    pub pages: Vec<PageLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageLink {
    pub module: String,
    pub step: String,
    pub title: String,
    pub seen: bool,
}

impl PageLink {
    pub fn href(&self, enrolment_id: i64) -> String {
        page_href(enrolment_id, &self.module, &self.step)
    }
}

/// Where a treatment's overview is: `/mina-sidor/behandling/<enrolment>`.
pub fn treatment_href(enrolment_id: i64) -> String {
    format!("/mina-sidor/behandling/{enrolment_id}")
}

/// Where a treatment's messages are.
pub fn messages_href(enrolment_id: i64) -> String {
    format!("/mina-sidor/behandling/{enrolment_id}/meddelanden")
}

/// Where a treatment's results are.
pub fn results_href(enrolment_id: i64) -> String {
    format!("/mina-sidor/behandling/{enrolment_id}/resultat")
}

/// Where one page of a treatment is: `/mina-sidor/behandling/<enrolment>/<module>/<page>`.
pub fn page_href(enrolment_id: i64, module: &str, step: &str) -> String {
    format!("/mina-sidor/behandling/{enrolment_id}/{module}/{step}")
}

/// One page, as this patient is shown it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientPage {
    pub enrolment_id: i64,
    pub program: String,
    pub module_title: String,
    /// Its blocks are those the patient's answers show.
    pub step: Step,
    /// 1-based place in the module, and how many pages it shows.
    pub number: usize,
    pub count: usize,
    pub questionnaires: Vec<QuestionnaireDef>,
    pub media_base: String,
    pub previous: Option<PageLink>,
    pub next: Option<PageLink>,
    /// The questionnaires on this page, by block key.
    pub forms: Vec<FormState>,
    pub ongoing: bool,
    /// The unit's own crisis contacts, shown after an urgent answer.
    pub crisis_info: Option<String>,
}

/// A questionnaire on a page, as far as the patient has answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormState {
    pub block_key: String,
    /// `block:<module>/<page>/<block>`.
    pub place: String,
    pub submitted: bool,
    /// Form field name → value, as the form's fields hold them (a draft's or the sent ones).
    pub values: BTreeMap<String, String>,
    /// The server's scoring, once submitted.
    pub total: Option<i32>,
    pub band: Option<String>,
    /// An urgent alert was raised: the patient is shown crisis information.
    pub urgent: bool,
    /// When the draft was last saved (`YYYY-MM-DD HH:MM` UTC), if there is one.
    pub saved_at: Option<String>,
    /// Sent with the submit: a retry of the same submit is recognised, not counted twice.
    pub submit_key: String,
}

/// What the patient asked for with a questionnaire's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormIntent {
    /// Keep the answers as a draft.
    Save,
    /// Send them: they are scored and can no longer be changed.
    Submit,
}

/// What became of a form post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answered {
    pub submitted: bool,
    pub urgent: bool,
}

/// The place of a questionnaire block on a page.
pub fn block_place(module: &str, step: &str, block: &str) -> String {
    format!("block:{module}/{step}/{block}")
}

#[endpoint]
pub async fn my_treatment(enrolment: i64) -> Result<Treatment, AppError> {
    let (db, enrolment) = crate::auth::gate::own_enrolment(ENDPOINT, enrolment).await?;
    record::treatment(&db, &enrolment).await
}

/// The patient's own results in one treatment: each scale's totals over time.
#[endpoint]
pub async fn my_results(enrolment: i64) -> Result<Vec<results::Series>, AppError> {
    let (db, enrolment) = crate::auth::gate::own_enrolment(ENDPOINT, enrolment).await?;
    record::results(&db, &enrolment).await
}

/// One page of the patient's treatment. Opening it marks it seen. A page of a locked module is
/// refused (403), one that the patient's answers do not show is not found (404), whatever the
/// address says.
#[endpoint]
pub async fn my_page(
    enrolment: i64,
    module: String,
    step: String,
) -> Result<PatientPage, AppError> {
    let (db, enrolment) = crate::auth::gate::own_enrolment(ENDPOINT, enrolment).await?;
    record::page(&db, &enrolment, &module, &step).await
}

/// Saves a questionnaire's answers as a draft, or submits them. Every field is checked; a
/// submit with an answer missing keeps what was given as the draft and says what is missing.
/// A submitted questionnaire cannot be changed (409), but a retry of the same submit (the same
/// `submit_key`) is answered as the first one was, with no second response or flag.
#[endpoint]
pub async fn answer_form(
    enrolment: i64,
    place: String,
    #[server(default)] answers: BTreeMap<String, String>,
    submit_key: String,
    intent: FormIntent,
) -> Result<Answered, AppError> {
    let (db, enrolment) = crate::auth::gate::own_enrolment(ENDPOINT, enrolment).await?;
    record::answer(&db, &enrolment, &place, &answers, &submit_key, intent).await
}
