//! Prints the Vapi tool definitions the webhook answers, generated from the declarations that
//! parse their arguments. Paste them into the assistant's tools in the Vapi dashboard.
//!
//!     cargo run -p callbook-core --bin vapi-tools [-- --server-url https://.../vapi-webhook]

use callbook_core::TOOLS;
use serde_json::Value;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut server_url = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server-url" => server_url = args.next(),
            "-h" | "--help" => {
                println!("usage: vapi-tools [--server-url URL]");
                return;
            }
            other => {
                eprintln!(
                    "vapi-tools: unknown argument {other:?} (usage: vapi-tools [--server-url URL])"
                );
                std::process::exit(2);
            }
        }
    }
    let tools = Value::Array(
        TOOLS
            .iter()
            .map(|t| t.definition(server_url.as_deref()))
            .collect(),
    );
    match serde_json::to_string_pretty(&tools) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("vapi-tools: {e}");
            std::process::exit(1);
        }
    }
}
