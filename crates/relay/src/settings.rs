//! The relay's settings file (`--config FILE`, or `TSUNAGI_CONFIG`): TOML whose keys are
//! the long flags' names (`listen`, `public-url` or `public_url`, `database`, …).
//!
//! A setting is used only where neither its flag nor its environment variable is given:
//! flag, then environment, then file, then the built-in default. The file's settings go
//! through the same parser as flags, so a bad value gets the flag's own error. A key that
//! no command takes is an error; one that another command takes is left to that command.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};

/// `args` (the program's name first) with the settings file's values added as flags, for
/// those the command line and the environment leave unset.
pub(crate) fn with_file(args: Vec<OsString>, cli: &clap::Command) -> Result<Vec<OsString>> {
    let Some(file) = config_file(&args) else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("reading the settings file {}", file.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", file.display()))?;
    let command = chosen(&args, cli);
    let mut args = args;
    let mut added = Vec::new();
    for (key, value) in table {
        let name = key.replace('_', "-");
        if name == "config" {
            bail!("{}: `config` cannot name another file", file.display());
        }
        let Some(arg) = command
            .get_arguments()
            .find(|a| a.get_long() == Some(name.as_str()))
        else {
            if !takes(cli, &name) {
                bail!(
                    "{}: no command takes a setting `{key}` (the settings are the long flags' names, as `tsunagi-relay help serve` lists them)",
                    file.display()
                );
            }
            continue;
        };
        let on_command_line = args.iter().any(|a| {
            a.to_str()
                .is_some_and(|a| a == format!("--{name}") || a.starts_with(&format!("--{name}=")))
        });
        let in_environment = arg
            .get_env()
            .is_some_and(|env| std::env::var_os(env).is_some());
        if on_command_line || in_environment {
            continue;
        }
        let value = match value {
            toml::Value::String(text) => text,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => bail!(
                "{}: `{key}` must be a string or a number, not {}",
                file.display(),
                other.type_str()
            ),
        };
        added.push(OsString::from(format!("--{name}")));
        added.push(OsString::from(value));
    }
    args.extend(added);
    Ok(args)
}

/// `--config FILE`, `--config=FILE`, or `TSUNAGI_CONFIG`.
fn config_file(args: &[OsString]) -> Option<PathBuf> {
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else { continue };
        if text == "--config" {
            return rest.next().map(PathBuf::from);
        }
        if let Some(file) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(file));
        }
    }
    std::env::var_os("TSUNAGI_CONFIG").map(PathBuf::from)
}

/// The (sub)command the arguments name: `serve`, or `channel add`.
fn chosen<'a>(args: &[OsString], cli: &'a clap::Command) -> &'a clap::Command {
    let mut command = cli;
    let mut rest = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = rest.next() {
        if let Some(long) = arg.strip_prefix("--") {
            // A flag's value is not a subcommand's name.
            let takes_value = command
                .get_arguments()
                .find(|a| a.get_long() == Some(long))
                .is_some_and(|a| a.get_action().takes_values());
            if takes_value {
                rest.next();
            }
            continue;
        }
        match command.find_subcommand(arg) {
            Some(sub) => command = sub,
            None => break,
        }
    }
    command
}

/// Whether `command` or any of its subcommands takes `--name`.
fn takes(command: &clap::Command, name: &str) -> bool {
    command.get_arguments().any(|a| a.get_long() == Some(name))
        || command.get_subcommands().any(|sub| takes(sub, name))
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::*;

    fn args(text: &str) -> Vec<OsString> {
        text.split(' ').map(OsString::from).collect()
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    fn merged(command_line: &str, settings: &str) -> Result<Vec<String>> {
        let settings = file(settings);
        let command_line = format!("{command_line} --config {}", settings.path().display());
        Ok(with_file(args(&command_line), &crate::Cli::command())?
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect())
    }

    #[test]
    fn a_setting_fills_in_a_flag_the_command_line_leaves_out() {
        let merged = merged(
            "tsunagi-relay serve --listen 127.0.0.1:1",
            "listen = \"0.0.0.0:8080\"\npublic_url = \"https://relay.example\"\nexecutor-lease = \"5s\"",
        )
        .unwrap();
        let mut added: Vec<(&str, &str)> = merged[6..]
            .chunks(2)
            .map(|pair| (pair[0].as_str(), pair[1].as_str()))
            .collect();
        added.sort_unstable();
        assert_eq!(
            added,
            [
                ("--executor-lease", "5s"),
                ("--public-url", "https://relay.example")
            ],
            "the command line's --listen wins"
        );
    }

    #[test]
    fn settings_of_other_commands_are_left_to_them_and_unknown_ones_refused() {
        let added = merged(
            "tsunagi-relay invite --channel 1 --role staff",
            "listen = \"0.0.0.0:8080\"\ndata = \"/var/lib/tsunagi-relay\"",
        )
        .unwrap();
        assert_eq!(
            added[added.len() - 2..],
            ["--data", "/var/lib/tsunagi-relay"]
        );
        assert!(!added.contains(&"--listen".to_owned()));

        let error = merged("tsunagi-relay serve", "lisen = \"0.0.0.0:8080\"").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("no command takes a setting `lisen`"),
            "{error}"
        );
        let error = merged("tsunagi-relay serve", "listen = [1]").unwrap_err();
        assert!(
            error.to_string().contains("must be a string or a number"),
            "{error}"
        );
        let error = merged("tsunagi-relay serve", "listen = ").unwrap_err();
        assert!(error.to_string().contains("is not valid TOML"), "{error}");
    }

    #[test]
    fn the_example_settings_file_is_one_serve_takes() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/relay/relay.toml");
        let args = args(&format!(
            "tsunagi-relay serve --data /tmp/d --config {example}"
        ));
        let merged = with_file(args, &crate::Cli::command()).unwrap();
        let cli = crate::Cli::try_parse_from(merged).unwrap();
        let crate::Command::Serve { listen, .. } = cli.command else {
            panic!("not serve")
        };
        assert_eq!(listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn the_subcommand_is_found_past_global_flags() {
        let cli = crate::Cli::command();
        assert_eq!(
            chosen(&args("r --config f channel add --id 1"), &cli).get_name(),
            "add"
        );
        assert_eq!(
            chosen(&args("r serve --listen x"), &cli).get_name(),
            "serve"
        );
    }
}
