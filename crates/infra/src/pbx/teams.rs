//! Teams in the database (the tenant id is the row's instance id; no other setting, no secret) and on the wire of
//! its connection check.

use pbx_domain::teams::{MicrosoftTenantId, TeamsConnection};
use serde_json::json;

/// The stored settings of a Teams connection, and its stored secrets: none (the tenant is the row's instance).
pub(super) fn nothing() -> serde_json::Value {
    json!({})
}

pub(super) fn load(instance_id: &str) -> anyhow::Result<TeamsConnection> {
    Ok(TeamsConnection { microsoft_tenant_id: MicrosoftTenantId::parse(instance_id)? })
}

/// A Teams check's transport: the Entra authority over HTTPS (see `pbx_domain::teams::check`).
pub(super) mod check {
    use pbx_domain::connection::{ConditionType, Findings, Reason};
    use pbx_domain::teams::TeamsConnection;
    use pbx_domain::teams::check;

    use crate::checks::{Budget, HttpProber};

    pub(in crate::pbx) async fn probe(prober: &HttpProber, teams: &TeamsConnection, budget: &Budget) -> Findings {
        let mut findings = Findings::default();
        let configuration = prober.client.get(teams.openid_configuration_url(&prober.authority));
        let exists =
            prober.exchange(configuration, budget).await.and_then(|(s, b)| check::read_openid_configuration(s, &b));
        if let Err(failure) = exists {
            findings.fails(ConditionType::TenantExists, failure);
            return findings;
        }
        findings.holds(ConditionType::TenantExists);
        let Some(application) = &prober.entra else { return findings };
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", application.client_id.as_str()),
            ("client_secret", application.client_secret.expose()),
            ("scope", check::SCOPE),
        ];
        let token = prober.client.post(teams.token_url(&prober.authority)).form(&form);
        match prober.exchange(token, budget).await.and_then(|(s, b)| check::read_token(s, &b)) {
            Ok(()) => findings.holds(ConditionType::Consented),
            Err(failure) => {
                if failure.reason == Reason::ConsentMissing {
                    findings.consent_url = Some(teams.consent_url(&prober.authority, &application.client_id));
                }
                findings.fails(ConditionType::Consented, failure);
            }
        }
        findings
    }
}
