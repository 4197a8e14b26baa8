//! `lore config`: the effective configuration, each value with where it came from (lore's
//! default, the configuration file, or a `LORE_<SECTION>_<KEY>` variable), keys hidden; and
//! `lore config path`.

use std::process::ExitCode;

use anyhow::Result;
use lore_index::HIDDEN;
use serde::Serialize;
use serde_json::Value;

use crate::cli::{ConfigAction, ConfigArgs};
use crate::config::{self, Origin};
use crate::context::Context;
use crate::output::{outln, print_json};

/// One configured value.
#[derive(Serialize)]
struct Setting {
    section: String,
    key: String,
    /// The value (`null` when unset), secrets hidden.
    value: Value,
    /// `default`, `file` or `env`.
    origin: &'static str,
    /// The file or the variable it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
}

/// Runs `lore config`.
pub fn run(ctx: &Context, args: ConfigArgs) -> Result<ExitCode> {
    let home = &ctx.paths.home;
    let file = config::file_in_use(home);
    if let Some(ConfigAction::Path) = args.action {
        match &file {
            Some(path) => outln!("{}", path.display())?,
            None => {
                let candidates = config::candidate_files(home);
                let wanted = candidates.first().map(|p| p.display().to_string()).unwrap_or_default();
                outln!("{wanted}")?;
                crate::output::note_line(&format!(
                    "no configuration file yet; lore reads {}",
                    candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", then ")
                ));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let table = config::file_table(file.as_deref())?;
    let vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("LORE_")).collect();
    let settings = settings(&ctx.config, file.as_deref().map(|p| (p, &table)), &vars)?;
    if args.json {
        print_json(&serde_json::json!({
            "library": home,
            "file": file,
            "settings": settings,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    match &file {
        Some(path) => outln!("# the configuration of {} (file: {})", home.display(), path.display())?,
        None => outln!("# the configuration of {} (no configuration file: defaults)", home.display())?,
    }
    let mut section = "";
    for s in &settings {
        if s.section != section {
            outln!("\n[{}]", s.section)?;
            section = &s.section;
        }
        let origin = match (&s.origin, &s.from) {
            (&"env", Some(var)) => format!("env {var}"),
            (&"file", _) => "file".to_string(),
            _ => "default".to_string(),
        };
        if s.value.is_null() {
            outln!("# {} (unset)  # {origin}", s.key)?;
        } else {
            outln!("{} = {}  # {origin}", s.key, toml_text(&s.value))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every value of `cfg`, section by section, with its origin.
fn settings(
    cfg: &config::Config,
    file: Option<(&std::path::Path, &toml::Table)>,
    vars: &[(String, String)],
) -> Result<Vec<Setting>> {
    let mut out = Vec::new();
    let Value::Object(sections) = serde_json::to_value(cfg)? else { return Ok(out) };
    for (section, values) in sections {
        let Value::Object(values) = values else { continue };
        for (key, value) in values {
            let (origin, from) = match config::origin_of(&section, &key, file, vars) {
                Origin::Default => ("default", None),
                Origin::File(p) => ("file", Some(p.display().to_string())),
                Origin::Env(v) => ("env", Some(v)),
            };
            let value = hide_secrets(&key, value);
            out.push(Setting { section: section.clone(), key, value, origin, from });
        }
    }
    Ok(out)
}

/// A value as shown: a key's value hidden, credentials in a URL hidden.
fn hide_secrets(key: &str, value: Value) -> Value {
    match value {
        Value::String(_) if key == "api_key" || key.ends_with("_token") || key.ends_with("password") => {
            Value::String(HIDDEN.into())
        }
        Value::String(s) if s.contains("://") => Value::String(lore_index::redact_url(&s)),
        other => other,
    }
}

/// A JSON value written as TOML (floats as the `f32` they are configured as).
fn toml_text(value: &Value) -> String {
    match value {
        Value::String(s) => toml::Value::String(s.clone()).to_string(),
        Value::Number(n) if n.is_f64() => {
            let text = n.as_f64().map(|f| (f as f32).to_string()).unwrap_or_default();
            if text.contains(['.', 'e', 'i', 'N']) { text } else { format!("{text}.0") }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_names_its_origin_and_secrets_stay_hidden() {
        let file: toml::Table =
            "[search]\nk = 7\n[qdrant]\napi_key = \"sk-file-secret\"\nurl = \"http://u:pw@q:6334\"\n"
                .parse()
                .unwrap();
        let cfg: config::Config = toml::Value::Table(file.clone()).try_into().unwrap();
        let vars = vec![("LORE_LLM_MODEL".to_string(), "m".to_string())];
        let path = std::path::Path::new("/lib/config.toml");
        let all = settings(&cfg, Some((path, &file)), &vars).unwrap();
        let find = |s: &str, k: &str| all.iter().find(|x| x.section == s && x.key == k).unwrap();
        assert_eq!(find("search", "k").origin, "file");
        assert_eq!(find("search", "k").value, serde_json::json!(7));
        assert_eq!(find("llm", "model").origin, "env");
        assert_eq!(find("llm", "model").from.as_deref(), Some("LORE_LLM_MODEL"));
        assert_eq!(find("ingest", "chunk_tokens").origin, "default");
        assert_eq!(find("qdrant", "api_key").value, serde_json::json!(HIDDEN));
        assert_eq!(find("qdrant", "url").value, serde_json::json!("http://<hidden>@q:6334"));
        let shown = serde_json::to_string(&all).unwrap();
        assert!(!shown.contains("sk-file-secret") && !shown.contains("pw@"), "{shown}");
        assert_eq!(toml_text(&serde_json::json!(0.30000001192092896)), "0.3");
        assert_eq!(toml_text(&serde_json::json!(1.0)), "1.0", "a float stays a float in TOML");
    }
}
