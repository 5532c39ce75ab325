//! A booking change's calendar part, written in the change's own transaction (with the
//! record) by the booking store.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use callbook_core::{BookingReference, CalendarChange, PortError};

use super::{claim_attribute, holder_attribute, key};

/// A booking change's calendar part as transaction items, one per cell touched (a
/// transaction may touch an item once), in `change.cells()` order. The conditions keep the
/// calendar true to the record: a freed cell must be held by the booking, a taken one must
/// have room, a claim must be free or already the booking's.
pub fn calendar_items(
    table: &str,
    business_id: &str,
    reference: &BookingReference,
    change: &CalendarChange,
) -> Result<Vec<TransactWriteItem>, PortError> {
    let mut items = Vec::new();
    for cell in change.cells() {
        let mut set: Vec<&str> = Vec::new();
        let mut add: Vec<&str> = Vec::new();
        let mut delete: Vec<&str> = Vec::new();
        let mut remove: Vec<&str> = Vec::new();
        let mut conditions: Vec<&str> = Vec::new();
        let mut names: Vec<(&str, String)> = vec![("#holder", holder_attribute(reference))];
        let mut values: Vec<(&str, AttributeValue)> = vec![
            (":reference", AttributeValue::S(reference.to_string())),
            (":refs", AttributeValue::Ss(vec![reference.to_string()])),
        ];
        let claim = change.claim.as_ref().filter(|(c, _)| *c == cell);
        if change.release.contains(&cell) {
            add.push("taken :minus_one");
            delete.push("bookingRefs :refs");
            if claim.is_none() {
                remove.push("#holder");
            }
            conditions.push("contains(bookingRefs, :reference)");
            values.push((":minus_one", AttributeValue::N("-1".into())));
        }
        if change.reserve.contains(&cell) {
            set.extend(["businessId = :business", "startUtc = :start"]);
            add.extend(["taken :one", "bookingRefs :refs"]);
            conditions.push(
                "(attribute_not_exists(taken) OR taken < :capacity) AND NOT contains(bookingRefs, :reference)",
            );
            values.extend([
                (":business", AttributeValue::S(business_id.to_string())),
                (":start", AttributeValue::S(cell.start_utc.to_rfc3339())),
                (":one", AttributeValue::N("1".into())),
                (
                    ":capacity",
                    AttributeValue::N(change.capacity.max(1).to_string()),
                ),
            ]);
        }
        if let Some((_, tag)) = change.unclaim.as_ref().filter(|(c, _)| *c == cell) {
            remove.push("#unclaim");
            if claim.is_none() && !remove.contains(&"#holder") {
                remove.push("#holder");
            }
            names.push(("#unclaim", claim_attribute(tag)));
        }
        if let Some((_, tag)) = claim {
            set.extend(["#claim = :reference", "#holder = :tag"]);
            conditions.push("(attribute_not_exists(#claim) OR #claim = :reference)");
            names.push(("#claim", claim_attribute(tag)));
            values.push((":tag", AttributeValue::S(tag.clone())));
        }
        let mut expression = Vec::new();
        for (verb, parts) in [
            ("SET", &set),
            ("ADD", &add),
            ("DELETE", &delete),
            ("REMOVE", &remove),
        ] {
            if !parts.is_empty() {
                expression.push(format!("{verb} {}", parts.join(", ")));
            }
        }
        let expression = expression.join(" ");
        let condition = conditions.join(" AND ");
        // DynamoDB refuses names and values the expressions do not use.
        let used =
            |token: &str| {
                expression
                    .split(|c: char| !(c.is_alphanumeric() || c == '#' || c == ':' || c == '_'))
                    .chain(condition.split(|c: char| {
                        !(c.is_alphanumeric() || c == '#' || c == ':' || c == '_')
                    }))
                    .any(|t| t == token)
            };
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(key(business_id, &cell)))
            .update_expression(&expression);
        if !condition.is_empty() {
            update = update.condition_expression(&condition);
        }
        for (name, attribute) in names {
            if used(name) {
                update = update.expression_attribute_names(name, attribute);
            }
        }
        for (name, value) in values {
            if used(name) {
                update = update.expression_attribute_values(name, value);
            }
        }
        items.push(
            TransactWriteItem::builder()
                .update(
                    update
                        .build()
                        .map_err(|e| PortError::unavailable("change calendar", e))?,
                )
                .build(),
        );
    }
    Ok(items)
}
