//! A TOML error in words and a place, without the excerpt of the file `toml` prints with it:
//! that excerpt is the line at fault, and a line at fault in a configuration or profile is
//! often the one holding a secret (`client_secret = "...` missing its closing quote printed
//! the secret on standard error).

/// `line L, column C: <what toml says>` for an error found in `text`; the message alone when
/// the error has no place in it.
pub fn toml_error_in_words(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_place_is_given_and_the_line_at_fault_is_not_printed() {
        let text = "[coupa]\nclient_id = \"gw\"\nclient_secret = \"CANARY-SECRET-77\n";
        let Err(e) = toml::from_str::<toml::Table>(text) else {
            panic!("parsed");
        };
        assert!(
            e.to_string().contains("CANARY-SECRET-77"),
            "toml prints the line"
        );
        let said = toml_error_in_words(&e, text);
        assert!(!said.contains("CANARY"), "{said}");
        assert!(said.starts_with("line 3, column "), "{said}");
    }
}
