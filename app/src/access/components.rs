use super::{GRANTABLE, UnitStaff, list_unit_staff};
use crate::auth::Role;
use crate::i18n::*;
use crate::layout::{ErrorNotice, FormNotice, page_title};
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
    let grant = ServerAction::<super::GrantRole>::new();
    let revoke = ServerAction::<super::RevokeRole>::new();
    view! {
        <Title text=page_title(move || t_string!(i18n, access.title).to_string()) />
        <h1>{t!(i18n, access.title)}</h1>
        <p>{t!(i18n, access.lead)}</p>
        <FormNotice action=grant />
        <FormNotice action=revoke />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match staff.await {
                    Ok(list) => list.into_iter().map(|s| view! { <StaffCard staff=s grant revoke /> }).collect_view().into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One person: their roles at the unit, each with a revoke button, and a form to grant one.
/// Forms of the page's actions: they work without JavaScript and reload the page.
#[component]
fn StaffCard(
    staff: UnitStaff,
    grant: ServerAction<super::GrantRole>,
    revoke: ServerAction<super::RevokeRole>,
) -> impl IntoView {
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
                            let shown = role_name(role)().to_owned();
                            let label = format!("{person}: {shown}");
                            view! { <RevokeItem revoke=Revoke::Role(revoke) grant shown label /> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ActionForm action=grant attr:class="grant">
                <input type="hidden" name="staff_person_id" value=staff.staff_person_id />
                <label for=select.clone()>{t!(i18n, access.grant_label)}</label>
                <select id=select name="role">
                    {GRANTABLE.into_iter().map(|r| view! { <option value=r.as_code()>{role_name(r)}</option> }).collect_view()}
                </select>
                <button type="submit">{t!(i18n, access.grant)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ProviderAdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let units = Resource::new(|| (), |_| super::list_provider_units());
    let actions = UnitActions {
        set_active: ServerAction::new(),
        crisis: ServerAction::new(),
        appoint: ServerAction::new(),
        remove: ServerAction::new(),
    };
    view! {
        <Title text=page_title(move || t_string!(i18n, provider.title).to_string()) />
        <h1>{t!(i18n, provider.title)}</h1>
        <p>{t!(i18n, provider.lead)}</p>
        <p><a href="/katalog">{t!(i18n, catalogue.title)}</a></p>
        <FormNotice action=actions.set_active />
        <FormNotice action=actions.crisis />
        <FormNotice action=actions.appoint />
        <FormNotice action=actions.remove />
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match units.await {
                    Ok(list) => list.into_iter().map(|u| view! { <UnitCard unit=u actions /> }).collect_view().into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The provider page's forms.
#[derive(Clone, Copy)]
struct UnitActions {
    set_active: ServerAction<super::provider::SetUnitActive>,
    crisis: ServerAction<super::provider::SetCrisisInfo>,
    appoint: ServerAction<super::provider::AppointAccessAdmin>,
    remove: ServerAction<super::provider::RemoveAccessAdmin>,
}

#[component]
fn UnitCard(unit: super::ProviderUnit, actions: UnitActions) -> impl IntoView {
    let i18n = use_i18n();
    let heading = format!("unit-{}", unit.id);
    let labelled_by = heading.clone();
    let select = format!("appoint-{}", unit.id);
    let crisis_field = format!("crisis-{}", unit.id);
    let unit_name = unit.name.clone();
    view! {
        <section class="card unit" aria-labelledby=labelled_by>
            <h2 id=heading>{unit.name} " " <span class="muted">{unit.hsa_id}</span></h2>
            <p>
                {if unit.active { t!(i18n, provider.open) .into_any() } else { t!(i18n, provider.closed).into_any() }}
            </p>
            <ActionForm action=actions.set_active>
                <input type="hidden" name="unit_id" value=unit.id />
                <input type="hidden" name="active" value=if unit.active { "false" } else { "true" } />
                <button type="submit">
                    {if unit.active { t!(i18n, provider.close).into_any() } else { t!(i18n, provider.reopen).into_any() }}
                </button>
            </ActionForm>
            <ActionForm action=actions.crisis attr:class="crisis-info">
                <input type="hidden" name="unit_id" value=unit.id />
                <label for=crisis_field.clone()>{t!(i18n, provider.crisis_label)}</label>
                <p class="muted">{t!(i18n, provider.crisis_hint)}</p>
                <textarea id=crisis_field name="crisis_info" rows="3" maxlength=super::provider::CRISIS_INFO_MAX>{unit.crisis_info}</textarea>
                <button type="submit">{t!(i18n, provider.crisis_save)}</button>
            </ActionForm>
            <h3>{t!(i18n, provider.access_admins)}</h3>
            {if unit.access_admins.is_empty() {
                view! { <p>{t!(i18n, provider.no_access_admins)}</p> }.into_any()
            } else {
                view! {
                    <ul class="roles">
                        {unit.access_admins.into_iter().map(|(grant, shown)| {
                            let label = format!("{shown}, {unit_name}");
                            view! { <RevokeItem revoke=Revoke::AccessAdmin(actions.remove) grant shown label /> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ActionForm action=actions.appoint attr:class="grant">
                <input type="hidden" name="unit_id" value=unit.id />
                <label for=select.clone()>{t!(i18n, provider.appoint_label)}</label>
                <select id=select name="staff_person_id">
                    {unit.staff.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
                <button type="submit">{t!(i18n, provider.appoint)}</button>
            </ActionForm>
        </section>
    }
}

/// A granted role in a list, with the form that removes it. `label` names the person and the
/// role or unit for screen readers ("Ta bort Tove Terapeut: Behandlare").
#[component]
fn RevokeItem(revoke: Revoke, grant: i64, shown: String, label: String) -> impl IntoView {
    let i18n = use_i18n();
    let fields = move || {
        let label = label.clone();
        view! {
            <input type="hidden" name="grant_id" value=grant />
            <button type="submit" aria-label=move || format!("{} {}", t_string!(i18n, access.revoke), label)>
                {t!(i18n, access.revoke)}
            </button>
        }
    };
    view! {
        <li>
            <span>{shown}</span>
            {match revoke {
                Revoke::Role(action) => view! { <ActionForm action>{fields()}</ActionForm> }.into_any(),
                Revoke::AccessAdmin(action) => view! { <ActionForm action>{fields()}</ActionForm> }.into_any(),
            }}
        </li>
    }
}

/// Which grant a revoke button ends: a role at the unit, or an access administrator's.
#[derive(Clone, Copy)]
enum Revoke {
    Role(ServerAction<super::RevokeRole>),
    AccessAdmin(ServerAction<super::provider::RemoveAccessAdmin>),
}
