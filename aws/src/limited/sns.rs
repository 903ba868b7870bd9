//! `Limited<dyn SnsApi>`.

use async_trait::async_trait;

use super::Limited;
use crate::error::AwsResult;
use crate::sns::{PublishInput, SnsApi};

#[async_trait]
impl SnsApi for Limited<dyn SnsApi> {
    async fn publish(&self, input: PublishInput) -> AwsResult<String> {
        let fut = self.inner.publish(input);
        self.guard.call("sns", "Publish", fut).await
    }
}
