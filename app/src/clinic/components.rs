use super::{
    EnrolChoices, EnrolPatients, PatientRecord, UnitPatient, enrolment_choices, get_patient_record,
    unit_patients,
};
use crate::care::StaffModules;
use crate::error::AppError;
use crate::i18n::*;
use crate::layout::{ErrorNotice, FormNotice, page_title};
use crate::messages::StaffThread;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ClinicHome() -> impl IntoView {
    let i18n = use_i18n();
    let patients = Resource::new(|| (), |_| unit_patients());
    view! {
        <Title text=page_title(move || t_string!(i18n, clinic.title).to_string()) />
        <h1>{t!(i18n, clinic.title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match patients.await {
                    // Enrolment is offered to those who may list the unit's patients.
                    Ok(list) => view! { <PatientList list /> <EnrolSection /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Enrolment: one patient, or a group with one personal identity number a line.
#[component]
fn EnrolSection() -> impl IntoView {
    let i18n = use_i18n();
    let choices = Resource::new(|| (), |_| enrolment_choices());
    let enrol = ServerAction::<EnrolPatients>::new();
    view! {
        <section class="card enrol" aria-labelledby="enrol-heading">
            <h2 id="enrol-heading">{t!(i18n, clinic.enrol_heading)}</h2>
            <FormNotice action=enrol />
            <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok(choices) if choices.versions.is_empty() || choices.therapists.is_empty() => {
                            view! { <p>{t!(i18n, clinic.enrol_nothing_active)}</p> }.into_any()
                        }
                        Ok(choices) => view! { <EnrolForm choices enrol /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn EnrolForm(choices: EnrolChoices, enrol: ServerAction<EnrolPatients>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ActionForm action=enrol attr:class="enrol-form">
            <label for="enrol-patients">{t!(i18n, clinic.enrol_patients)}</label>
            <p id="enrol-patients-hint" class="muted">{t!(i18n, clinic.enrol_patients_hint)}</p>
            <textarea id="enrol-patients" name="patients" rows="4" required=true autocomplete="off"
                aria-describedby="enrol-patients-hint"></textarea>
            <label for="enrol-version">{t!(i18n, clinic.program)}</label>
            <select id="enrol-version" name="version_id" required=true>
                {choices.versions.into_iter().map(|v| view! {
                    <option value=v.version_id>{v.label}</option>
                }).collect_view()}
            </select>
            <label for="enrol-responsible">{t!(i18n, clinic.enrol_responsible)}</label>
            <select id="enrol-responsible" name="responsible_staff_id" required=true>
                {choices.therapists.into_iter().map(|t| view! {
                    <option value=t.staff_person_id>{t.name}</option>
                }).collect_view()}
            </select>
            <fieldset>
                <legend>{t!(i18n, clinic.enrol_contact)}</legend>
                <p class="muted">{t!(i18n, clinic.enrol_contact_hint)}</p>
                <label for="enrol-email">{t!(i18n, clinic.enrol_email)}</label>
                <input id="enrol-email" name="email" type="email" autocomplete="off" />
                <label for="enrol-phone">{t!(i18n, clinic.enrol_phone)}</label>
                <input id="enrol-phone" name="phone" type="tel" autocomplete="off" />
                <span class="choice">
                    <input id="enrol-notify-email" name="notify_by_email" type="checkbox" value="on" />
                    <label for="enrol-notify-email">{t!(i18n, clinic.enrol_notify_email)}</label>
                </span>
                <span class="choice">
                    <input id="enrol-notify-sms" name="notify_by_sms" type="checkbox" value="on" />
                    <label for="enrol-notify-sms">{t!(i18n, clinic.enrol_notify_sms)}</label>
                </span>
            </fieldset>
            <button type="submit" class="primary">{t!(i18n, clinic.enrol_submit)}</button>
        </ActionForm>
    }
}

#[component]
fn PatientList(list: Vec<UnitPatient>) -> impl IntoView {
    let i18n = use_i18n();
    if list.is_empty() {
        return view! { <p>{t!(i18n, clinic.no_patients)}</p> }.into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0"><table class="table patients">
            <caption>{t!(i18n, clinic.patients_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, clinic.name)}</th>
                    <th scope="col">{t!(i18n, clinic.personnummer)}</th>
                    <th scope="col">{t!(i18n, clinic.program)}</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|p| view! {
                    <tr>
                        <td><a href=format!("/mottagning/patient/{}", p.patient_id)>{p.name}</a></td>
                        <td>{p.personnummer}</td>
                        <td>{p.program}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

#[component]
pub fn PatientRecordPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    let record = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_patient_record(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text=page_title(move || t_string!(i18n, clinic.record_title).to_string()) />
        <p><a href="/mottagning">{t!(i18n, clinic.back)}</a></p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match record.await {
                    Ok(record) => view! { <Record record /> }.into_any(),
                    Err(error) => {
                        let emergency = (error == AppError::Forbidden).then(id).flatten();
                        view! {
                            <h1>{t!(i18n, clinic.record_title)}</h1>
                            <ErrorNotice error />
                            {emergency.map(|id| view! { <EmergencyAccessForm patient_id=id /> })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Record(record: PatientRecord) -> impl IntoView {
    let i18n = use_i18n();
    let reply = ServerAction::<crate::messages::ReplyMessage>::new();
    let give = ServerAction::<crate::care::GiveFeedback>::new();
    let patient_id = record.patient_id;
    view! {
        <FormNotice action=reply />
        <FormNotice action=give />
        <h1>{record.name}</h1>
        <p>{t!(i18n, clinic.personnummer)} ": " {record.personnummer}</p>
        <h2>{t!(i18n, clinic.enrolments)}</h2>
        <ul class="cards">
            {record.enrolments.into_iter().map(|e| view! {
                <li class="card">
                    <h3>{e.program}</h3>
                    <p>{e.care_unit} " · " {e.started}</p>
                    {(!e.internal_note.is_empty()).then(|| view! {
                        <p class="internal-note">
                            <strong>{t!(i18n, clinic.internal_note)} ": "</strong>
                            {e.internal_note}
                        </p>
                    })}
                    <StaffModules patient_id enrolment_id=e.enrolment_id modules=e.modules feedback_key=e.feedback_key give />
                    <StaffThread patient_id enrolment_id=e.enrolment_id messages=e.messages reply_key=e.reply_key reply />
                </li>
            }).collect_view()}
        </ul>
    }
}

/// Emergency access outside the care relationship: a stated reason, logged and followed up.
#[component]
fn EmergencyAccessForm(patient_id: i64) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card emergency" aria-labelledby="emergency-heading">
            <h2 id="emergency-heading">{t!(i18n, clinic.emergency_heading)}</h2>
            <p>{t!(i18n, clinic.emergency_lead)}</p>
            <form method="post" action=format!("/mottagning/patient/{patient_id}/nodatkomst")>
                <label for="reason">{t!(i18n, clinic.emergency_reason)}</label>
                <textarea id="reason" name="reason" required minlength="10" maxlength="1000" rows="3"></textarea>
                <button type="submit" class="button">{t!(i18n, clinic.emergency_submit)}</button>
            </form>
        </section>
    }
}
