//! Operator commands.
//!
//!     callbook-admin load-business <file.json>
//!
//! Loads (or updates) a business from its file into the Businesses table named by
//! `BUSINESSES_TABLE`, with the AWS credentials, region and endpoint of the environment.
//! `make load-business FILE=...` runs it against the local stack of `make dev`.

use std::process::ExitCode;

use callbook_aws::business::load_business;
use callbook_aws::config::environment;
use callbook_aws::{Resources, Table};
use callbook_core::BusinessProfile;

const USAGE: &str = "usage:
  callbook-admin load-business <file.json>          (needs BUSINESSES_TABLE)
  callbook-admin redrive <dead-letter-queue-url> <source-queue-url>
  callbook-admin opt-out <business-id> <phone>    (no more SMS to it; needs CUSTOMERS_TABLE)
  callbook-admin opt-in <business-id> <phone>
  callbook-admin claim-references                 (once after upgrading: claims recorded bookings' references; needs BOOKINGS_TABLE)";

/// The table's name from the environment, or the usage and `None`.
fn table_or_usage(table: Table) -> Option<String> {
    match Resources::from_lookup(&environment).table(table) {
        Ok(name) => Some(name),
        Err(e) => {
            eprintln!("callbook-admin: {e}\n{USAGE}");
            None
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = match args.as_slice() {
        [command, file] if command == "load-business" => file,
        [command, dead_letter, source] if command == "redrive" => {
            return redrive(dead_letter, source).await;
        }
        [command, business, phone] if command == "opt-out" || command == "opt-in" => {
            return opt_out(command == "opt-out", business, phone).await;
        }
        [command] if command == "claim-references" => return claim_references().await,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(table) = table_or_usage(Table::Businesses) else {
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("callbook-admin: cannot read {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let profile: BusinessProfile = match serde_json::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("callbook-admin: {file} is not a business file: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The install's default business is configured, not stored: a stored one with its id
    // would be shadowed by it.
    let default_id = std::env::var("BUSINESS_ID").unwrap_or_else(|_| "default".into());
    if profile.id.trim() == default_id.trim() {
        eprintln!(
            "callbook-admin: {:?} is the default business's id (BUSINESS_ID); give this business its own",
            profile.id
        );
        return ExitCode::FAILURE;
    }
    let sdk = callbook_aws::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    match load_business(&client, &table, &profile).await {
        Ok(loaded) => {
            println!(
                "business {} {} in {table}: {} route(s), {} removed",
                profile.id,
                if loaded.created { "created" } else { "updated" },
                loaded.routes,
                loaded.removed_routes
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("callbook-admin: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Moves a dead-letter queue's messages back to their source queue (after the cause of the
/// failures is fixed). Safe to run twice.
async fn redrive(dead_letter: &str, source: &str) -> ExitCode {
    let sdk = callbook_aws::sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    match callbook_aws::sqs::redrive(&client, dead_letter, source).await {
        Ok(moved) => {
            println!("{moved} message(s) moved back to {source}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("callbook-admin: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Gives every booking recorded before references were claimed its claim (run once after
/// upgrading a deployment that has bookings; harmless to repeat).
async fn claim_references() -> ExitCode {
    let Some(table) = table_or_usage(Table::Bookings) else {
        return ExitCode::from(2);
    };
    let sdk = callbook_aws::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    match callbook_aws::slots::claim_recorded_references(&client, &table).await {
        Ok(done) => {
            println!(
                "{} bookings read, {} references claimed",
                done.bookings, done.claimed
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("callbook-admin: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Adds a phone to (or removes it from) a business's own SMS opt-out list: what a STOP
/// reply asks for. The notification worker checks it, and SNS's own list, before each SMS.
async fn opt_out(out: bool, business: &str, raw_phone: &str) -> ExitCode {
    let Some(table) = table_or_usage(Table::Customers) else {
        return ExitCode::from(2);
    };
    let region = std::env::var("DEFAULT_PHONE_REGION").unwrap_or_else(|_| "US".into());
    let phone = match callbook_core::PhoneRegion::from_code(&region)
        .and_then(|r| callbook_core::PhoneNumber::parse(raw_phone, r))
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("callbook-admin: {raw_phone:?}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sdk = callbook_aws::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let key = callbook_aws::notify::opt_out_key(business, &phone);
    let result = if out {
        let mut item = key;
        item.insert(
            "optedOutAt".into(),
            aws_sdk_dynamodb::types::AttributeValue::S(chrono::Utc::now().to_rfc3339()),
        );
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    } else {
        client
            .delete_item()
            .table_name(&table)
            .set_key(Some(key))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    match result {
        Ok(()) => {
            println!(
                "{} {} for business {business}",
                phone.redacted(),
                if out {
                    "opted out of SMS"
                } else {
                    "opted in to SMS"
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("callbook-admin: {e}");
            ExitCode::FAILURE
        }
    }
}
