//! Care as the patient walks it: their treatment's modules (open or locked), its pages through
//! the one content renderer, and the questionnaires on them, answered as drafts kept on the
//! server and then submitted once, scored by the server. An urgent answer shows the unit's
//! crisis information at once and raises one flag per alert rule for the care team.
//!
//! What the patient may open is decided on the server from their record (`progress`): the
//! pages of a locked module, or of a section hidden by its condition, are refused, not merely
//! left out of the menu.

mod autosave;
mod components;
#[cfg(feature = "ssr")]
pub mod follow_up;
pub mod homework;
pub mod progress;
#[cfg(feature = "ssr")]
mod record;
pub mod results;
#[cfg(feature = "ssr")]
pub mod schedule;
#[cfg(feature = "ssr")]
pub mod treatment;
#[cfg(feature = "ssr")]
pub mod trial;

#[cfg(feature = "ssr")]
pub(crate) use record::version_content;

pub use autosave::Autosave;
pub use components::{
    DueFormView, ExtraFormsSection, ResultsPage, StaffModules, TestTherapistPage, TreatmentPage,
    TreatmentStepPage,
};

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
    /// The scheduled questionnaires open now, blocking ones first.
    pub due_forms: Vec<DueFormLink>,
}

/// A scheduled questionnaire that is open to answer now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueFormLink {
    pub schedule: String,
    pub title: String,
    /// Swedish days, `YYYY-MM-DD`: when it fell due, and the last day it is open.
    pub due_on: String,
    pub last_day: String,
    /// The program's pages wait until it is answered.
    pub blocking: bool,
}

impl DueFormLink {
    pub fn href(&self, enrolment_id: i64) -> String {
        due_form_href(enrolment_id, &self.schedule)
    }
}

/// The schedule key of an extra form: a questionnaire of the program that a therapist asked the
/// patient to answer now, outside its schedule. Program keys never hold a dot.
pub const EXTRA_PREFIX: &str = "extra.";

/// How many days an extra form may stay open (from the day it is asked for), and the default.
pub const EXTRA_DAYS: std::ops::RangeInclusive<u32> = 1..=28;
pub const EXTRA_DAYS_DEFAULT: u32 = 7;

/// The schedule key of an extra form of `questionnaire`.
pub fn extra_schedule(questionnaire: &str) -> String {
    format!("{EXTRA_PREFIX}{questionnaire}")
}

/// The questionnaire of an extra form's schedule key; `None` for a program's schedule.
pub fn extra_questionnaire(schedule: &str) -> Option<&str> {
    schedule.strip_prefix(EXTRA_PREFIX)
}

/// Where an extra form asked for stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraFormState {
    /// The patient may answer it now.
    Open,
    Answered,
    /// Its last day passed, or the therapist withdrew it, before it was answered.
    Closed,
}

/// An extra form on the patient's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraForm {
    pub schedule: String,
    pub title: String,
    /// Swedish days, `YYYY-MM-DD`: when it was asked for, and its last day.
    pub asked_on: String,
    pub last_day: String,
    pub state: ExtraFormState,
}

/// A questionnaire of the program that may be asked for as an extra form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormChoice {
    pub key: String,
    pub title: String,
}

/// A treatment's extra forms, newest first, and what the caller may ask for (nothing unless
/// they are a therapist on its care team while it goes on).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraForms {
    pub forms: Vec<ExtraForm>,
    pub choices: Vec<FormChoice>,
}

/// A scheduled questionnaire's page: the open instance to answer, or the one just sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueFormPage {
    pub enrolment_id: i64,
    pub program: String,
    pub due: DueFormLink,
    pub questionnaire: QuestionnaireDef,
    pub form: FormState,
    pub ongoing: bool,
    /// The unit's own crisis contacts, shown after an urgent answer.
    pub crisis_info: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleView {
    pub key: String,
    pub title: String,
    pub status: ModuleStatus,
    /// Empty while the module is locked.
    pub pages: Vec<PageLink>,
    /// The therapist's feedback on the module, once given.
    pub feedback: Option<FeedbackView>,
}

/// The therapist's feedback on a module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackView {
    pub author: Option<String>,
    pub body: String,
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub given_at: String,
}

/// A worksheet or exercise on a page, as far as the patient has written it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeworkState {
    pub block_key: String,
    /// `block:<module>/<page>/<block>`.
    pub place: String,
    pub kind: homework::HomeworkKind,
    /// A worksheet that was submitted: locked.
    pub submitted: bool,
    /// A worksheet's values, by field key: the draft's or the submitted ones.
    pub values: BTreeMap<String, String>,
    /// When the worksheet was last saved or submitted (`YYYY-MM-DD HH:MM` UTC).
    pub saved_at: Option<String>,
    /// An exercise's entries, newest first.
    pub entries: Vec<HomeworkEntry>,
    /// Sent with the form: a retry is recognised, not counted twice.
    pub submit_key: String,
}

/// One entry of an exercise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeworkEntry {
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub at: String,
    /// By field key.
    pub values: BTreeMap<String, String>,
}

/// A module of a patient's treatment as the care team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffModule {
    pub key: String,
    pub title: String,
    pub status: ModuleStatus,
    /// Submitted worksheets and exercise entries, oldest first.
    pub homework: Vec<HomeworkAnswer>,
    pub feedback: Option<FeedbackView>,
    /// Feedback may be given now: treatment going on at the caller's unit, the module open, none
    /// given yet.
    pub may_give_feedback: bool,
    /// The caller may open the module early, hide it or put it back under its rule (a
    /// therapist on the care team, treatment going on).
    pub may_set: bool,
}

/// A submitted worksheet or exercise entry, with its fields' labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeworkAnswer {
    /// The title of the page it is on.
    pub page: String,
    pub kind: homework::HomeworkKind,
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub at: String,
    /// (label, value), in the block's order.
    pub fields: Vec<(String, String)>,
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

/// Where a scheduled questionnaire of a treatment is answered.
pub fn due_form_href(enrolment_id: i64, schedule: &str) -> String {
    format!("/mina-sidor/formular/{enrolment_id}/{schedule}")
}

/// The place of a scheduled questionnaire's instance: `schedule:<key>/<instance>`.
pub fn schedule_place(schedule: &str, occurrence: u32) -> String {
    format!("schedule:{schedule}/{occurrence}")
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
    /// The worksheets and exercises on this page.
    pub homework: Vec<HomeworkState>,
    pub ongoing: bool,
    /// The unit's own crisis contacts, shown after an urgent answer.
    pub crisis_info: Option<String>,
    /// A blocking scheduled questionnaire is open: the page's content waits (is not sent)
    /// until it is answered.
    pub blocked_by: Option<DueFormLink>,
}

/// A questionnaire on a page, as far as the patient has answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormState {
    pub block_key: String,
    /// `block:<module>/<page>/<block>`, or `schedule:<key>/<instance>`.
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

/// A scheduled questionnaire of the patient's treatment: its open instance (opening it marks
/// it shown), or the instance last answered. Not found when none is open or answered.
#[endpoint]
pub async fn my_due_form(enrolment: i64, schedule: String) -> Result<DueFormPage, AppError> {
    let (db, enrolment) = crate::auth::gate::own_enrolment(ENDPOINT, enrolment).await?;
    record::due_form(&db, &enrolment, &schedule).await
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

/// One treatment's record as the patient may take it home ("my data"): what they answered,
/// wrote and read, and what the care team wrote to them. No therapist-internal note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreatmentRecord {
    pub program: String,
    pub version: String,
    pub care_unit: String,
    pub care_provider: String,
    pub state: crate::domain::EnrolmentState,
    /// `YYYY-MM-DD`.
    pub started: String,
    /// (module title, page title, first opened `YYYY-MM-DD HH:MM` UTC), in the order opened.
    pub pages_seen: Vec<(String, String, String)>,
    pub answers: Vec<AnswerRecord>,
    pub homework: Vec<HomeworkRecord>,
    pub feedback: Vec<(String, FeedbackView)>,
    pub messages: Vec<crate::messages::MessageView>,
}

/// A questionnaire answer in "my data".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerRecord {
    pub questionnaire: String,
    pub submitted: bool,
    /// When sent, or last saved for a draft (UTC, `YYYY-MM-DD HH:MM`).
    pub at: String,
    pub total: Option<i32>,
    pub band: Option<String>,
    /// (item, answer), in the questionnaire's order.
    pub items: Vec<(String, String)>,
}

/// A worksheet or exercise entry in "my data".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeworkRecord {
    pub page: String,
    pub kind: homework::HomeworkKind,
    pub submitted: bool,
    pub at: String,
    pub fields: Vec<(String, String)>,
}

/// One treatment's record for "my data".
#[cfg(feature = "ssr")]
pub async fn treatment_record(
    db: &sea_orm::DatabaseConnection,
    own: &crate::auth::scope::OwnEnrolment,
) -> Result<TreatmentRecord, AppError> {
    record::export(db, own).await
}

/// Saves a worksheet's draft or submits it (then it is locked, 409 on any change), or adds an
/// entry to an exercise (`intent=submit`; an exercise keeps no draft). Every field is checked
/// against the block's fields; a worksheet sent with a required field missing keeps what was
/// written as its draft and says which field is missing.
#[endpoint]
pub async fn save_homework(
    enrolment: i64,
    place: String,
    #[server(default)] fields: BTreeMap<String, String>,
    submit_key: String,
    intent: FormIntent,
) -> Result<(), AppError> {
    let (db, enrolment) = crate::auth::gate::own_enrolment(ENDPOINT, enrolment).await?;
    record::save_homework(&db, &enrolment, &place, &fields, &submit_key, intent).await
}

/// The therapist's changes of a treatment are its care team's.
#[cfg(feature = "ssr")]
const TEAM: crate::auth::gate::Changer = crate::auth::gate::Changer::Team;

/// A therapist on the treatment's care team (its responsible therapist or a co-therapist) gives
/// feedback on a module: the patient reads it, and a module that opens "after feedback" opens.
/// Once per module.
#[endpoint]
pub async fn give_feedback(
    patient_id: i64,
    enrolment: i64,
    module: String,
    body: String,
    submit_key: String,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let (db, enrolment, me) =
        crate::auth::gate::treatment_for_staff(&principal, patient_id, enrolment, "feedback", TEAM)
            .await?;
    record::give_feedback(&db, &enrolment, me, &module, &body, &submit_key).await
}

/// A therapist on the treatment's care team opens a module early (`action` `unlock`), hides it
/// from the patient (`hide`), or puts it back under the program's rule (`reset`).
#[endpoint]
pub async fn set_module(
    patient_id: i64,
    enrolment: i64,
    module: String,
    action: String,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let (db, enrolment, me) =
        crate::auth::gate::treatment_for_staff(&principal, patient_id, enrolment, "module", TEAM)
            .await?;
    let action = match action.as_str() {
        "unlock" => record::ModuleAction::Unlock,
        "hide" => record::ModuleAction::Hide,
        "reset" => record::ModuleAction::Reset,
        _ => return Err(crate::error::invalid("action", "unknown_change")),
    };
    record::set_module(&db, &enrolment, me, &module, action).await
}

/// A therapist on the treatment's care team asks the patient to answer one of the program's
/// questionnaires now, open for `days` days (1–28): the patient is told, without content, that
/// a form waits. One extra form of a questionnaire is open at a time.
#[endpoint]
pub async fn request_form(
    patient_id: i64,
    enrolment: i64,
    questionnaire: String,
    days: u32,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let (db, enrolment, me) = crate::auth::gate::treatment_for_staff(
        &principal,
        patient_id,
        enrolment,
        "extra_form",
        TEAM,
    )
    .await?;
    record::request_form(&db, &enrolment, me, &questionnaire, days).await
}

/// A therapist on the treatment's care team withdraws an extra form the patient has not
/// answered. Withdrawing one that is no longer open changes nothing.
#[endpoint]
pub async fn withdraw_form(
    patient_id: i64,
    enrolment: i64,
    schedule: String,
) -> Result<(), AppError> {
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let (db, enrolment, me) = crate::auth::gate::treatment_for_staff(
        &principal,
        patient_id,
        enrolment,
        "extra_form",
        TEAM,
    )
    .await?;
    record::withdraw_form(&db, &enrolment, me, &schedule).await
}

/// A producer's or publisher's test of a program, seen from the therapist's side: what a
/// therapist would see of this patient, and the same controls (feedback, modules, extra forms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestTherapistView {
    /// The test patient and enrolment, for the forms.
    pub patient_id: i64,
    pub enrolment_id: i64,
    pub program: String,
    pub modules: Vec<StaffModule>,
    /// A key for the feedback forms while the test goes on.
    pub feedback_key: Option<String>,
    pub results: Vec<results::Series>,
    /// Every flag the test's answers raised, oldest first.
    pub flags: Vec<crate::clinic::summary::SummaryFlag>,
    pub extra: ExtraForms,
}

/// The tester's test enrolment from the therapist's side (only while their session is bound
/// to the test: 403 otherwise). Test data is the tester's own:
/// nothing is logged as a patient's.
#[endpoint]
pub async fn test_as_therapist() -> Result<TestTherapistView, AppError> {
    use crate::auth::scope::EnrolmentScope;
    let principal = crate::auth::gate::enter(ENDPOINT)?;
    let bound = principal.test.ok_or(AppError::Forbidden)?.enrolment_id;
    let (db, enrolment, me) = crate::auth::gate::test_as_therapist(&principal, bound).await?;
    let program = record::version_content(&db, enrolment.version_id()).await?;
    Ok(TestTherapistView {
        patient_id: enrolment.patient_id(),
        enrolment_id: enrolment.id(),
        program: program.title.clone(),
        modules: record::staff_modules(&db, &enrolment, me).await?,
        feedback_key: match enrolment.may_write() {
            true => Some(crate::auth::session::new_token()?),
            false => None,
        },
        results: record::results(&db, &enrolment).await?,
        flags: treatment::flags(&db, &enrolment).await?,
        extra: record::extra_forms(&db, &enrolment, me).await?,
    })
}

/// The extra forms of a treatment a staff member's access reached, and what `reader` may ask
/// for.
#[cfg(feature = "ssr")]
pub(crate) async fn staff_extra_forms(
    db: &impl sea_orm::ConnectionTrait,
    enrolment: &crate::auth::scope::StaffEnrolment,
    reader: i64,
) -> Result<ExtraForms, AppError> {
    record::extra_forms(db, enrolment, reader).await
}

/// Makes the due forms of every ongoing treatment of real care that have fallen due, and tells
/// their patients (the server runs it now and then). Returns how many were made.
#[cfg(feature = "ssr")]
pub async fn sweep_due_forms(db: &sea_orm::DatabaseConnection) -> Result<u64, AppError> {
    record::sweep_due(db).await
}

/// The modules of the enrolments a staff member's access reaches, by enrolment: progress,
/// submitted homework and feedback.
#[cfg(feature = "ssr")]
pub(crate) async fn staff_modules(
    db: &impl sea_orm::ConnectionTrait,
    access: &crate::auth::scope::CareAccess,
    reader: i64,
) -> Result<BTreeMap<i64, Vec<StaffModule>>, AppError> {
    use crate::auth::scope::EnrolmentScope;
    let mut out = BTreeMap::new();
    for enrolment in access.reached_enrolments(db).await? {
        // One treatment that cannot be read (its version unreadable, logged) does not hide the
        // rest of the record.
        match record::staff_modules(db, &enrolment, reader).await {
            Ok(modules) => {
                out.insert(enrolment.id(), modules);
            }
            Err(AppError::Unavailable) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(out)
}

/// Each scale's totals in a treatment a staff member's access reached, for the charts on the
/// patient's record (chart ids made unique per treatment).
#[cfg(feature = "ssr")]
pub(crate) async fn staff_results(
    db: &impl sea_orm::ConnectionTrait,
    enrolment: &crate::auth::scope::StaffEnrolment,
) -> Result<Vec<results::Series>, AppError> {
    use crate::auth::scope::EnrolmentScope;
    let mut list = record::results(db, enrolment).await?;
    for series in &mut list {
        series.key = format!("{}-{}", enrolment.id(), series.key);
    }
    Ok(list)
}
