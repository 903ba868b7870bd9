//! Kill points: the simulated account's way of crashing its caller at one AWS mutation, for the
//! kill-point suite. A kill point names a mutating operation and which successful call of it
//! (counted in the account's mutation log) is struck, and how:
//! - `FailBefore`: the call never reaches AWS — the process died just before sending it;
//! - `LoseReply`: AWS applies the call, but the caller never hears back — it died (or timed
//!   out) while the reply was on its way.
//!
//! Either way the struck call never returns: the caller is dead at that line, and the test
//! kills it for real and starts a fresh one. Pure bookkeeping; `SimAws::call` acts on it.

/// How a kill point strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KillMode {
    /// The call is not applied.
    FailBefore,
    /// The call is applied; its reply is lost.
    LoseReply,
}

/// Where to strike: the `occurrence`-th (1-based) successful call of `operation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillPoint {
    /// `service:Action`, e.g. `ecs:CreateService`.
    pub operation: String,
    /// Which successful call of it, counting from 1 since the account was created.
    pub occurrence: usize,
    /// How.
    pub mode: KillMode,
}

/// The mutation log and the armed kill point.
#[derive(Debug, Default)]
pub(crate) struct Killer {
    log: Vec<&'static str>,
    armed: Option<KillPoint>,
    struck: bool,
}

impl Killer {
    /// Arms `point` (replacing any other).
    pub fn arm(&mut self, point: KillPoint) {
        self.armed = Some(point);
        self.struck = false;
    }

    /// Whether the next call of `operation` is struck, and how.
    pub fn strikes(&self, operation: &str) -> Option<KillMode> {
        let point = self.armed.as_ref().filter(|_| !self.struck)?;
        let done = self.log.iter().filter(|op| **op == operation).count();
        (point.operation == operation && done + 1 == point.occurrence).then_some(point.mode)
    }

    /// Records a mutation AWS applied.
    pub fn applied(&mut self, operation: &'static str) {
        self.log.push(operation);
    }

    /// The kill point struck.
    pub fn strike(&mut self) {
        self.struck = true;
    }

    /// Whether it struck.
    pub fn has_struck(&self) -> bool {
        self.struck
    }

    /// Every mutation applied so far, in order.
    pub fn log(&self) -> &[&'static str] {
        &self.log
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kill_point_strikes_the_named_successful_call_once() {
        let mut k = Killer::default();
        k.arm(KillPoint {
            operation: "ecs:UpdateService".into(),
            occurrence: 2,
            mode: KillMode::LoseReply,
        });
        assert_eq!(k.strikes("ecs:UpdateService"), None);
        k.applied("ecs:UpdateService");
        assert_eq!(k.strikes("ecs:CreateService"), None);
        assert_eq!(k.strikes("ecs:UpdateService"), Some(KillMode::LoseReply));
        k.applied("ecs:UpdateService");
        k.strike();
        assert!(k.has_struck());
        assert_eq!(k.strikes("ecs:UpdateService"), None, "once");
        assert_eq!(k.log(), ["ecs:UpdateService", "ecs:UpdateService"]);
    }
}
