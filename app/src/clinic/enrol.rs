//! Enrolment: the start of care. Staff of a unit (a therapist or a patient administrator) enrol
//! one patient or a group, by personal identity number, on a program version active at their
//! unit, with a responsible therapist who holds the therapist role there. A person Lotsen does
//! not know is registered (their names are filled in from the e-ID at their first login).
//!
//! Nothing here shows what is stored about a person elsewhere: a number that is found is used
//! only for its id, contact details are written only for a person without any, and the only
//! refusal that depends on stored data is a treatment in the same program at the caller's own
//! unit. Every enrolment is written to the access log as a write, after it is committed.

use super::{EnrolChoices, EnrolRequest, TherapistChoice, VersionChoice};
use crate::auth::scope::UnitCare;
use crate::db::{begin_write, statement};
use crate::domain::{EnrolmentState, Personnummer};
use crate::error::{AppError, invalid};
use chrono::Utc;
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseBackend, TransactionTrait};
use std::collections::BTreeSet;

/// The most patients one group enrolment takes.
pub const MAX_GROUP: usize = 200;
const MAX_NAME: usize = 100;

/// A line of the form (`line:<n>`, 1-based), for an error that names it.
fn line(n: usize) -> String {
    format!("line:{n}")
}

/// One person to enrol: the number, and the names given after it (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub personnummer: Personnummer,
    pub given_name: String,
    pub family_name: String,
}

/// The form's list: one person per line, `<personal identity number> [given name] [family
/// name…]`. Blank lines are skipped. A bad line is named by its number; none is taken then.
pub fn parse_candidates(text: &str) -> Result<Vec<Candidate>, AppError> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, raw) in text.lines().enumerate() {
        let n = index + 1;
        let mut words = raw.split_whitespace();
        let Some(number) = words.next() else {
            continue;
        };
        let personnummer = Personnummer::parse_allowing_coordination(number)
            .map_err(|_| invalid(&line(n), "invalid_personnummer"))?;
        if !seen.insert(personnummer.as_str().to_owned()) {
            return Err(invalid(&line(n), "duplicate_line"));
        }
        let given_name = words.next().unwrap_or_default().to_owned();
        let family_name = words.collect::<Vec<_>>().join(" ");
        if given_name.chars().count() > MAX_NAME || family_name.chars().count() > MAX_NAME {
            return Err(invalid(&line(n), "name_too_long"));
        }
        out.push(Candidate {
            personnummer,
            given_name,
            family_name,
        });
        if out.len() > MAX_GROUP {
            return Err(invalid(&line(n), "too_many_patients"));
        }
    }
    if out.is_empty() {
        return Err(invalid("patients", "no_patients"));
    }
    Ok(out)
}

/// An e-mail address as it may be stored: trimmed, one `@` with text on both sides and a dot in
/// the domain, no white space, at most 254 characters.
pub fn check_email(email: &str) -> Result<String, AppError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    valid
        .then(|| email.to_owned())
        .ok_or_else(|| invalid("email", "invalid_email"))
}

/// A mobile number as it is stored: digits only, with a leading `+` for an international
/// number; a Swedish `07…` number becomes `+467…`. Spaces and dashes are allowed when typed.
pub fn check_phone(phone: &str) -> Result<String, AppError> {
    let compact: String = phone
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid("phone", "invalid_phone"));
    }
    let international = match compact.strip_prefix('+') {
        Some(rest) => format!("+{rest}"),
        None => match compact.strip_prefix('0') {
            Some(rest) => format!("+46{rest}"),
            None => return Err(invalid("phone", "invalid_phone")),
        },
    };
    if !(10..=16).contains(&international.len()) {
        return Err(invalid("phone", "invalid_phone"));
    }
    Ok(international)
}

/// The versions active at the unit that patients may be enrolled on, and its therapists.
pub async fn choices(db: &impl ConnectionTrait, unit: &UnitCare) -> Result<EnrolChoices, AppError> {
    let versions = db
        .query_all(statement(
            db,
            "SELECT v.id, p.title, v.major, v.minor FROM program_activation a \
             JOIN program_version v ON v.id = a.program_version_id \
             JOIN program p ON p.id = v.program_id \
             WHERE a.care_unit_id = $1 AND a.deactivated_at IS NULL AND v.status = 'published' \
             ORDER BY p.title, v.major DESC, v.minor DESC",
            vec![unit.unit_id().into()],
        ))
        .await?
        .into_iter()
        .map(|row| {
            let title: String = row.try_get("", "title")?;
            let major: i32 = row.try_get("", "major")?;
            let minor: i32 = row.try_get("", "minor")?;
            Ok(VersionChoice {
                version_id: row.try_get("", "id")?,
                label: format!("{title} {major}.{minor}"),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let therapists = db
        .query_all(statement(
            db,
            "SELECT DISTINCT s.id, s.given_name, s.family_name FROM staff_role r \
             JOIN staff_person s ON s.id = r.staff_person_id \
             WHERE r.care_unit_id = $1 AND r.role = 'therapist' AND r.revoked_at IS NULL \
             ORDER BY s.family_name, s.given_name, s.id",
            vec![unit.unit_id().into()],
        ))
        .await?
        .into_iter()
        .map(|row| {
            let given: String = row.try_get("", "given_name")?;
            let family: String = row.try_get("", "family_name")?;
            Ok(TherapistChoice {
                staff_person_id: row.try_get("", "id")?,
                name: format!("{given} {family}"),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(EnrolChoices {
        versions,
        therapists,
    })
}

/// Contact details to store for a person without any: checked, and consent only with the detail
/// it is for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notify_by_email: bool,
    pub notify_by_sms: bool,
}

pub fn check_contact(request: &EnrolRequest) -> Result<Contact, AppError> {
    let given = |v: &str| Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_owned);
    let email = given(&request.email).map(|e| check_email(&e)).transpose()?;
    let phone = given(&request.phone).map(|p| check_phone(&p)).transpose()?;
    let (notify_by_email, notify_by_sms) = (request.notify_by_email, request.notify_by_sms);
    if notify_by_email && email.is_none() {
        return Err(invalid("email", "consent_without_contact"));
    }
    if notify_by_sms && phone.is_none() {
        return Err(invalid("phone", "consent_without_contact"));
    }
    Ok(Contact {
        email,
        phone,
        notify_by_email,
        notify_by_sms,
    })
}

/// Enrols every listed person, all or none, and returns their patient ids in the list's order.
pub async fn enrol<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    unit: &UnitCare,
    request: &EnrolRequest,
) -> Result<Vec<i64>, AppError> {
    let candidates = parse_candidates(&request.patients)?;
    let contact = check_contact(request)?;
    if candidates.len() > 1 && contact != Contact::default() {
        return Err(invalid("email", "contact_for_one_only"));
    }
    let txn = begin_write(db).await?;
    // Checked inside the transaction: a deactivation or a revoked role cannot slip in between.
    let choices = choices(&txn, unit).await?;
    let refusal = if !choices
        .versions
        .iter()
        .any(|v| v.version_id == request.version_id)
    {
        Some(invalid("version_id", "version_not_active"))
    } else if !choices
        .therapists
        .iter()
        .any(|t| t.staff_person_id == request.responsible_staff_id)
    {
        Some(invalid("responsible_staff_id", "not_a_therapist"))
    } else {
        None
    };
    if let Some(refusal) = refusal {
        txn.rollback().await?;
        return Err(refusal);
    }
    let now = Utc::now();
    let mut ids = Vec::with_capacity(candidates.len());
    let mut enrolment_ids = Vec::with_capacity(candidates.len());
    for candidate in &candidates {
        ids.push(find_or_register(&txn, unit, candidate, &contact).await?);
    }
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // Two enrolments of the same people at once wait for each other here; locked in id
        // order, so two groups listing them in different orders cannot deadlock.
        let mut locked = ids.clone();
        locked.sort_unstable();
        for patient_id in locked {
            txn.execute(statement(
                &txn,
                "SELECT id FROM patient WHERE id = $1 FOR UPDATE",
                vec![patient_id.into()],
            ))
            .await?;
        }
    }
    for (index, patient_id) in ids.iter().copied().enumerate() {
        let already = txn
            .query_one(statement(
                &txn,
                &format!(
                    "SELECT COUNT(*) AS n FROM {} e \
                     JOIN program_version v ON v.id = e.program_version_id \
                     WHERE e.patient_id = $1 AND v.program_id = \
                       (SELECT program_id FROM program_version WHERE id = $2)",
                    unit.enrolments()
                ),
                vec![patient_id.into(), request.version_id.into()],
            ))
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if already > 0 {
            txn.rollback().await?;
            return Err(invalid(
                &line_of(&request.patients, index),
                "already_enrolled",
            ));
        }
        let enrolled = txn
            .query_one(statement(
                &txn,
                "INSERT INTO enrolment (patient_id, program_version_id, care_unit_id, \
               responsible_staff_id, state, started_at, sandbox_id, internal_note) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, '') RETURNING id",
                vec![
                    patient_id.into(),
                    request.version_id.into(),
                    unit.unit_id().into(),
                    request.responsible_staff_id.into(),
                    EnrolmentState::Active.to_value().into(),
                    now.into(),
                    unit.sandbox_id().into(),
                ],
            ))
            .await?
            .ok_or(AppError::Unavailable)?;
        enrolment_ids.push(enrolled.try_get::<i64>("", "id")?);
        // "You now have access": before the first sign-in, if consent and an address were given.
        let patient = crate::notify::Recipient::Patient(patient_id);
        crate::notify::enqueue(
            &txn,
            patient,
            crate::notify::Template::TreatmentStarted,
            now,
        )
        .await?;
    }
    // Last: an event holds the events' order lock until the commit.
    for enrolment_id in enrolment_ids {
        unit.record_event(&txn, enrolment_id, crate::live::EventKind::Enrolment, now)
            .await?;
    }
    txn.commit().await?;
    crate::live::wake();
    Ok(ids)
}

/// The form's line number of the `index`th person (blank lines count as lines).
fn line_of(text: &str, index: usize) -> String {
    let n = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .nth(index)
        .map_or(index + 1, |(i, _)| i + 1);
    line(n)
}

/// The person with this number in the unit's tenant (real care, or the unit's demo sandbox),
/// registered if Lotsen does not know them. Only the id is read.
async fn find_or_register(
    db: &impl ConnectionTrait,
    unit: &UnitCare,
    candidate: &Candidate,
    contact: &Contact,
) -> Result<i64, AppError> {
    let sandbox = unit.sandbox_id();
    let find = || async {
        let row = db
            .query_one(statement(
                db,
                &format!(
                    "SELECT id, email, phone FROM patient WHERE personnummer = $1 AND {}",
                    crate::db::filter::in_sandbox("", sandbox)
                ),
                vec![candidate.personnummer.as_str().into()],
            ))
            .await?;
        row.map(|r| {
            Ok::<_, AppError>((
                r.try_get::<i64>("", "id")?,
                r.try_get::<Option<String>>("", "email")?.is_some()
                    || r.try_get::<Option<String>>("", "phone")?.is_some(),
            ))
        })
        .transpose()
    };
    if let Some((id, has_contact)) = find().await? {
        // A person's own contact details are never replaced by what staff typed.
        if !has_contact && *contact != Contact::default() {
            store_contact(db, id, contact).await?;
        }
        return Ok(id);
    }
    // Registered at the same moment by another enrolment: its row is used.
    db.execute(statement(
        db,
        "INSERT INTO patient (personnummer, given_name, family_name, email, phone, \
           notify_by_email, notify_by_sms, locale, sandbox_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'sv', $8, $9) ON CONFLICT DO NOTHING",
        vec![
            candidate.personnummer.as_str().into(),
            candidate.given_name.clone().into(),
            candidate.family_name.clone().into(),
            contact.email.clone().into(),
            contact.phone.clone().into(),
            contact.notify_by_email.into(),
            contact.notify_by_sms.into(),
            sandbox.into(),
            Utc::now().into(),
        ],
    ))
    .await?;
    find().await?.map(|(id, _)| id).ok_or(AppError::Unavailable)
}

async fn store_contact(
    db: &impl ConnectionTrait,
    patient_id: i64,
    contact: &Contact,
) -> Result<(), AppError> {
    db.execute(statement(
        db,
        "UPDATE patient SET email = $1, phone = $2, notify_by_email = $3, notify_by_sms = $4 \
         WHERE id = $5 AND email IS NULL AND phone IS NULL",
        vec![
            contact.email.clone().into(),
            contact.phone.clone().into(),
            contact.notify_by_email.into(),
            contact.notify_by_sms.into(),
            patient_id.into(),
        ],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn reason(error: AppError) -> (String, String) {
        match error {
            AppError::Invalid { field, reason } => (field, reason),
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn a_list_takes_one_person_a_line_with_optional_names() {
        let list = parse_candidates("19121212-1212 Tolvan Tolvansson Berg\n\n  199001012385\n")
            .expect("valid");
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].given_name, "Tolvan");
        assert_eq!(list[0].family_name, "Tolvansson Berg");
        assert_eq!(list[1].personnummer.as_str(), "199001012385");
        assert_eq!(list[1].given_name, "");
    }

    #[test]
    fn a_bad_line_is_named_and_none_is_taken() {
        let bad = parse_candidates("19121212-1212\n\n19121212-1213 Fel Siffra").expect_err("bad");
        assert_eq!(
            reason(bad),
            ("line:3".to_owned(), "invalid_personnummer".to_owned())
        );
        let twice = parse_candidates("19121212-1212\n191212121212").expect_err("twice");
        assert_eq!(
            reason(twice),
            ("line:2".to_owned(), "duplicate_line".to_owned())
        );
        let none = parse_candidates(" \n ").expect_err("empty");
        assert_eq!(reason(none).1, "no_patients");
        // Valid numbers 19900101-0002, -0010, …: the check digit by the Luhn rule.
        let valid = |serial: usize| {
            let digits = format!("900101{serial:03}");
            let sum: u32 = digits
                .chars()
                .filter_map(|c| c.to_digit(10))
                .enumerate()
                .map(|(i, d)| {
                    if i % 2 == 0 {
                        let x = d * 2;
                        x / 10 + x % 10
                    } else {
                        d
                    }
                })
                .sum();
            format!("19{digits}{}", (10 - sum % 10) % 10)
        };
        let at_most = (1..=MAX_GROUP).map(valid).collect::<Vec<_>>().join("\n");
        assert_eq!(parse_candidates(&at_most).expect("valid").len(), MAX_GROUP);
        let too_many = (1..=MAX_GROUP + 1)
            .map(valid)
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            reason(parse_candidates(&too_many).expect_err("too many")),
            (
                format!("line:{}", MAX_GROUP + 1),
                "too_many_patients".to_owned()
            )
        );
    }

    #[test]
    fn contact_details_are_checked_and_normalised() {
        assert_eq!(
            check_email(" anna@example.se ").expect("ok"),
            "anna@example.se"
        );
        for bad in [
            "anna",
            "anna@",
            "@example.se",
            "anna@example",
            "an na@example.se",
            "a@b@c.se",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert_eq!(check_phone("070-123 45 67").expect("ok"), "+46701234567");
        assert_eq!(
            check_phone("+358 40 123 4567").expect("ok"),
            "+358401234567"
        );
        for bad in [
            "",
            "123",
            "07O-1234567",
            "46701234567",
            "+46 70 123 45 67 89 01 23",
        ] {
            assert!(check_phone(bad).is_err(), "{bad}");
        }
        assert_eq!(line_of("\n19121212-1212\n\nx", 1), "line:4");
    }
}
