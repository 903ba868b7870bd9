//! The policy's memory of what it told whom (`status.objects`): merging what the objects say
//! now into it, and the deliveries still owed. A trigger enters the ledger once, owed to every
//! receiver the policy has at that moment; a delivery takes its receiver off. Pure.

use crds::notification::{NotifiedObject, NotifiedTrigger, Trigger};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::moments::{Followed, Seen};

/// One notification owed to one receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed {
    /// Index of the object in the ledger.
    pub entry: usize,
    /// The trigger.
    pub trigger: Trigger,
    /// The receiver's name.
    pub receiver: String,
}

/// What a policy sends and to whom.
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    /// The triggers it sends (all when empty).
    pub wanted: &'a [Trigger],
    /// Its receivers' names.
    pub receivers: &'a [String],
}

impl Audience<'_> {
    /// Who a new `trigger` is owed to: every receiver, or nobody when it is not sent.
    fn owed(&self, trigger: Trigger) -> Vec<String> {
        if self.wanted.is_empty() || self.wanted.contains(&trigger) {
            self.receivers.to_vec()
        } else {
            Vec::new()
        }
    }
}

/// The ledger after `followed` (every object the policy follows now), owing new triggers to
/// the audience. Objects no longer followed are forgotten; receivers no longer in the spec are
/// owed nothing.
pub fn merge(
    prev: &[NotifiedObject],
    followed: &[Followed],
    audience: Audience<'_>,
    now: &Time,
) -> Vec<NotifiedObject> {
    let receivers = audience.receivers;
    let mut next = Vec::new();
    for object in followed {
        for (stream, seen) in &object.stories {
            let remembered = prev.iter().find(|e| {
                e.kind == object.kind
                    && e.namespace == object.namespace
                    && e.name == object.name
                    && e.stream == *stream
            });
            let entry = match seen {
                Seen::Clear => None,
                Seen::Unknown => remembered.cloned(),
                Seen::Moment {
                    key,
                    triggers,
                    baseline,
                } => Some(match remembered {
                    Some(e) if e.release == *key => add(e.clone(), triggers, audience, now),
                    _ => add(
                        NotifiedObject {
                            kind: object.kind.to_owned(),
                            namespace: object.namespace.clone(),
                            name: object.name.clone(),
                            stream: (*stream).to_owned(),
                            release: key.clone(),
                            baseline: *baseline,
                            notified: Vec::new(),
                        },
                        triggers,
                        audience,
                        now,
                    ),
                }),
            };
            if let Some(mut entry) = entry {
                for n in &mut entry.notified {
                    n.pending.retain(|r| receivers.contains(r));
                }
                next.push(entry);
            }
        }
    }
    next
}

/// `entry` with the triggers it has not seen yet, owed to the audience (a baseline owes
/// nothing).
fn add(
    mut entry: NotifiedObject,
    triggers: &[Trigger],
    audience: Audience<'_>,
    now: &Time,
) -> NotifiedObject {
    if entry.baseline {
        return entry;
    }
    for trigger in triggers {
        if !entry.notified.iter().any(|n| n.trigger == *trigger) {
            entry.notified.push(NotifiedTrigger {
                trigger: *trigger,
                at: now.clone(),
                pending: audience.owed(*trigger),
            });
        }
    }
    entry
}

/// Every delivery the ledger owes, in the order the triggers happened.
pub fn owed(ledger: &[NotifiedObject]) -> Vec<Owed> {
    let mut owed = Vec::new();
    for (i, entry) in ledger.iter().enumerate() {
        for n in &entry.notified {
            for receiver in &n.pending {
                owed.push(Owed {
                    entry: i,
                    trigger: n.trigger,
                    receiver: receiver.clone(),
                });
            }
        }
    }
    owed
}

/// Marks `owed` delivered.
pub fn delivered(ledger: &mut [NotifiedObject], owed: &Owed) {
    if let Some(n) = ledger
        .get_mut(owed.entry)
        .and_then(|e| e.notified.iter_mut().find(|n| n.trigger == owed.trigger))
    {
        n.pending.retain(|r| *r != owed.receiver);
    }
}
