//! Wire-level check of `SdkSns` against moto: a Publish carries the topic, Subject and message
//! (moto delivers them to an HTTP subscription, here a local receiver, as it got them) and
//! String message attributes (a subscription filter policy on `trigger` lets one message through
//! and holds the other); a FIFO topic takes the message group and deduplication id; and SNS's own
//! refusals (no such topic, a FIFO topic without a message group) come back with SNS's code,
//! classified.

use std::time::Duration;

use aws::ErrorKind;
use aws::sns::sdk::SdkSns;
use aws::sns::{PublishInput, SnsApi};
use e2e_tests::moto::Moto;
use ecs_operator::local::receiver::WebhookReceiver;

const DEADLINE: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer in {DEADLINE:?}"))
}

fn input(topic_arn: &str) -> PublishInput {
    PublishInput {
        topic_arn: topic_arn.to_owned(),
        subject: Some("BlueGreenRollout default/auth: releasing :2".into()),
        message: r#"{"id":"default/BlueGreenRollout/auth/r@t/ReleaseStarted","trigger":"ReleaseStarted"}"#
            .into(),
        attributes: vec![
            ("id".into(), "default/BlueGreenRollout/auth/r@t/ReleaseStarted".into()),
            ("trigger".into(), "ReleaseStarted".into()),
        ],
        ..PublishInput::default()
    }
}

#[tokio::test]
async fn publish_reaches_a_subscriber_with_its_subject_and_attributes() {
    let moto = Moto::shared().await;
    let config = moto.sdk_config().await;
    let raw = aws_sdk_sns::Client::new(&config);
    let topic = raw
        .create_topic()
        .name("wire-releases")
        .send()
        .await
        .expect("moto creates the topic")
        .topic_arn
        .expect("a topic ARN");
    let receiver = WebhookReceiver::start(0).await.expect("a receiver");
    // The subscription takes only release-start notifications, by the `trigger` attribute
    // (moto matches the filter on the attributes Publish sent; it does not forward them).
    raw.subscribe()
        .topic_arn(&topic)
        .protocol("http")
        .endpoint(format!("{}/sns", receiver.address))
        .attributes("FilterPolicy", r#"{"trigger": ["ReleaseStarted"]}"#)
        .send()
        .await
        .expect("moto subscribes the receiver");
    let sns = SdkSns::new(&config);

    let id = within("Publish", sns.publish(input(&topic)))
        .await
        .expect("Publish answers");
    let mut succeeded = input(&topic);
    succeeded.attributes = vec![("trigger".into(), "ReleaseSucceeded".into())];
    within("Publish", sns.publish(succeeded))
        .await
        .expect("Publish answers");
    assert!(!id.is_empty(), "a message id");
    let notifications: Vec<serde_json::Value> = receiver
        .received()
        .into_iter()
        .map(|r| r.body)
        .filter(|b| b["Type"] == "Notification")
        .collect();
    assert_eq!(
        notifications.len(),
        1,
        "the filter policy let only ReleaseStarted through: {notifications:?}"
    );
    let n = &notifications[0];
    assert_eq!(n["MessageId"], id.as_str());
    assert_eq!(n["TopicArn"], topic.as_str());
    assert_eq!(n["Subject"], "BlueGreenRollout default/auth: releasing :2");
    assert_eq!(n["Message"], input(&topic).message.as_str());

    let mut missing = input(&topic);
    missing.topic_arn = format!("{}-gone", topic);
    let e = within("Publish", sns.publish(missing))
        .await
        .expect_err("no such topic");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e:?}");
    assert_eq!(e.code, "NotFound", "SNS's own code: {e:?}");
}

#[tokio::test]
async fn a_fifo_topic_takes_a_group_and_a_deduplication_id() {
    let moto = Moto::shared().await;
    let config = moto.sdk_config().await;
    let raw = aws_sdk_sns::Client::new(&config);
    let topic = raw
        .create_topic()
        .name("wire-releases.fifo")
        .attributes("FifoTopic", "true")
        .send()
        .await
        .expect("moto creates the FIFO topic")
        .topic_arn
        .expect("a topic ARN");
    let sns = SdkSns::new(&config);

    let refused = within("Publish", sns.publish(input(&topic)))
        .await
        .expect_err("a FIFO topic needs a message group");
    assert_eq!(refused.kind, ErrorKind::InvalidRequest, "{refused:?}");

    let mut fifo = input(&topic);
    fifo.message_group_id = Some("default/BlueGreenRollout/auth".into());
    fifo.message_deduplication_id = Some("a".repeat(64));
    let id = within("Publish", sns.publish(fifo))
        .await
        .expect("Publish with a group and a deduplication id");
    assert!(!id.is_empty());
}
