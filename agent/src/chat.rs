//! The chat model: any OpenAI-compatible endpoint (OpenAI, Ollama, llama.cpp's server, vLLM)
//! through async-openai, streaming, with connect and idle timeouts and retries.

use std::pin::Pin;
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::error::{AgentError, Result};
use crate::retry::{CHAT_RETRY, RetryPolicy, RetryingTransport, TransportError};
use lore_index::{Redactor, redact_url};

/// Where the chat model is and how to talk to it.
#[derive(Clone)]
pub struct ChatConfig {
    /// Base URL of the OpenAI-compatible API, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// Model name sent with each request.
    pub model: String,
    /// API key, if the endpoint needs one. Never printed.
    pub api_key: Option<String>,
    /// Longest wait for a connection.
    pub connect_timeout: Duration,
    /// Longest silence while waiting for the first token or between tokens.
    pub idle_timeout: Duration,
    /// Retries on connection errors, 429 and 5xx; [`CHAT_RETRY`] by default.
    pub retry: RetryPolicy,
    /// Sampling temperature.
    pub temperature: f32,
    /// Most tokens an answer may have.
    pub max_answer_tokens: u32,
    /// The model's context window in tokens; the sources are packed to fit it.
    pub context_window: usize,
}

impl std::fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatConfig")
            .field("base_url", &redact_url(&self.base_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retry", &self.retry)
            .field("temperature", &self.temperature)
            .field("max_answer_tokens", &self.max_answer_tokens)
            .field("context_window", &self.context_window)
            .finish()
    }
}

impl ChatConfig {
    /// A configuration for `model` at `base_url` with default timeouts and limits.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ChatConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            retry: CHAT_RETRY,
            temperature: 0.1,
            max_answer_tokens: 700,
            context_window: 4096,
        }
    }

    /// What hides this configuration's secrets (the API key, the user and password of the base
    /// URL) from a message.
    pub fn redactor(&self) -> Redactor {
        Redactor::new().with_secret(self.api_key.as_deref()).with_url(Some(&self.base_url))
    }

    /// The base URL as messages show it, without its user and password.
    pub fn shown_url(&self) -> String {
        redact_url(self.base_url.trim())
    }
}

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The person asking.
    User,
    /// The model.
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message { role: Role::System, content: content.into() }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message { role: Role::User, content: content.into() }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message { role: Role::Assistant, content: content.into() }
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [Message],
    stream: bool,
    max_tokens: u32,
    temperature: f32,
    /// Streams ask for the token counts at the end (`usage`, with the prompt tokens the server
    /// took from its cache).
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// The token counts an endpoint reports for one answer (the OpenAI `usage` object; sent at the
/// end of a stream when asked, as lore asks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Usage {
    /// Tokens of the prompt.
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    /// Tokens of the answer.
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    /// Tokens of the prompt the server reused from its cache instead of processing again (the
    /// fixed start of lore's prompts, when the server caches prompts).
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Deserialize)]
struct PromptTokensDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(w: WireUsage) -> Usage {
        Usage {
            prompt_tokens: w.prompt_tokens,
            completion_tokens: w.completion_tokens,
            cached_tokens: w.prompt_tokens_details.and_then(|d| d.cached_tokens),
        }
    }
}

// Lenient response shapes: OpenAI-compatible servers differ in the optional fields they send.
#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default)]
    choices: Vec<StreamChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct StreamChoice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<CompletionChoice>,
}

#[derive(Deserialize)]
struct CompletionChoice {
    message: CompletionMessage,
}

#[derive(Deserialize)]
struct CompletionMessage {
    #[serde(default)]
    content: Option<String>,
}

/// A client for one chat model.
#[derive(Clone)]
pub struct ChatModel {
    client: Client<OpenAIConfig>,
    cfg: ChatConfig,
    /// Hides the key and the URL's password from every error.
    redactor: Redactor,
}

impl std::fmt::Debug for ChatModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatModel").field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<StreamChunk, OpenAIError>> + Send>>;

/// The tokens of one streamed answer. Dropping it closes the connection, which stops the
/// server generating.
pub struct TokenStream {
    inner: ChunkStream,
    idle: Duration,
    /// The base URL as errors show it.
    url: String,
    redactor: Redactor,
    finished: bool,
    /// Why the model stopped (`stop`, `length`, ...), once it has.
    pub finish_reason: Option<String>,
    /// The token counts, once the endpoint has sent them (at the end of the stream).
    pub usage: Option<Usage>,
}

impl std::fmt::Debug for TokenStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStream").field("url", &self.url).finish_non_exhaustive()
    }
}

impl TokenStream {
    /// The next piece of text; `None` at the end of the answer. Fails when the model stays
    /// silent longer than the idle timeout or sends something malformed.
    pub async fn next(&mut self) -> Option<Result<String>> {
        if self.finished {
            return None;
        }
        loop {
            let item = match tokio::time::timeout(self.idle, self.inner.next()).await {
                Err(_) => {
                    self.finished = true;
                    return Some(Err(AgentError::Stalled { url: self.url.clone(), idle: self.idle }));
                }
                Ok(None) => {
                    self.finished = true;
                    return None;
                }
                Ok(Some(item)) => item,
            };
            match item {
                Ok(chunk) => {
                    if let Some(u) = chunk.usage {
                        self.usage = Some(u.into());
                    }
                    let mut text = String::new();
                    for choice in chunk.choices {
                        if let Some(c) = choice.delta.content {
                            text.push_str(&c);
                        }
                        if choice.finish_reason.is_some() {
                            self.finish_reason = choice.finish_reason;
                        }
                    }
                    if !text.is_empty() {
                        return Some(Ok(text));
                    }
                }
                Err(e) => {
                    self.finished = true;
                    return Some(Err(map_error(&self.url, &self.redactor, e)));
                }
            }
        }
    }
}

/// Turns async-openai's errors into the agent's, keeping the endpoint's name (`url`, as shown)
/// and hiding what `redactor` hides (the key, the URL's password) from every text an error
/// carries.
fn map_error(url: &str, redactor: &Redactor, e: OpenAIError) -> AgentError {
    let url = url.to_string();
    let hide = |text: &str| redactor.redact(text);
    match e {
        OpenAIError::Boxed(b) => match b.downcast::<TransportError>() {
            Ok(t) => match *t {
                TransportError::Connect(reason) => AgentError::Unreachable { url, reason: hide(&reason) },
                TransportError::Status { status, message } => {
                    AgentError::Status { url, status, message: hide(&message) }
                }
            },
            Err(other) => AgentError::Malformed { url, reason: hide(&other.to_string()) },
        },
        OpenAIError::Reqwest(e) if e.is_timeout() => {
            AgentError::Stalled { url, idle: Duration::from_secs(0) }
        }
        OpenAIError::Reqwest(e) => {
            AgentError::Unreachable { url, reason: hide(&e.without_url().to_string()) }
        }
        OpenAIError::ApiError(api) => AgentError::Status {
            url,
            status: api.status_code.as_u16(),
            message: hide(&api.api_error.message),
        },
        OpenAIError::JSONDeserialize(err, content) => {
            // Hidden before it is cut, so no part of a secret is left at the cut.
            let shown: String = hide(&content).chars().take(120).collect();
            AgentError::Malformed { url, reason: hide(&format!("{err} in {shown:?}")) }
        }
        OpenAIError::StreamError(s) => AgentError::Malformed { url, reason: hide(&s.to_string()) },
        other => AgentError::Malformed { url, reason: hide(&other.to_string()) },
    }
}

impl ChatModel {
    /// A client for the model `cfg` describes. Nothing is sent until the first request.
    pub fn new(cfg: ChatConfig) -> Result<Self> {
        if cfg.base_url.trim().is_empty() {
            return Err(AgentError::Config("llm.base_url is empty".into()));
        }
        let redactor = cfg.redactor();
        let url = reqwest::Url::parse(cfg.base_url.trim()).map_err(|e| {
            AgentError::Config(
                redactor.redact(&format!("llm.base_url {:?} is not a URL: {e}", cfg.shown_url())),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AgentError::Config(format!("llm.base_url {:?} is not http(s)", cfg.shown_url())));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("lore/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AgentError::Config(format!("HTTP client: {e}")))?;
        let mut oc = OpenAIConfig::new().with_api_base(cfg.base_url.trim().trim_end_matches('/'));
        // Local servers need no key; async-openai sends whatever is set.
        oc = oc.with_api_key(cfg.api_key.clone().unwrap_or_else(|| "none".to_string()));
        let transport = RetryingTransport::new(http, cfg.retry.clone()).with_redactor(redactor.clone());
        let client = Client::with_config(oc).with_http_service(transport);
        Ok(ChatModel { client, cfg, redactor })
    }

    /// The configuration.
    pub fn config(&self) -> &ChatConfig {
        &self.cfg
    }

    /// Sends `messages` and returns the answer as a stream of text pieces. Returns once the
    /// endpoint has accepted the request (after retries).
    pub async fn stream(&self, messages: &[Message]) -> Result<TokenStream> {
        self.stream_limited(messages, self.cfg.max_answer_tokens).await
    }

    /// [`ChatModel::stream`] with at most `max_tokens` tokens of answer.
    pub async fn stream_limited(&self, messages: &[Message], max_tokens: u32) -> Result<TokenStream> {
        let body = self.request_body(messages, true, max_tokens)?;
        let chat = self.client.chat();
        let inner = match self
            .within_timeout(chat.create_stream_byot::<serde_json::Value, StreamChunk>(body))
            .await
        {
            // An endpoint that does not know `stream_options` is asked again without it.
            Err(AgentError::Status { status: 400 | 422, message, .. })
                if message.contains("stream_options") =>
            {
                let mut body = self.request_body(messages, true, max_tokens)?;
                if let Some(o) = body.as_object_mut() {
                    o.remove("stream_options");
                }
                self.within_timeout(chat.create_stream_byot::<serde_json::Value, StreamChunk>(body)).await?
            }
            other => other?,
        };
        Ok(TokenStream {
            inner,
            idle: self.cfg.idle_timeout,
            url: self.cfg.shown_url(),
            redactor: self.redactor.clone(),
            finished: false,
            finish_reason: None,
            usage: None,
        })
    }

    /// Sends `messages` and returns the whole answer (at most `max_tokens` tokens), within the
    /// idle timeout. For short calls such as rewriting a follow-up question.
    pub async fn complete(&self, messages: &[Message], max_tokens: u32) -> Result<String> {
        let body = self.request_body(messages, false, max_tokens)?;
        let chat = self.client.chat();
        let done = self.within_timeout(chat.create_byot::<serde_json::Value, Completion>(body)).await?;
        Ok(done.choices.into_iter().filter_map(|c| c.message.content).collect::<String>().trim().to_string())
    }

    /// The JSON body of a chat completion request.
    fn request_body(&self, messages: &[Message], stream: bool, max_tokens: u32) -> Result<serde_json::Value> {
        let req = ChatRequest {
            model: &self.cfg.model,
            messages,
            stream,
            max_tokens,
            temperature: self.cfg.temperature,
            stream_options: stream.then_some(StreamOptions { include_usage: true }),
        };
        serde_json::to_value(&req).map_err(|e| AgentError::Config(e.to_string()))
    }

    /// Awaits a request until the endpoint answers, at most the connect plus the idle timeout.
    async fn within_timeout<T>(
        &self,
        call: impl std::future::Future<Output = std::result::Result<T, OpenAIError>>,
    ) -> Result<T> {
        let wait = self.cfg.idle_timeout + self.cfg.connect_timeout;
        match tokio::time::timeout(wait, call).await {
            Err(_) => Err(AgentError::Stalled { url: self.cfg.shown_url(), idle: wait }),
            Ok(r) => r.map_err(|e| map_error(&self.cfg.shown_url(), &self.redactor, e)),
        }
    }

    /// Checks the endpoint answers a one-token request.
    pub async fn ping(&self) -> Result<()> {
        self.complete(&[Message::user("Say OK.")], 1).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_key() {
        let mut cfg = ChatConfig::new("http://127.0.0.1:1/v1", "m");
        cfg.api_key = Some("sk-secret-value".into());
        let model = ChatModel::new(cfg.clone()).unwrap();
        for text in [format!("{cfg:?}"), format!("{model:?}")] {
            assert!(!text.contains("sk-secret-value"), "{text}");
        }
    }

    #[test]
    fn bad_base_urls_are_refused() {
        assert!(ChatModel::new(ChatConfig::new("", "m")).is_err());
        assert!(ChatModel::new(ChatConfig::new("not a url", "m")).is_err());
        assert!(ChatModel::new(ChatConfig::new("ftp://host/v1", "m")).is_err());
    }

    #[test]
    fn lenient_chunks_parse() {
        let c: StreamChunk = serde_json::from_str(r#"{"choices":[{"delta":{"content":"Hi"}}]}"#).unwrap();
        assert_eq!(c.choices[0].delta.content.as_deref(), Some("Hi"));
        let c: StreamChunk =
            serde_json::from_str(r#"{"id":"x","choices":[],"usage":{"total_tokens":3}}"#).unwrap();
        assert!(c.choices.is_empty());
        let u = Usage::from(c.usage.unwrap());
        assert_eq!(u, Usage::default());
        let c: StreamChunk = serde_json::from_str(
            r#"{"choices":[],"usage":{"prompt_tokens":110,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":100}}}"#,
        )
        .unwrap();
        let u = Usage::from(c.usage.unwrap());
        assert_eq!((u.prompt_tokens, u.completion_tokens, u.cached_tokens), (Some(110), Some(2), Some(100)));
        let c: StreamChunk =
            serde_json::from_str(r#"{"choices":[{"delta":{},"finish_reason":"stop","index":0}]}"#).unwrap();
        assert_eq!(c.choices[0].finish_reason.as_deref(), Some("stop"));
    }
}
