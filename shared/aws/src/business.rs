//! BusinessDirectory on DynamoDB, and loading a business from its file.
//!
//! Businesses table (every key names the business or the Vapi id that routes to it):
//! - `pk = BIZ#<business>`, `sk = PROFILE`: the business's profile (`BusinessProfile`);
//! - `pk = ROUTE#ASSISTANT#<assistant id>` or `ROUTE#PHONE#<phone number id>`, `sk = ROUTE`:
//!   `businessId` and a copy of the profile, so resolving a call is one GetItem.
//!
//! Lookups are cached per Lambda instance for `cache_for` (found and not found alike): a
//! business changed with `callbook-admin load-business` is seen within that time. The cache
//! holds at most `DEFAULT_CACHE_ENTRIES` answers (the oldest goes first): route lookups happen
//! before authentication, so strangers choose the keys, and the cache must not grow with them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use callbook_core::{Business, BusinessProfile, ConfigError};
use callbook_core::{BusinessDirectory, CallRoute, PortError};
use thiserror::Error;

use crate::bounded_cache::BoundedCache;
use crate::dynamo::{Item, from_item, s};
use crate::sdk_message;

/// How long a lookup is trusted by default.
pub const DEFAULT_CACHE: Duration = Duration::from_secs(60);
/// How many lookups an instance remembers at most: far more routes than an install's
/// businesses claim, and a few hundred KB however many strangers' ids are tried.
pub const DEFAULT_CACHE_ENTRIES: usize = 1_024;

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

pub fn profile_key(business_id: &str) -> Item {
    key(format!("BIZ#{business_id}"), "PROFILE")
}

pub fn route_key(route: CallRoute<'_>) -> Item {
    key(
        match route {
            CallRoute::Assistant(id) => format!("ROUTE#ASSISTANT#{id}"),
            CallRoute::PhoneNumber(id) => format!("ROUTE#PHONE#{id}"),
        },
        "ROUTE",
    )
}

#[derive(Debug)]
pub struct DynamoBusinessDirectory {
    client: Client,
    table: String,
    cache: Mutex<BoundedCache<String, Option<Arc<Business>>>>,
}

impl DynamoBusinessDirectory {
    pub fn new(client: Client, table: String) -> Self {
        Self::with_cache(client, table, DEFAULT_CACHE)
    }

    pub fn with_cache(client: Client, table: String, cache_for: Duration) -> Self {
        Self::with_bounded_cache(client, table, cache_for, DEFAULT_CACHE_ENTRIES)
    }

    pub fn with_bounded_cache(
        client: Client,
        table: String,
        cache_for: Duration,
        entries: usize,
    ) -> Self {
        Self {
            client,
            table,
            cache: Mutex::new(BoundedCache::new(entries, cache_for)),
        }
    }

    fn cached(&self, key: &str) -> Option<Option<Arc<Business>>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(key, Instant::now())
    }

    fn remember(&self, key: String, business: Option<Arc<Business>>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(key, business, Instant::now());
    }

    /// The business in the item at `key` (its attribute `profile`, or the item itself).
    async fn read(&self, key: Item, nested: bool) -> Result<Option<Arc<Business>>, PortError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .send()
            .await
            .map_err(|e| PortError::unavailable("find business", sdk_message(&e)))?
            .item;
        let Some(mut item) = item else {
            return Ok(None);
        };
        let profile_item = if nested {
            match item.remove("profile") {
                Some(AttributeValue::M(m)) => m,
                _ => {
                    return Err(PortError::Corrupt {
                        what: "business route",
                        message: "no profile".into(),
                    });
                }
            }
        } else {
            item.retain(|k, _| !matches!(k.as_str(), "pk" | "sk" | "version" | "updatedAt"));
            item
        };
        let profile: BusinessProfile = from_item("business", profile_item)?;
        Business::from_profile(&profile)
            .map(|b| Some(Arc::new(b)))
            .map_err(|e| PortError::Corrupt {
                what: "business",
                message: e.to_string(),
            })
    }
}

impl BusinessDirectory for DynamoBusinessDirectory {
    async fn business_for(&self, route: CallRoute<'_>) -> Result<Option<Arc<Business>>, PortError> {
        let cache_key = format!("{route:?}");
        if let Some(hit) = self.cached(&cache_key) {
            return Ok(hit);
        }
        let business = self.read(route_key(route), true).await?;
        self.remember(cache_key, business.clone());
        Ok(business)
    }

    async fn business(&self, id: &str) -> Result<Option<Arc<Business>>, PortError> {
        let cache_key = format!("Id({id})");
        if let Some(hit) = self.cached(&cache_key) {
            return Ok(hit);
        }
        let business = self.read(profile_key(id), false).await?;
        self.remember(cache_key, business.clone());
        Ok(business)
    }
}

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("the business file is invalid: {0}")]
    Invalid(#[from] ConfigError),
    #[error("{0}")]
    Taken(String),
    #[error("{0}")]
    Store(#[from] PortError),
}

/// What loading changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub created: bool,
    pub routes: usize,
    pub removed_routes: usize,
}

/// Stores `profile` with the routes of its assistant and phone number ids, in one
/// transaction: a route another business holds is refused; routes the business no longer
/// claims are removed. Safe to run again with the same file.
pub async fn load_business(
    client: &Client,
    table: &str,
    profile: &BusinessProfile,
) -> Result<Loaded, LoadError> {
    let business = Business::from_profile(profile)?;
    let mut profile_item: Item =
        serde_dynamo::to_item(profile).map_err(|e| PortError::Corrupt {
            what: "business",
            message: e.to_string(),
        })?;
    let existing = client
        .get_item()
        .table_name(table)
        .set_key(Some(profile_key(&business.id)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| PortError::unavailable("read business", sdk_message(&e)))?
        .item;
    let (old_version, old_routes) = match &existing {
        Some(item) => {
            let version = item
                .get("version")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            let mut stored = item.clone();
            stored.retain(|k, _| !matches!(k.as_str(), "pk" | "sk" | "version" | "updatedAt"));
            let old: BusinessProfile = from_item("business", stored)?;
            (version, old)
        }
        None => (
            0,
            BusinessProfile {
                assistant_ids: Vec::new(),
                phone_number_ids: Vec::new(),
                ..profile.clone()
            },
        ),
    };
    let routes: Vec<CallRoute<'_>> = business
        .assistant_ids
        .iter()
        .map(|id| CallRoute::Assistant(id))
        .chain(
            business
                .phone_number_ids
                .iter()
                .map(|id| CallRoute::PhoneNumber(id)),
        )
        .collect();
    let stale: Vec<CallRoute<'_>> = old_routes
        .assistant_ids
        .iter()
        .filter(|id| !business.assistant_ids.contains(id))
        .map(|id| CallRoute::Assistant(id))
        .chain(
            old_routes
                .phone_number_ids
                .iter()
                .filter(|id| !business.phone_number_ids.contains(id))
                .map(|id| CallRoute::PhoneNumber(id)),
        )
        .collect();

    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut items = Vec::new();
    let nested = AttributeValue::M(profile_item.clone());
    profile_item.extend(profile_key(&business.id));
    profile_item.insert(
        "version".into(),
        AttributeValue::N((old_version + 1).to_string()),
    );
    profile_item.insert("updatedAt".into(), s(&now));
    let build = |e: aws_sdk_dynamodb::error::BuildError| PortError::unavailable("load business", e);
    // Written over the version read, so two loads at once cannot interleave their routes.
    let mut put = Put::builder()
        .table_name(table)
        .set_item(Some(profile_item));
    put = if existing.is_some() {
        put.condition_expression("version = :version")
            .expression_attribute_values(":version", AttributeValue::N(old_version.to_string()))
    } else {
        put.condition_expression("attribute_not_exists(pk)")
    };
    items.push(
        TransactWriteItem::builder()
            .put(put.build().map_err(build)?)
            .build(),
    );
    for route in &routes {
        let mut item = route_key(*route);
        item.insert("businessId".into(), s(&business.id));
        item.insert("profile".into(), nested.clone());
        item.insert("updatedAt".into(), s(&now));
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR businessId = :business")
            .expression_attribute_values(":business", s(&business.id))
            .build()
            .map_err(build)?;
        items.push(TransactWriteItem::builder().put(put).build());
    }
    for route in &stale {
        let delete = Delete::builder()
            .table_name(table)
            .set_key(Some(route_key(*route)))
            .condition_expression("attribute_not_exists(pk) OR businessId = :business")
            .expression_attribute_values(":business", s(&business.id))
            .build()
            .map_err(build)?;
        items.push(TransactWriteItem::builder().delete(delete).build());
    }
    let result = client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await;
    match result {
        Ok(_) => Ok(Loaded {
            created: existing.is_none(),
            routes: routes.len(),
            removed_routes: stale.len(),
        }),
        Err(e) => {
            let reasons: Vec<Option<String>> = match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t)) => t
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().map(str::to_string))
                    .collect(),
                _ => return Err(PortError::unavailable("load business", sdk_message(&e)).into()),
            };
            // Item 0 is the profile; then the routes in order.
            if reasons.first().and_then(|r| r.as_deref()) == Some("ConditionalCheckFailed") {
                return Err(LoadError::Taken(format!(
                    "business {} changed while loading; run the command again",
                    business.id
                )));
            }
            for (i, reason) in reasons.iter().enumerate().skip(1) {
                if reason.as_deref() == Some("ConditionalCheckFailed")
                    && let Some(route) = routes.get(i - 1)
                {
                    let owner = client
                        .get_item()
                        .table_name(table)
                        .set_key(Some(route_key(*route)))
                        .send()
                        .await
                        .ok()
                        .and_then(|o| o.item)
                        .and_then(|item| {
                            item.get("businessId").and_then(|v| v.as_s().ok()).cloned()
                        })
                        .unwrap_or_default();
                    return Err(LoadError::Taken(format!(
                        "{route:?} already belongs to business {owner:?}; remove it there first"
                    )));
                }
            }
            Err(PortError::unavailable("load business", sdk_message(&e)).into())
        }
    }
}
