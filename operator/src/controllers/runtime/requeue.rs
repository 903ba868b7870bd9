//! When a reconcile wants to look again, as plans say it (pure), and the `Action` it becomes.

use std::time::Duration;

use kube::runtime::controller::Action;

use crate::controllers::Context;

/// When a reconcile wants to look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// Right away: a step was taken and the next one can follow.
    Soon,
    /// Something is moving in AWS: check at the poll interval.
    Poll,
    /// Waiting for another object: check at the wait interval.
    Wait,
    /// Nothing to do until something changes (or the periodic resync).
    Idle,
}

/// How long `Soon` waits: long enough for the watch to deliver the write just made.
pub const SOON: Duration = Duration::from_secs(1);

impl Requeue {
    /// The delay of the clock's time this requeue stands for (`None`: wait for a change).
    pub fn delay(self, settings: &crate::controllers::Settings) -> Option<Duration> {
        match self {
            Requeue::Soon => Some(SOON),
            Requeue::Poll => Some(settings.poll),
            Requeue::Wait => Some(settings.wait_poll),
            Requeue::Idle => None,
        }
    }

    /// The controller action: a requeue on the wall clock, or waiting for a change.
    pub fn action(self, ctx: &Context) -> Action {
        match self.delay(&ctx.settings) {
            Some(delay) => Action::requeue(ctx.wall(delay)),
            None => Action::await_change(),
        }
    }
}

/// A requeue after `delay` of the clock's time.
pub fn after(ctx: &Context, delay: Duration) -> Action {
    Action::requeue(ctx.wall(delay))
}
