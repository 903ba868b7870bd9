//! `SdkSns`: the [`SnsApi`] adapter over `aws_sdk_sns` (the AWS Query protocol on the wire,
//! checked against moto). Message attributes go as `String` attributes.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::error::AwsResult;
use crate::sdk::aws_error;
use crate::sns::{PublishInput, SnsApi};

/// Amazon SNS through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkSns {
    client: Client,
}

impl SdkSns {
    /// An adapter for the account, region and endpoint of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

#[async_trait]
impl SnsApi for SdkSns {
    async fn publish(&self, input: PublishInput) -> AwsResult<String> {
        let mut request = self
            .client
            .publish()
            .topic_arn(input.topic_arn)
            .message(input.message)
            .set_subject(input.subject)
            .set_message_group_id(input.message_group_id)
            .set_message_deduplication_id(input.message_deduplication_id);
        for (name, value) in input.attributes {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| {
                    crate::AwsError::new(
                        crate::ErrorKind::InvalidRequest,
                        "InvalidParameter",
                        format!("message attribute {name}: {e}"),
                    )
                })?;
            request = request.message_attributes(name, value);
        }
        let answer = request.send().await.map_err(aws_error)?;
        Ok(answer.message_id.unwrap_or_default())
    }
}
