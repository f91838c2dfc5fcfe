use super::{GRANTABLE, UnitStaff, list_unit_staff};
use crate::auth::Role;
use crate::i18n::*;
use crate::layout::{ErrorNotice, page_title};
use leptos::prelude::*;
use leptos_meta::Title;

pub fn role_name(role: Role) -> impl Fn() -> &'static str + Copy {
    let i18n = use_i18n();
    move || match role {
        Role::Therapist => t_string!(i18n, roles.therapist),
        Role::PatientAdministrator => t_string!(i18n, roles.patient_admin),
        Role::AccessAdministrator => t_string!(i18n, roles.access_admin),
        Role::CareProviderAdministrator => t_string!(i18n, roles.provider_admin),
        Role::Producer => t_string!(i18n, roles.producer),
        Role::Publisher => t_string!(i18n, roles.publisher),
        Role::PlatformOperator => t_string!(i18n, roles.operator),
        Role::Auditor => t_string!(i18n, roles.auditor),
    }
}

#[component]
pub fn AccessAdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let staff = Resource::new(|| (), |_| list_unit_staff());
    view! {
        <Title text=page_title(move || t_string!(i18n, access.title).to_string()) />
        <h1>{t!(i18n, access.title)}</h1>
        <p>{t!(i18n, access.lead)}</p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match staff.await {
                    Ok(list) => list.into_iter().map(|s| view! { <StaffCard staff=s /> }).collect_view().into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One person: their roles at the unit, each with a revoke button, and a form to grant one.
/// Plain forms to the server functions: they work without JavaScript and reload the page.
#[component]
fn StaffCard(staff: UnitStaff) -> impl IntoView {
    let i18n = use_i18n();
    let heading = format!("staff-{}", staff.staff_person_id);
    let labelled_by = heading.clone();
    let select = format!("role-{}", staff.staff_person_id);
    let person = staff.name.clone();
    view! {
        <section class="card staff" aria-labelledby=labelled_by>
            <h2 id=heading>{staff.name} " " <span class="muted">{staff.hsa_id}</span></h2>
            {if staff.roles.is_empty() {
                view! { <p>{t!(i18n, access.no_roles)}</p> }.into_any()
            } else {
                view! {
                    <ul class="roles">
                        {staff.roles.into_iter().map(|(grant, role)| {
                            let name = role_name(role);
                            let person = person.clone();
                            view! {
                                <li>
                                    <span>{name}</span>
                                    <form method="post" action="/api/revoke_role">
                                        <input type="hidden" name="grant_id" value=grant />
                                        <button type="submit" aria-label=move || format!("{} {}: {}", t_string!(i18n, access.revoke), person, name())>
                                            {t!(i18n, access.revoke)}
                                        </button>
                                    </form>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <form method="post" action="/api/grant_role" class="grant">
                <input type="hidden" name="staff_person_id" value=staff.staff_person_id />
                <label for=select.clone()>{t!(i18n, access.grant_label)}</label>
                <select id=select name="role">
                    {GRANTABLE.into_iter().map(|r| view! { <option value=r.as_code()>{role_name(r)}</option> }).collect_view()}
                </select>
                <button type="submit">{t!(i18n, access.grant)}</button>
            </form>
        </section>
    }
}
