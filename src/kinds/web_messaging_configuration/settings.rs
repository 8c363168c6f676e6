//! The parts of a [`super::WebMessagingConfigurationSpec`]: the Messenger,
//! its styles, launcher, file uploads, apps (conversations, knowledge
//! portal), position, co-browse, journey events and labels, in the API's
//! JSON names (API reference §j). Every struct refuses unknown fields, so a
//! misspelt setting is an error at its line rather than silently dropped.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A setting that is on or off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toggle {
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Messenger {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub styles: Option<Styles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launcher_button: Option<LauncherButton>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_upload: Option<FileUpload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<Apps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_screen: Option<HomeScreen>,
    /// Where a session persists: across subdomains, or on the domain (or
    /// subdomain) only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_persistence_type: Option<SessionPersistenceType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SessionPersistenceType {
    AcrossSubdomains,
    DomainOrSubdomainOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Styles {
    /// The primary color, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_color: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LauncherButton {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<LauncherVisibility>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_type: Option<LauncherDisplayType>,
    /// The launcher's own icon, instead of Genesys Cloud's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<LauncherIcon>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LauncherIcon {
    /// Where the icon's image is (`https://…`).
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LauncherVisibility {
    On,
    Off,
    OnDemand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LauncherDisplayType {
    IconAndText,
    Icon,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileUpload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_attachments: Option<bool>,
    /// Upload modes, each whole: the content types and their size limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modes: Option<Vec<FileUploadMode>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileUploadMode {
    /// Content types (`image/png`, …).
    #[serde(rename = "fileTypes")]
    pub file_types: Vec<String>,
    /// The largest upload, 0 to 10240 KB (10 MB).
    #[serde(rename = "maxFileSizeKB")]
    pub max_file_size_kb: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Apps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversations: Option<Conversations>,
}

/// How conversations behave in the Messenger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Conversations {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_agent_typing_indicator: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_user_typing_indicator: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_start: Option<Toggle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<Toggle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_disconnect: Option<ConversationDisconnect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_clear: Option<Toggle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub humanize: Option<Humanize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Notifications>,
    /// How long a guest session lasts, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConversationDisconnect {
    pub enabled: bool,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub disconnect_type: Option<DisconnectType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DisconnectType {
    Send,
    ReadOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Humanize {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<BotProfile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BotProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Notifications {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_content_type: Option<NotificationContentType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum NotificationContentType {
    IncludeMessagesContent,
    ExcludeMessagesContent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HomeScreen {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Position {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alignment: Option<Alignment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_space: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottom_space: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Alignment {
    Auto,
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupportCenter {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_type: Option<RouterType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RouterType {
    Hash,
    Browser,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cobrowse {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_agent_control: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_agent_navigation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_draw: Option<bool>,
    /// CSS selectors of page elements masked from agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_selectors: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly_selectors: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JourneyEvents {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pageview_config: Option<PageviewConfig>,
    /// Query parameters left out of the page URLs that journey events record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_query_parameters: Option<Vec<String>>,
    /// Query parameters that hold the terms of the site's own search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_query_parameters: Option<Vec<String>>,
    /// Whether the page URLs keep their `#fragment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_keep_url_fragment: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PageviewConfig {
    Auto,
    Once,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomI18nLabels {
    /// The language the labels are in (`en-us`, …).
    pub language: String,
    pub localized_labels: Vec<LocalizedLabel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalizedLabel {
    pub key: LabelKey,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LabelKey {
    MessengerHomeHeaderTitle,
    MessengerHomeHeaderSubTitle,
    PushNotificationTitle,
    PushNotificationBody,
    MessengerLauncherButtonText,
}
