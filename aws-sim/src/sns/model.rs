//! SNS state of the simulated account: the seeded topics, each FIFO topic's recent
//! deduplication ids, and every message the topics delivered (for tests and the sandbox).

use std::collections::BTreeMap;

use crate::seed::SimSeed;
use crate::time::Secs;

/// A message a topic delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedMessage {
    /// The topic's name.
    pub topic: String,
    /// The id Publish answered.
    pub message_id: String,
    /// Subject, if any.
    pub subject: Option<String>,
    /// The message.
    pub message: String,
    /// Its string attributes.
    pub attributes: BTreeMap<String, String>,
    /// When it was published (simulated seconds).
    pub at: Secs,
}

/// One topic.
#[derive(Debug, Clone, Default)]
pub(crate) struct Topic {
    /// Deduplication id → (message id, when) of a FIFO topic's recent messages.
    pub recent: BTreeMap<String, (String, Secs)>,
}

/// The account's topics and what they delivered.
#[derive(Debug, Clone, Default)]
pub(crate) struct SnsState {
    /// Topic name → topic.
    pub topics: BTreeMap<String, Topic>,
    /// Every delivered message, oldest first.
    pub delivered: Vec<PublishedMessage>,
    /// The last message id handed out.
    pub next_id: u64,
}

impl SnsState {
    /// The seeded topics.
    pub fn from_seed(seed: &SimSeed) -> Self {
        Self {
            topics: (seed.sns_topics.iter())
                .map(|name| (name.clone(), Topic::default()))
                .collect(),
            ..Self::default()
        }
    }
}
