//! The `SnsApi` trait: Publish, the one Amazon SNS operation the operator uses (a
//! NotificationPolicy's `sns` receiver posts each notification to a topic), and what an SNS
//! topic ARN says (its region, its account, whether it is a FIFO topic). No SDK types.

pub mod sdk;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::AwsResult;

/// A Subject must be shorter than this (ASCII, no line breaks).
pub const SUBJECT_MAX: usize = 100;

/// Largest message SNS takes, in bytes.
pub const MESSAGE_MAX: usize = 256 * 1024;

/// A Publish request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishInput {
    /// The topic.
    pub topic_arn: String,
    /// The subject email subscriptions show (ASCII, shorter than [`SUBJECT_MAX`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The message (at most [`MESSAGE_MAX`] bytes).
    pub message: String,
    /// String message attributes, which subscription filter policies match on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<(String, String)>,
    /// A FIFO topic's message group (messages of one group are delivered in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_group_id: Option<String>,
    /// A FIFO topic's deduplication id: a second Publish with the same id within five minutes
    /// is accepted and not delivered again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_deduplication_id: Option<String>,
}

/// The Amazon SNS operation the operator uses.
#[async_trait]
pub trait SnsApi: Send + Sync {
    /// Publish: the message id SNS gave the message.
    async fn publish(&self, input: PublishInput) -> AwsResult<String>;
}

/// The parts of a topic ARN `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicArn<'a> {
    /// Region.
    pub region: &'a str,
    /// 12-digit account id.
    pub account: &'a str,
    /// Topic name (a FIFO topic's ends in `.fifo`).
    pub name: &'a str,
}

impl<'a> TopicArn<'a> {
    /// Parses a topic ARN; None when it is not one.
    pub fn parse(arn: &'a str) -> Option<TopicArn<'a>> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(_partition), Some("sns"), Some(region), Some(account), Some(name)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        (account_ok && !region.is_empty() && !name.is_empty() && !name.contains(':')).then_some(
            TopicArn {
                region,
                account,
                name,
            },
        )
    }

    /// Whether it is a FIFO topic (which needs a message group and deduplicates).
    pub fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }
}

/// `text` as an SNS Subject: ASCII only, no control characters, shorter than [`SUBJECT_MAX`]
/// (cut with an ellipsis).
pub fn subject(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                ' '
            }
        })
        .collect();
    let clean = clean.trim();
    if clean.len() < SUBJECT_MAX {
        return clean.to_owned();
    }
    format!("{}...", clean[..SUBJECT_MAX - 4].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arns_parse_into_region_account_and_name() {
        let t = TopicArn::parse("arn:aws:sns:eu-west-1:123456789012:releases").expect("an ARN");
        assert_eq!(
            (t.region, t.account, t.name, t.is_fifo()),
            ("eu-west-1", "123456789012", "releases", false)
        );
        let fifo = TopicArn::parse("arn:aws-cn:sns:cn-north-1:123456789012:r.fifo").expect("ARN");
        assert!(fifo.is_fifo());
        for bad in [
            "arn:aws:sqs:eu-west-1:123456789012:releases",
            "arn:aws:sns:eu-west-1:1234:releases",
            "arn:aws:sns::123456789012:releases",
            "arn:aws:sns:eu-west-1:123456789012:",
            "arn:aws:sns:eu-west-1:123456789012:a:b",
            "releases",
        ] {
            assert_eq!(TopicArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn subjects_are_ascii_and_short() {
        assert_eq!(
            subject("payment: rolled back → :6"),
            "payment: rolled back   :6"
        );
        let long = subject(&"x".repeat(300));
        assert_eq!(long.len(), SUBJECT_MAX - 1);
        assert!(long.ends_with("..."));
        assert_eq!(subject("a\nb"), "a b");
    }
}
