//! HTTP for the simulator: a call either gets an answer (any status) or fails on the way
//! (a connection refused by a killed server, a timeout), which the caller counts as lost.

use std::time::Duration;

use serde_json::Value;

/// One agent, kept alive between calls.
pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build()
                .into(),
        }
    }
}

impl Http {
    /// A call with a JSON body (or none): the status and the body as JSON (`Null` when it
    /// is not JSON).
    pub fn json(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let text = body.map(Value::to_string);
        self.raw(method, url, token, "application/json", text.as_deref())
    }

    /// A call with a body of `content_type` given as text.
    pub fn raw(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        content_type: &str,
        body: Option<&str>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = ureq::http::Request::builder().method(method).uri(url);
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = match body {
            Some(b) => {
                req = req.header("Content-Type", content_type);
                self.agent.run(req.body(b.as_bytes().to_vec())?)
            }
            None => self.agent.run(req.body(())?),
        };
        let mut resp = resp.map_err(|e| anyhow::anyhow!("{method} {url}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .map_err(|e| anyhow::anyhow!("{method} {url}: reading the answer: {e}"))?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}
