//! What a notification says and how each receiver gets it: the standard JSON body (webhook,
//! SNS), a body template's `{{field}}` substitution, a Slack message and a Microsoft Teams card.
//! Pure.

use crds::notification::{Link, Trigger};
use serde_json::{Value, json};

use super::moments::Facts;

/// One notification, before it is shaped for a receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// What it is about, the same on every delivery of it:
    /// `<namespace>/<kind>/<name>/<key>/<trigger>`.
    pub id: String,
    /// The moment.
    pub trigger: Trigger,
    /// The object's kind.
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The facts shown.
    pub facts: Facts,
    /// When the moment was seen (RFC 3339).
    pub at: String,
    /// Seconds from the release's start to the moment, for a release that ended.
    pub duration_seconds: Option<i64>,
    /// The policy's links, filled in.
    pub links: Vec<(String, String)>,
    /// At the end of a release, its moments as the policy saw them: (trigger, when).
    pub steps: Vec<(Trigger, String)>,
}

impl Notification {
    /// One line saying what happened.
    pub fn summary(&self) -> String {
        let who = format!("{} {}/{}", self.kind, self.namespace, self.name);
        let f = &self.facts;
        let revision = f
            .revision
            .clone()
            .unwrap_or_else(|| "a new revision".into());
        let previous = f.previous_revision.clone();
        let message = f.message.clone().unwrap_or_default();
        let took = self
            .duration_seconds
            .map(|s| format!(" after {}", duration(s)))
            .unwrap_or_default();
        match self.trigger {
            Trigger::ReleaseStarted => {
                let verb = if f.rollback {
                    "rolling back to"
                } else {
                    "releasing"
                };
                match (&previous, &f.engine) {
                    (Some(p), Some(e)) => format!("{who}: {verb} {revision} ({e}), replacing {p}"),
                    _ => format!("{who}: {verb} {revision}"),
                }
            }
            Trigger::ReleasePaused => format!(
                "{who}: {revision} waits at its gate for promotion (kubectl ecs promote {})",
                self.name
            ),
            Trigger::AnalysisFailed => format!("{who}: analysis failed for {revision}: {message}"),
            Trigger::ReleasePromoted => format!(
                "{who}: {revision} was promoted {}; production traffic moves to it",
                f.promoted.as_deref().unwrap_or("automatically")
            ),
            Trigger::ReleaseSucceeded => format!("{who}: {revision} serves production{took}"),
            Trigger::ReleaseRolledBack => match previous {
                Some(p) => {
                    format!("{who}: {revision} was rolled back{took}; {p} serves production")
                }
                None => format!("{who}: {revision} was rolled back{took}: {message}"),
            },
            Trigger::Stalled => format!(
                "{who}: Stalled {}: {message}",
                f.reason.as_deref().unwrap_or_default()
            ),
            Trigger::ScalingAtMaxCapacity => {
                format!(
                    "{who}: service {} runs its maximum capacity: {message}",
                    f.service
                )
            }
        }
    }

    /// The standard JSON body (webhooks without a template, SNS).
    pub fn json(&self) -> Value {
        let f = &self.facts;
        let mut body = json!({
            "id": self.id,
            "trigger": format!("{:?}", self.trigger),
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "service": f.service,
            "summary": self.summary(),
            "at": self.at,
            "links": self.links.iter().map(|(name, url)| json!({"name": name, "url": url})).collect::<Vec<_>>(),
        });
        let optional = [
            ("revision", f.revision.clone().map(Value::from)),
            (
                "previousRevision",
                f.previous_revision.clone().map(Value::from),
            ),
            ("image", f.image.clone().map(Value::from)),
            ("engine", f.engine.clone().map(Value::from)),
            ("phase", f.phase.clone().map(Value::from)),
            ("reason", f.reason.clone().map(Value::from)),
            ("message", f.message.clone().map(Value::from)),
            ("trafficCanary", f.traffic_canary.map(Value::from)),
            ("startedAt", f.started_at.clone().map(Value::from)),
            ("promoted", f.promoted.clone().map(Value::from)),
            ("step", f.step.clone().map(Value::from)),
            ("rollback", f.rollback.then_some(Value::Bool(true))),
            ("durationSeconds", self.duration_seconds.map(Value::from)),
            (
                "steps",
                (!self.steps.is_empty()).then(|| {
                    (self.steps.iter())
                        .map(|(t, at)| json!({"trigger": format!("{t:?}"), "at": at}))
                        .collect::<Vec<_>>()
                        .into()
                }),
            ),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                body[field] = value;
            }
        }
        body
    }

    /// `template` with each `{{field}}` replaced by the standard body's field, escaped for a
    /// JSON string (an unknown or absent field becomes empty).
    pub fn render(&self, template: &str) -> String {
        let body = self.json();
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return out;
            };
            let field = after[..end].trim();
            let text = match &body[field] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let escaped = serde_json::to_string(&text).unwrap_or_default();
            out.push_str(&escaped[1..escaped.len() - 1]);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// A Slack incoming-webhook message: the summary as text, the facts as a section.
    pub fn slack(&self) -> Value {
        let facts: Vec<String> = self
            .facts_list()
            .into_iter()
            .map(|(name, value)| format!("*{name}:* {value}"))
            .collect();
        let mut blocks = vec![
            json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("{} {}", self.icon(), self.summary())}}),
            json!({"type": "section", "text": {"type": "mrkdwn", "text": facts.join("\n")}}),
        ];
        if !self.links.is_empty() {
            let links: Vec<String> = (self.links.iter())
                .map(|(name, url)| format!("<{url}|{name}>"))
                .collect();
            blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": links.join(" · ")}]}));
        }
        json!({"text": self.summary(), "blocks": blocks})
    }

    /// A Microsoft Teams message card: the summary as title, the facts, the links as buttons.
    pub fn teams(&self) -> Value {
        let facts: Vec<Value> = self
            .facts_list()
            .into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        let actions: Vec<Value> = (self.links.iter())
            .map(|(name, url)| json!({"@type": "OpenUri", "name": name, "targets": [{"os": "default", "uri": url}]}))
            .collect();
        json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": self.summary(),
            "title": self.summary(),
            "themeColor": self.color(),
            "sections": [{"facts": facts}],
            "potentialAction": actions,
        })
    }

    /// The SNS subject: the summary as SNS takes it (ASCII, under 100 characters).
    pub fn subject(&self) -> String {
        aws::sns::subject(&self.summary())
    }

    fn facts_list(&self) -> Vec<(&'static str, String)> {
        let f = &self.facts;
        let mut list = vec![("Service", f.service.clone())];
        let optional = [
            ("Revision", f.revision.clone()),
            ("Previous revision", f.previous_revision.clone()),
            ("Image", f.image.clone()),
            ("Engine", f.engine.clone()),
            ("Phase", f.phase.clone()),
            ("Reason", f.reason.clone()),
            (
                "Traffic on the new revision",
                f.traffic_canary.map(|c| format!("{c} %")),
            ),
            ("Promoted", f.promoted.clone()),
            ("Duration", self.duration_seconds.map(duration)),
        ];
        list.extend(optional.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))));
        list
    }

    fn icon(&self) -> &'static str {
        match self.trigger {
            Trigger::ReleaseSucceeded | Trigger::ReleasePromoted => ":white_check_mark:",
            Trigger::ReleaseStarted => ":rocket:",
            Trigger::ReleasePaused => ":double_vertical_bar:",
            Trigger::ScalingAtMaxCapacity => ":warning:",
            _ => ":x:",
        }
    }

    fn color(&self) -> &'static str {
        match self.trigger {
            Trigger::ReleaseSucceeded | Trigger::ReleasePromoted => "2EB67D",
            Trigger::ReleaseStarted | Trigger::ReleasePaused => "1D9BD1",
            Trigger::ScalingAtMaxCapacity => "ECB22E",
            _ => "E01E5A",
        }
    }
}

/// The policy's links for an object: each template's placeholders replaced.
pub fn links(
    links: &[Link],
    kind: &str,
    namespace: &str,
    name: &str,
    facts: &Facts,
) -> Vec<(String, String)> {
    links
        .iter()
        .map(|l| {
            let url = l
                .url_template
                .replace("{namespace}", namespace)
                .replace("{name}", name)
                .replace("{kind}", kind)
                .replace("{service}", &facts.service)
                .replace("{cluster}", facts.cluster.as_deref().unwrap_or_default())
                .replace("{revision}", facts.revision.as_deref().unwrap_or_default());
            (l.name.clone(), url)
        })
        .collect()
}

/// `3m12s`.
fn duration(seconds: i64) -> String {
    let (m, s) = (seconds / 60, seconds % 60);
    if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}
