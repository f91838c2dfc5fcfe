use super::{AccessSeen, MyEnrolment, my_care, who_read_my_data};
use crate::i18n::*;
use crate::layout::{ErrorNotice, page_title};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PatientHome() -> impl IntoView {
    let i18n = use_i18n();
    let care = Resource::new(|| (), |_| my_care());
    let accesses = Resource::new(|| (), |_| who_read_my_data());
    view! {
        <Title text=page_title(move || t_string!(i18n, patient.title).to_string()) />
        <h1>{t!(i18n, patient.title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match (care.await, accesses.await) {
                    (Ok(care), Ok(accesses)) => view! {
                        <MyPrograms care />
                        <WhoReadMyData accesses />
                    }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MyPrograms(care: Vec<MyEnrolment>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section aria-labelledby="programs-heading">
            <h2 id="programs-heading">{t!(i18n, patient.programs_heading)}</h2>
            {if care.is_empty() {
                view! { <p>{t!(i18n, patient.no_programs)}</p> }.into_any()
            } else {
                view! {
                    <ul class="cards">
                        {care.into_iter().map(|e| view! {
                            <li class="card">
                                <h3><a href=crate::care::treatment_href(e.enrolment_id)>{e.program}</a></h3>
                                <p>{e.care_unit}</p>
                                {e.therapist.map(|t| view! {
                                    <p>{t!(i18n, patient.your_therapist)} ": " {t}</p>
                                })}
                                <p class="muted">{t!(i18n, patient.started)} " " {e.started} " · " {t!(i18n, patient.version)} " " {e.version}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn WhoReadMyData(accesses: Vec<AccessSeen>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section aria-labelledby="log-heading">
            <h2 id="log-heading">{t!(i18n, patient.log_heading)}</h2>
            <p>{t!(i18n, patient.log_lead)}</p>
            {if accesses.is_empty() {
                view! { <p class="log-empty">{t!(i18n, patient.log_empty)}</p> }.into_any()
            } else {
                view! {
                    <table class="table log">
                        <thead>
                            <tr>
                                <th scope="col">{t!(i18n, patient.log_when)}</th>
                                <th scope="col">{t!(i18n, patient.log_unit)}</th>
                                <th scope="col">{t!(i18n, patient.log_who)}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {accesses.into_iter().map(|a| view! {
                                <tr>
                                    <td>{a.at}</td>
                                    <td>{a.care_unit}</td>
                                    <td>{a.staff_name.unwrap_or_else(|| "–".to_owned())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
