//! The auditor's search over the access log, shared by the screen and the CSV export.

use super::{AuditFilter, AuditRow};
use crate::auth::gate::check;
use crate::auth::policy::Requirement;
use crate::auth::{Principal, Role};
use crate::db::statement;
use crate::error::AppError;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, Value};

pub const MAX_ROWS: usize = 1000;

fn day(
    field: &str,
    value: Option<&str>,
    end: bool,
) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| AppError::Invalid {
        field: field.to_owned(),
        reason: "date_yyyy_mm_dd".to_owned(),
    })?;
    let time = if end {
        date.succ_opt().unwrap_or(date).and_time(NaiveTime::MIN)
    } else {
        date.and_time(NaiveTime::MIN)
    };
    Ok(Some(Utc.from_utc_datetime(&time)))
}

/// What the auditor does with the rows: each is itself a read of patient data, logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The screen: one access-log row for each patient it shows (or searched for).
    Screen,
    /// The CSV file: one access-log row for each patient in it.
    Export,
}

/// Rows of the auditor's care provider (and sandbox) that match the filter; the search (or
/// the export) is written to the access log.
pub async fn for_auditor(
    db: &(impl ConnectionTrait + sea_orm::TransactionTrait),
    principal: &Principal,
    filter: &AuditFilter,
    purpose: Purpose,
) -> Result<Vec<AuditRow>, AppError> {
    check(Requirement::Role(Role::Auditor), Some(principal))?;
    let (org, provider) = principal
        .staff()
        .and_then(|s| s.assignment.as_ref())
        .map(|a| (a.care_provider_org_number.clone(), a.care_provider_id))
        .ok_or(AppError::Forbidden)?;
    let from = day("from", filter.from.as_deref(), false)?;
    let to = day("to", filter.to.as_deref(), true)?;
    let user = filter
        .user_hsa_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if user.is_some_and(|u| u.len() > 64) {
        return Err(AppError::Invalid {
            field: "user_hsa_id".to_owned(),
            reason: "too_long".to_owned(),
        });
    }
    let mut sql = format!(
        "SELECT l.id, l.occurred_at, l.user_hsa_id, s.given_name AS staff_given, \
                s.family_name AS staff_family, u.name AS unit_name, l.patient_id, \
                p.given_name AS patient_given, p.family_name AS patient_family, p.personnummer, \
                l.action, l.outcome, l.reason, l.needs_follow_up \
         FROM access_log l \
         LEFT JOIN staff_hsa_identity h ON h.hsa_id = l.user_hsa_id \
         LEFT JOIN staff_person s ON s.id = h.staff_person_id \
         LEFT JOIN care_unit u ON u.hsa_id = l.care_unit_hsa_id \
              AND {} \
         LEFT JOIN patient p ON p.id = l.patient_id AND EXISTS (SELECT 1 FROM enrolment pe \
              JOIN care_unit pu ON pu.id = pe.care_unit_id \
              WHERE pe.patient_id = p.id AND pu.care_provider_id = {provider}) \
         WHERE l.care_provider_org_number = $1 AND {}",
        crate::db::filter::same_sandbox("u", "l"),
        crate::db::filter::in_sandbox("l", principal.sandbox_id),
    );
    let mut values: Vec<Value> = vec![org.into()];
    let mut param = |sql: &mut String, clause: &str, value: Value| {
        values.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", values.len())));
    };
    if let Some(patient) = filter.patient_id {
        param(&mut sql, " AND l.patient_id = ?", patient.into());
    }
    if let Some(user) = user {
        param(&mut sql, " AND l.user_hsa_id = ?", user.to_owned().into());
    }
    if let Some(from) = from {
        param(&mut sql, " AND l.occurred_at >= ?", from.into());
    }
    if let Some(to) = to {
        param(&mut sql, " AND l.occurred_at < ?", to.into());
    }
    if filter.follow_up_only {
        sql.push_str(" AND l.needs_follow_up");
    }
    sql.push_str(&format!(" ORDER BY l.id DESC LIMIT {MAX_ROWS}"));
    let found = db.query_all(statement(db, &sql, values)).await?;
    let rows = found
        .iter()
        .map(|row| {
            let at: chrono::DateTime<Utc> = row.try_get("", "occurred_at")?;
            let name = |g: &str, f: &str| -> Result<Option<String>, sea_orm::DbErr> {
                let given: Option<String> = row.try_get("", g)?;
                let family: Option<String> = row.try_get("", f)?;
                Ok(given.zip(family).map(|(g, f)| format!("{g} {f}")))
            };
            let patient = name("patient_given", "patient_family")?;
            let pnr: Option<String> = row.try_get("", "personnummer")?;
            Ok(AuditRow {
                id: row.try_get("", "id")?,
                at: at.format("%Y-%m-%d %H:%M:%S").to_string(),
                user_hsa_id: row.try_get("", "user_hsa_id")?,
                user_name: name("staff_given", "staff_family")?,
                care_unit: row.try_get("", "unit_name")?,
                patient_id: row.try_get("", "patient_id")?,
                patient: patient.map(|p| match &pnr {
                    Some(n) => format!("{p} ({n})"),
                    None => p,
                }),
                action: row.try_get("", "action")?,
                outcome: row.try_get("", "outcome")?,
                reason: row.try_get("", "reason")?,
                needs_follow_up: row.try_get("", "needs_follow_up")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    // The rows name patients: the search is logged before they go out.
    crate::access_log::append_all(db, log_entries(principal, purpose, &rows)).await?;
    Ok(rows)
}

fn log_entries(
    principal: &Principal,
    purpose: Purpose,
    rows: &[AuditRow],
) -> Vec<crate::access_log::Entry> {
    use crate::access_log::{Action, Outcome};
    use crate::auth::gate::staff_entry;
    let action = match purpose {
        Purpose::Screen => Action::Search,
        Purpose::Export => Action::Export,
    };
    // The patients the rows show, not the one searched for: a search for a patient id with no
    // rows here showed nobody (logged as a search without a patient). Logged under the
    // searched-for id, another provider's patient would come back named in the next search.
    let patients: std::collections::BTreeSet<i64> =
        rows.iter().filter_map(|r| r.patient_id).collect();
    if patients.is_empty() {
        // A search that shows no patient is still the auditor's search.
        return vec![staff_entry(
            principal,
            None,
            action,
            "access_log",
            Outcome::Allowed,
        )];
    }
    patients
        .into_iter()
        .map(|patient| {
            staff_entry(
                principal,
                Some(patient),
                action,
                "access_log",
                Outcome::Allowed,
            )
        })
        .collect()
}

/// The rows as CSV (RFC 4180, UTF-8 with a byte-order mark so that spreadsheet programs read
/// å, ä and ö right). Cells that a spreadsheet would run as a formula are quoted with a
/// leading apostrophe.
pub fn to_csv(rows: &[AuditRow]) -> String {
    fn cell(out: &mut String, value: &str) {
        let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
        out.push('"');
        if risky {
            out.push('\'');
        }
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    }
    let mut out = String::from("\u{feff}");
    out.push_str("id,time_utc,user_hsa_id,user,care_unit,patient_id,patient,action,outcome,reason,follow_up\r\n");
    for r in rows {
        let id = r.id.to_string();
        let patient_id = r.patient_id.map(|p| p.to_string()).unwrap_or_default();
        let cells = [
            id.as_str(),
            &r.at,
            &r.user_hsa_id,
            r.user_name.as_deref().unwrap_or(""),
            r.care_unit.as_deref().unwrap_or(""),
            &patient_id,
            r.patient.as_deref().unwrap_or(""),
            &r.action,
            &r.outcome,
            r.reason.as_deref().unwrap_or(""),
            if r.needs_follow_up { "yes" } else { "no" },
        ];
        for (i, value) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            cell(&mut out, value);
        }
        out.push_str("\r\n");
    }
    out
}
