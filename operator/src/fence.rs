//! Leader fencing: the AWS mutation gate of a replica that runs the controllers because it
//! holds the leader Lease. The fence is open only while the Lease, as read back from the API
//! server, is this replica's and stays valid for longer than a call may take; so when a
//! partition or a slow renewal lets another replica take over, this one stops before its next
//! AWS mutation instead of writing alongside the new leader.

use std::sync::Mutex;
use std::time::Duration;

use aws::clock::SharedClock;
use aws::limited::MutationGate;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use tokio_util::sync::CancellationToken;

/// The fence of one replica.
#[derive(Debug)]
pub struct LeaseFence {
    clock: SharedClock,
    /// How long a lease must still be valid for a mutation to start.
    margin: Duration,
    /// Until when this replica's lease is known to be valid (None: it does not hold it).
    valid_until: Mutex<Option<Timestamp>>,
}

impl LeaseFence {
    /// A closed fence; `margin` is how long the lease must outlive the start of a mutation.
    pub fn new(clock: SharedClock, margin: Duration) -> Self {
        Self {
            clock,
            margin,
            valid_until: Mutex::new(None),
        }
    }

    /// The lease is this replica's until `until`.
    pub fn extend_to(&self, until: Timestamp) {
        *self.valid_until.lock().expect("fence lock") = Some(until);
    }

    /// This replica no longer holds the lease.
    pub fn close(&self) {
        *self.valid_until.lock().expect("fence lock") = None;
    }

    /// Reads the Lease every `every` and follows it: extended to its renew time plus its
    /// duration while `identity` holds it, closed when another holds it or it cannot be read
    /// for longer than the lease lasts.
    pub async fn follow(
        &self,
        api: Api<Lease>,
        name: String,
        identity: String,
        every: Duration,
        token: CancellationToken,
    ) {
        loop {
            match api.get(&name).await {
                Ok(lease) => match held_until(&lease, &identity) {
                    Some(until) => self.extend_to(until),
                    None => self.close(),
                },
                // Not read: the fence keeps what it knew, which runs out by itself.
                Err(error) => tracing::warn!(%error, lease = %name, "cannot read the leader lease"),
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = token.cancelled() => return,
            }
        }
    }
}

/// Until when `lease` is `identity`'s, if it is.
pub fn held_until(lease: &Lease, identity: &str) -> Option<Timestamp> {
    let spec = lease.spec.as_ref()?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    let renewed = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?.0;
    let duration = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds?));
    Some(renewed + duration)
}

impl MutationGate for LeaseFence {
    fn may_mutate(&self) -> Result<(), String> {
        let now = self.clock.now();
        let margin = SignedDuration::try_from(self.margin).unwrap_or(SignedDuration::ZERO);
        match *self.valid_until.lock().expect("fence lock") {
            None => Err("this replica does not hold the leader lease".to_owned()),
            Some(until) if now + margin >= until => Err(format!(
                "this replica's leader lease runs out at {until}, too soon for the call to finish"
            )),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use aws::clock::SimClock;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    #[test]
    fn the_fence_opens_only_while_the_lease_outlives_the_call() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = Arc::new(SimClock::new(t0, 0.0));
        let fence = LeaseFence::new(clock.clone(), Duration::from_secs(2));
        assert!(
            fence.may_mutate().is_err(),
            "closed until the lease is seen"
        );
        let lease = |holder: &str| Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                renew_time: Some(MicroTime(t0)),
                lease_duration_seconds: Some(15),
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        };
        let until = held_until(&lease("me"), "me").expect("held");
        assert_eq!(until, t0 + SignedDuration::from_secs(15));
        assert_eq!(held_until(&lease("other"), "me"), None);
        fence.extend_to(until);
        assert!(fence.may_mutate().is_ok());
        clock.advance(Duration::from_secs(12));
        assert!(fence.may_mutate().is_ok());
        clock.advance(Duration::from_secs(1));
        let stopped = fence.may_mutate().unwrap_err();
        assert!(stopped.contains("runs out"), "{stopped}");
        fence.extend_to(until + SignedDuration::from_secs(10));
        assert!(fence.may_mutate().is_ok(), "a renewal opens it again");
        fence.close();
        assert!(fence.may_mutate().is_err());
    }
}
