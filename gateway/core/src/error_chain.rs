//! An error as an operator needs to read it: with its causes. HTTP clients' errors say only
//! what failed (`error sending request for url (...)`); the cause that tells Coupa being down
//! from a DNS, TLS or proxy problem (`Connection refused (os error 111)`, `dns error`,
//! `invalid peer certificate`) is in the error's `source()` chain, which `Display` leaves out.

/// `error` followed by each of its causes, `: `-separated, each once: a cause whose text the
/// message already holds (libraries often repeat their source in their own text) is skipped.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    // Bounded: a chain is a few links; a cyclic or endless one must not hang a log line.
    for _ in 0..8 {
        let Some(c) = cause else { break };
        let said = c.to_string();
        if !said.is_empty() && !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1
                .as_deref()
                .map(|l| l as &(dyn std::error::Error + 'static))
        }
    }

    #[test]
    fn causes_follow_the_message_each_once() {
        let e = Layer(
            "error sending request",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer("Connection refused (os error 111)", None))),
            ))),
        );
        assert_eq!(
            with_causes(&e),
            "error sending request: client error (Connect): Connection refused (os error 111)"
        );
        let repeated = Layer(
            "tcp connect error: Connection refused",
            Some(Box::new(Layer("Connection refused", None))),
        );
        assert_eq!(
            with_causes(&repeated),
            "tcp connect error: Connection refused"
        );
    }
}
