//! The optional TOML configuration file (`--config` / `PBX_CONFIG`): its values become the defaults of the flags,
//! so that a flag beats its environment variable, which beats the file.

use std::ffi::OsString;

use anyhow::{Context, bail};
use clap::{ArgMatches, Command};

/// The file named by `--config <path>`, `--config=<path>` or `PBX_CONFIG`, if any.
fn config_path(args: &[OsString]) -> Option<OsString> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--config" {
            return args.next().cloned();
        }
        if let Some(path) = arg.to_str().and_then(|a| a.strip_prefix("--config=")) {
            return Some(path.into());
        }
    }
    std::env::var_os("PBX_CONFIG")
}

/// A TOML value as a flag's value (arrays joined with commas).
fn flag_value(key: &str, value: &toml::Value) -> anyhow::Result<String> {
    Ok(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => {
            items.iter().map(|v| flag_value(key, v)).collect::<anyhow::Result<Vec<_>>>()?.join(",")
        }
        _ => bail!("`{key}` in the configuration file must be a string, a number, a boolean or a list"),
    })
}

/// Parses the command line, with the configuration file's values as defaults.
///
/// # Errors
/// When the file cannot be read, is not TOML, or names a setting that does not exist.
pub fn matches(mut command: Command, args: Vec<OsString>) -> anyhow::Result<ArgMatches> {
    if let Some(path) = config_path(&args) {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the configuration file {}", path.to_string_lossy()))?;
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("the configuration file {} is not valid TOML", path.to_string_lossy()))?;
        let known: Vec<(String, String)> = command
            .get_arguments()
            .filter_map(|a| a.get_long().map(|long| (long.to_owned(), a.get_id().to_string())))
            .filter(|(long, _)| long != "config")
            .collect();
        for (key, value) in &table {
            let long = key.replace('_', "-");
            let Some((_, id)) = known.iter().find(|(l, _)| *l == long) else {
                let names: Vec<&str> = known.iter().map(|(l, _)| l.as_str()).collect();
                bail!("the configuration file sets `{key}`, which is not a setting; known: {}", names.join(", "));
            };
            let value = flag_value(key, value)?;
            command = command.mut_arg(id.clone(), |arg| arg.default_value(clap::builder::OsStr::from(value)));
        }
    }
    Ok(command.try_get_matches_from(args)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::{CommandFactory, FromArgMatches};

    fn parse(args: &[&str]) -> anyhow::Result<Cli> {
        let matches = matches(Cli::command(), args.iter().map(OsString::from).collect())?;
        Ok(Cli::from_arg_matches(&matches)?)
    }

    #[test]
    fn the_file_sets_defaults_that_flags_override() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pbx.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\nrate_limit = 7\ncors-origins = [\"https://a\", \"https://b\"]\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let cli = parse(&["pbx-server", "--config", path]).unwrap();
        assert_eq!(cli.serve.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(cli.serve.rate_limit, 7);
        assert_eq!(cli.serve.cors_origins, ["https://a", "https://b"]);
        let cli = parse(&["pbx-server", "--config", path, "--bind", "127.0.0.1:1"]).unwrap();
        assert_eq!(cli.serve.bind.to_string(), "127.0.0.1:1", "a flag beats the file");
    }

    #[test]
    fn unknown_settings_and_bad_files_are_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pbx.toml");
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        let err = parse(&["pbx-server", "--config", file.to_str().unwrap()]).unwrap_err();
        assert!(err.to_string().contains("`colour`, which is not a setting"), "{err}");
        std::fs::write(&file, "bind = \n").unwrap();
        assert!(parse(&["pbx-server", "--config", file.to_str().unwrap()]).is_err());
        assert!(parse(&["pbx-server", "--config", "/nonexistent.toml"]).is_err());
    }
}
