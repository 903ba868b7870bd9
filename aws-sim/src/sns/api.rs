//! SNS through the API (`impl SnsApi for SimAws`): Publish as AWS documents it — a topic of
//! another account or Region, or one that does not exist, is `NotFound`; a Subject must be ASCII
//! without line breaks, under 100 characters; a message is 1 byte to 256 KiB; a FIFO topic needs a
//! message group and a deduplication id, and a second message with the same deduplication id
//! within five minutes is accepted but not delivered again.

use async_trait::async_trait;

use crate::account::SimAws;
use crate::arn;
use crate::gate::Operation;
use crate::sns::model::PublishedMessage;
use crate::time::Secs;
use crate::world::World;
use aws::error::{AwsError, AwsResult};
use aws::sns::{MESSAGE_MAX, PublishInput, SUBJECT_MAX, SnsApi, TopicArn};

/// sns:Publish.
const PUBLISH: Operation = Operation {
    key: "sns:Publish",
    mutating: true,
};

/// How long a FIFO topic remembers a deduplication id.
const DEDUPLICATION_SECS: Secs = 300;

/// Most message attributes one message carries.
const MAX_ATTRIBUTES: usize = 10;

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::from_code("InvalidParameter", message, Some(400))
}

impl World {
    fn sns_publish(&mut self, now: Secs, input: PublishInput) -> AwsResult<String> {
        let topic_arn = TopicArn::parse(&input.topic_arn)
            .ok_or_else(|| invalid("Invalid parameter: TopicArn"))?;
        if topic_arn.region != self.region {
            return Err(invalid("Invalid parameter: TopicArn"));
        }
        let missing = || AwsError::from_code("NotFound", "Topic does not exist", Some(404));
        if topic_arn.account != self.account_id {
            return Err(missing());
        }
        let name = topic_arn.name.to_owned();
        if !self.sns.topics.contains_key(&name) {
            return Err(missing());
        }
        if let Some(subject) = &input.subject {
            let ascii = subject
                .chars()
                .all(|c| c.is_ascii() && !c.is_ascii_control());
            if subject.is_empty() || subject.len() >= SUBJECT_MAX || !ascii {
                return Err(invalid("Invalid parameter: Subject"));
            }
        }
        if input.message.is_empty() {
            return Err(invalid("Invalid parameter: Empty message"));
        }
        if input.message.len() > MESSAGE_MAX {
            return Err(invalid("Invalid parameter: Message too long"));
        }
        if input.attributes.len() > MAX_ATTRIBUTES {
            return Err(invalid(
                "Invalid parameter: MessageAttributes: too many attributes",
            ));
        }
        let fifo = topic_arn.is_fifo();
        if !fifo && input.message_group_id.is_some() {
            return Err(invalid(
                "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type",
            ));
        }
        if !fifo && input.message_deduplication_id.is_some() {
            return Err(invalid(
                "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
            ));
        }
        let dedup = match (
            fifo,
            &input.message_group_id,
            &input.message_deduplication_id,
        ) {
            (false, _, _) => None,
            (true, None, _) => {
                return Err(invalid(
                    "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
                ));
            }
            (true, Some(_), None) => {
                return Err(invalid(
                    "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
            (true, Some(_), Some(id)) => Some(id.clone()),
        };
        let topic = self.sns.topics.get_mut(&name).ok_or_else(missing)?;
        topic
            .recent
            .retain(|_, (_, at)| now.saturating_sub(*at) < DEDUPLICATION_SECS);
        if let Some((message_id, _)) = dedup.as_ref().and_then(|id| topic.recent.get(id)) {
            return Ok(message_id.clone());
        }
        self.sns.next_id += 1;
        let message_id = format!("00000000-0000-4000-8000-{:012}", self.sns.next_id);
        if let Some(id) = dedup {
            topic.recent.insert(id, (message_id.clone(), now));
        }
        self.sns.delivered.push(PublishedMessage {
            topic: name,
            message_id: message_id.clone(),
            subject: input.subject,
            message: input.message,
            attributes: input.attributes.into_iter().collect(),
            at: now,
        });
        Ok(message_id)
    }
}

#[async_trait]
impl SnsApi for SimAws {
    async fn publish(&self, input: PublishInput) -> AwsResult<String> {
        self.call(&PUBLISH, |w, now| w.sns_publish(now, input))
            .await
    }
}

impl SimAws {
    /// Every message the account's topics delivered, oldest first.
    pub fn sns_messages(&self) -> Vec<PublishedMessage> {
        self.with_world(|w, _| w.sns.delivered.clone())
    }

    /// The ARN of a seeded topic.
    pub fn topic_arn(&self, name: &str) -> String {
        arn::topic_arn(&self.region(), &self.account_id(), name)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::seed::SimSeed;
    use aws::clock::SimClock;

    fn account() -> SimAws {
        let mut seed = SimSeed::minimal("123456789012", "eu-west-1", &[]);
        seed.sns_topics = vec!["releases".into(), "releases.fifo".into()];
        SimAws::new(
            Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0)),
            seed,
        )
    }

    fn input(sim: &SimAws, topic: &str) -> PublishInput {
        PublishInput {
            topic_arn: sim.topic_arn(topic),
            subject: Some("auth: release started".into()),
            message: "{\"id\":\"a\"}".into(),
            attributes: vec![("trigger".into(), "ReleaseStarted".into())],
            ..PublishInput::default()
        }
    }

    #[tokio::test]
    async fn publish_delivers_to_a_seeded_topic_and_refuses_what_aws_refuses() {
        let sim = account();
        let id = sim
            .publish(input(&sim, "releases"))
            .await
            .expect("published");
        let delivered = sim.sns_messages();
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].message_id, id);
        assert_eq!(delivered[0].attributes["trigger"], "ReleaseStarted");

        let missing = sim
            .publish(input(&sim, "nope"))
            .await
            .expect_err("no topic");
        assert_eq!(
            (missing.code.as_str(), missing.http_status),
            ("NotFound", Some(404))
        );
        let mut other = input(&sim, "releases");
        other.topic_arn = "arn:aws:sns:eu-west-1:210987654321:releases".into();
        assert_eq!(
            sim.publish(other).await.expect_err("other account").code,
            "NotFound"
        );
        let mut long = input(&sim, "releases");
        long.subject = Some("s".repeat(SUBJECT_MAX));
        assert_eq!(
            sim.publish(long).await.expect_err("subject").code,
            "InvalidParameter"
        );
        let mut grouped = input(&sim, "releases");
        grouped.message_group_id = Some("g".into());
        assert_eq!(
            sim.publish(grouped).await.expect_err("group").code,
            "InvalidParameter"
        );
        assert_eq!(sim.sns_messages().len(), 1, "nothing refused was delivered");
    }

    #[tokio::test]
    async fn a_fifo_topic_delivers_a_deduplication_id_once_within_five_minutes() {
        let sim = account();
        let mut fifo = input(&sim, "releases.fifo");
        let refused = sim.publish(fifo.clone()).await.expect_err("no group");
        assert_eq!(refused.code, "InvalidParameter");
        fifo.message_group_id = Some("default/auth".into());
        fifo.message_deduplication_id = Some("n1".into());
        let first = sim.publish(fifo.clone()).await.expect("published");
        let again = sim.publish(fifo.clone()).await.expect("accepted");
        assert_eq!(first, again);
        assert_eq!(sim.sns_messages().len(), 1);
        sim.clock().advance(std::time::Duration::from_secs(301));
        sim.publish(fifo).await.expect("published again");
        assert_eq!(sim.sns_messages().len(), 2, "the window has passed");
    }
}
