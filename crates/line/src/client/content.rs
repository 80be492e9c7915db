//! The media users send: downloaded whole or as a stream, and LINE's progress in
//! preparing a video or audio.

use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};

use crate::id::MessageId;

use super::call::{Call, Read, Started, header_str};
use super::{Client, Error, Result};

/// A message's media, or why it is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Ready {
        content_type: String,
        bytes: Bytes,
    },
    /// A large video or audio is still being prepared: ask again later.
    Preparing,
    /// The user unsent the message, so LINE no longer has it.
    Gone,
}

/// How far LINE is with preparing a user's video or audio for download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transcoding {
    Processing,
    Succeeded,
    /// LINE could not prepare it: it will never download.
    Failed,
}

/// A message's media as it downloads, or why it is not there.
#[derive(Debug)]
pub enum ContentStream {
    Ready {
        content_type: String,
        /// What LINE says it will send, if it says.
        length: Option<u64>,
        body: ContentBody,
    },
    Preparing,
    Gone,
}

/// The bytes of a download, a chunk at a time: never all in memory.
#[derive(Debug)]
pub struct ContentBody(reqwest::Response);

impl ContentBody {
    /// The body of any response, read the same way: media a sender keeps outside LINE.
    pub fn of(response: reqwest::Response) -> Self {
        ContentBody(response)
    }

    /// The next chunk; `None` at the end. A failure midway is [`Error::Transport`].
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        self.0.chunk().await.map_err(Error::Transport)
    }
}

impl Client {
    /// The bytes of an image, video, audio or file a user sent.
    #[tracing::instrument(skip_all, err)]
    pub async fn content(&self, message_id: &MessageId) -> Result<Content> {
        self.fetch_content(format!("/v2/bot/message/{message_id}/content"))
            .await
    }

    /// A thumbnail of an image or video a user sent.
    #[tracing::instrument(skip_all, err)]
    pub async fn content_preview(&self, message_id: &MessageId) -> Result<Content> {
        self.fetch_content(format!("/v2/bot/message/{message_id}/content/preview"))
            .await
    }

    /// The bytes of an image, video, audio or file a user sent (or its thumbnail), to read a
    /// chunk at a time. A call that fails before the body starts is retried as any other.
    #[tracing::instrument(skip_all, err)]
    pub async fn content_stream(
        &self,
        message_id: &MessageId,
        preview: bool,
    ) -> Result<ContentStream> {
        let suffix = if preview { "/preview" } else { "" };
        let call = Call::new(
            Method::GET,
            self.data(&format!("/v2/bot/message/{message_id}/content{suffix}")),
        );
        let response = match self.with_retries(&call, Read::Streaming).await {
            Ok(Started::Streaming(response)) => response,
            Ok(Started::Whole(_)) => {
                return Err(Error::Decode("a download read whole".into()));
            }
            Err(Error::Api(e)) if e.status == StatusCode::GONE.as_u16() => {
                return Ok(ContentStream::Gone);
            }
            Err(e) => return Err(e),
        };
        if response.status() == StatusCode::ACCEPTED {
            return Ok(ContentStream::Preparing);
        }
        Ok(ContentStream::Ready {
            content_type: header_str(response.headers(), CONTENT_TYPE.as_str())
                .unwrap_or("application/octet-stream")
                .to_owned(),
            length: response.content_length(),
            body: ContentBody(response),
        })
    }

    /// Whether LINE has prepared a user's video or audio (`GET …/content/transcoding`).
    #[tracing::instrument(skip_all, err)]
    pub async fn transcoding(&self, message_id: &MessageId) -> Result<Transcoding> {
        #[derive(serde::Deserialize)]
        struct Status {
            status: Transcoding,
        }
        let path = format!("/v2/bot/message/{message_id}/content/transcoding");
        let status: Status = self
            .execute(Call::new(Method::GET, self.data(&path)))
            .await?
            .json()?;
        Ok(status.status)
    }

    async fn fetch_content(&self, path: String) -> Result<Content> {
        match self.execute(Call::new(Method::GET, self.data(&path))).await {
            Ok(answer) if answer.status == StatusCode::ACCEPTED => Ok(Content::Preparing),
            Ok(answer) => Ok(Content::Ready {
                content_type: header_str(&answer.headers, CONTENT_TYPE.as_str())
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                bytes: answer.body,
            }),
            Err(Error::Api(e)) if e.status == StatusCode::GONE.as_u16() => Ok(Content::Gone),
            Err(e) => Err(e),
        }
    }
}
