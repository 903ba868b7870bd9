//! Prints what the simulated account's SNS topics deliver, as it arrives (`✉ SNS topic:
//! subject`), so a sandbox user sees an `sns` receiver at work without a subscriber.

use std::time::Duration;

use aws_sim::SimAws;
use tokio_util::sync::CancellationToken;

/// How often the topics are looked at (wall time).
const EVERY: Duration = Duration::from_millis(250);

/// Prints each message `sim`'s topics deliver until `token` is cancelled, and then the ones
/// not printed yet.
pub fn print_deliveries(sim: SimAws, token: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut printed = 0;
        loop {
            let last = tokio::select! {
                () = token.cancelled() => true,
                () = tokio::time::sleep(EVERY) => false,
            };
            let delivered = sim.sns_messages();
            for m in delivered.iter().skip(printed) {
                println!(
                    "✉ SNS {}: {}",
                    m.topic,
                    m.subject.as_deref().unwrap_or(&m.message)
                );
            }
            printed = delivered.len();
            if last {
                return;
            }
        }
    })
}
