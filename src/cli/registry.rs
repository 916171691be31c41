//! `credstore requester ...` and `credstore authorisation ...`: the registry the query layer
//! checks (Art. 18-20, 26, 34).

use super::args::{AuthorisationAction, RegisterRole, RequesterAction};
use credstore::domain::date::Date;
use credstore::query::model::{Authorisation, BulkAccess, Requester, Role, Scope, StaffPermission};
use std::io::Write;
use std::path::Path;

pub fn requester(data_dir: &Path, today: Date, action: RequesterAction) -> anyhow::Result<i32> {
    let store = super::open_store(data_dir)?;
    match action {
        RequesterAction::Add {
            id,
            role,
            name,
            body_code,
            matters,
            bulk,
            permissions,
        } => {
            let list = |text: Option<String>| -> Vec<String> {
                text.unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let role = match role {
                RegisterRole::Grantee => Role::Grantee,
                RegisterRole::Government => {
                    let Some(body_code) = body_code else {
                        anyhow::bail!("a government body needs --body-code");
                    };
                    let matters = list(matters);
                    if matters.is_empty() {
                        anyhow::bail!(
                            "a government body needs --matters (application catalog codes)"
                        );
                    }
                    Role::Government { body_code, matters }
                }
                RegisterRole::Agency => Role::Agency {
                    bulk: if bulk {
                        BulkAccess::Granted { since: today }
                    } else {
                        BulkAccess::None
                    },
                },
                RegisterRole::Staff => {
                    let mut granted = Vec::new();
                    for p in list(permissions) {
                        granted.push(match p.as_str() {
                            "non_public" => StaffPermission::NonPublic,
                            "audit" => StaffPermission::Audit,
                            other => {
                                anyhow::bail!("unknown permission {other:?} (non_public, audit)")
                            }
                        });
                    }
                    granted.sort();
                    granted.dedup();
                    Role::Staff {
                        permissions: granted,
                    }
                }
            };
            let requester = Requester {
                id,
                name,
                role,
                registered_on: today,
                active: true,
            };
            store.register_requester(&requester)?;
            println!("registered {} as {}", requester.id, requester.role.as_str());
            Ok(0)
        }
        RequesterAction::Deactivate { id } => {
            let Some(mut r) = store.requester(&id)? else {
                eprintln!("credstore: no requester {id:?}");
                return Ok(1);
            };
            r.active = false;
            store.register_requester(&r)?;
            println!("deactivated {id}");
            Ok(0)
        }
        RequesterAction::List => {
            let mut out = std::io::stdout().lock();
            for r in store.requesters()? {
                serde_json::to_writer(&mut out, &requester_json(&r))?;
                writeln!(out)?;
            }
            Ok(0)
        }
    }
}

fn requester_json(r: &Requester) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": r.id,
        "name": r.name,
        "role": r.role.as_str(),
        "registered_on": r.registered_on,
        "active": r.active,
    });
    match &r.role {
        Role::Grantee => {}
        Role::Government { body_code, matters } => {
            v["body_code"] = body_code.clone().into();
            v["matters"] = matters.clone().into();
        }
        Role::Agency { bulk } => {
            v["bulk"] = match bulk {
                BulkAccess::None => serde_json::json!("none"),
                BulkAccess::Granted { since } => serde_json::json!({"granted": since}),
                BulkAccess::Revoked { on, authorisation } => {
                    serde_json::json!({"revoked": on, "forged_authorisation": authorisation})
                }
            }
        }
        Role::Staff { permissions } => {
            v["permissions"] = permissions
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .into();
        }
    }
    v
}

pub fn authorisation(
    data_dir: &Path,
    today: Date,
    action: AuthorisationAction,
) -> anyhow::Result<i32> {
    let store = super::open_store(data_dir)?;
    match action {
        AuthorisationAction::Add {
            subject,
            grantee,
            scope,
            from,
            until,
            document,
        } => {
            let Some(subject) = super::query::parse_code(&subject, today) else {
                return Ok(1);
            };
            let scope = Scope::parse(&scope).map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
            let a = store.record_authorisation(Authorisation {
                id: 0,
                subject,
                grantee,
                scope,
                valid_from: from.unwrap_or(today),
                valid_until: until,
                document,
                recorded_on: today,
                revoked: None,
            })?;
            println!("{}", a.id);
            Ok(0)
        }
        AuthorisationAction::Revoke { id } => {
            let a = store.revoke_authorisation(id, today)?;
            println!("authorisation {} revoked", a.id);
            Ok(0)
        }
        AuthorisationAction::Forged { id } => {
            let (a, agency) = store.record_forgery(id, today)?;
            println!("authorisation {} recorded as forged", a.id);
            if let Some(agency) = agency {
                println!(
                    "bulk-query access of agency {} revoked (Art. 34)",
                    agency.id
                );
            }
            Ok(0)
        }
        AuthorisationAction::List => {
            let mut out = std::io::stdout().lock();
            for a in store.authorisations()? {
                let v = serde_json::json!({
                    "id": a.id,
                    "subject": a.subject.masked(),
                    "grantee": a.grantee,
                    "scope": a.scope.to_string(),
                    "valid_from": a.valid_from,
                    "valid_until": a.valid_until,
                    "document": a.document,
                    "recorded_on": a.recorded_on,
                    "revoked": a.revoked.as_ref().map(|r| serde_json::json!({"on": r.on, "reason": r.reason})),
                });
                serde_json::to_writer(&mut out, &v)?;
                writeln!(out)?;
            }
            Ok(0)
        }
    }
}
