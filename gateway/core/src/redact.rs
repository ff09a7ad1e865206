//! URLs as they may be shown: a supplier's or Coupa's address can carry a secret (a password
//! in `user:password@`, a token in its query string, or in its path, as webhook-style URLs
//! have it), and every log line, ledger row and dead letter reason that names where a document
//! went would repeat it. The request itself goes to the real URL; only what is written down is
//! redacted, always by [`redact_url`].

/// What replaces a secret.
const HIDDEN: &str = "***";

/// `url` with what may be a secret replaced by `***`: the password of its userinfo (a user
/// name without a password is hidden whole, since it is often a token), each path segment that
/// looks like a token ([`looks_like_a_token`]), the value of each query parameter (a parameter
/// without `=` whole) and the fragment. The scheme, host, port, the other path segments and
/// parameter names stay, so the operator still sees where it went:
/// `http://svc:pw@host/po?token=t&x` becomes `http://svc:***@host/po?token=***&***`, and
/// `https://hooks.example.com/services/T0123/B0456/XyZ9aBcDeFgHiJkLmNoPqRsT` becomes
/// `https://hooks.example.com/services/T0123/B0456/***`.
/// A path alone (`/po/<token>?k=v`, a relative `Location`) is redacted as a URL's path is.
/// Text that is not a URL comes back as it is, except for a `?` or `#` part.
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (before_fragment, None),
    };
    let mut out = String::with_capacity(url.len());
    match before_query.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            out.push_str(user);
                            out.push(':');
                            out.push_str(HIDDEN);
                        }
                        None => out.push_str(HIDDEN),
                    }
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            push_path(&mut out, path);
        }
        // A reference without scheme and host (a relative `Location`) is a path.
        None if before_query.starts_with('/') => push_path(&mut out, before_query),
        None => out.push_str(before_query),
    }
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, "")) => {
                    out.push_str(name);
                    out.push('=');
                }
                Some((name, _value)) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(HIDDEN);
                }
                None if pair.is_empty() => {}
                None => out.push_str(HIDDEN),
            }
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        if !fragment.is_empty() {
            out.push_str(HIDDEN);
        }
    }
    out
}

/// A path segment this long or longer that mixes letters and digits is taken for a token.
const TOKEN_MIXED_LEN: usize = 16;

/// A path segment this long or longer is taken for a token whatever it holds: few names are,
/// and a random token may happen to have no digit.
const TOKEN_ANY_LEN: usize = 32;

/// Whether a URL path segment (as written, percent escapes included) may be a secret, so it is
/// shown as `***`: webhook-style URLs carry their credential as a segment
/// (`/services/T0123/B0456/XyZ9aBcDeFgHiJkLmNoPqRsT`, `/po/8f14e45fceea167a5a36dedd4bea2543`).
/// The rule: a segment of [`TOKEN_MIXED_LEN`] (16) characters or more holding at least one
/// ASCII letter and one ASCII digit, or of [`TOKEN_ANY_LEN`] (32) characters or more whatever
/// it holds (a UUID included). A percent escape (`%20`) counts as one character and as neither
/// letter nor digit, so an escaped name is judged by its own characters. Names of resources
/// (`cxml`, `purchase_orders`, `v2`, `orders-2024`) and short ids (`T0123`, `12345`) stay
/// readable; a long name with a digit (`purchase_orders_2024_v2`) is hidden too, the price of
/// never showing a token.
pub fn looks_like_a_token(segment: &str) -> bool {
    let (mut chars, mut letters, mut digits) = (0usize, false, false);
    let mut rest = segment.chars();
    while let Some(c) = rest.next() {
        chars += 1;
        if c == '%' {
            let escape = rest.clone().take(2);
            if escape.clone().count() == 2 && escape.clone().all(|h| h.is_ascii_hexdigit()) {
                rest.nth(1);
            }
            continue;
        }
        letters |= c.is_ascii_alphabetic();
        digits |= c.is_ascii_digit();
    }
    chars >= TOKEN_ANY_LEN || (chars >= TOKEN_MIXED_LEN && letters && digits)
}

/// Appends `path` (empty or starting with `/`) to `out`, each segment that
/// [`looks_like_a_token`] as `***`.
fn push_path(out: &mut String, path: &str) {
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if looks_like_a_token(segment) {
            out.push_str(HIDDEN);
        } else {
            out.push_str(segment);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{looks_like_a_token, redact_url};

    #[test]
    fn hides_passwords_tokens_and_fragments_and_keeps_where_it_went() {
        for (url, shown) in [
            (
                "http://svc:HTTP-PASSWORD-123@127.0.0.1:18626/np-cred?token=URLTOKEN-456",
                "http://svc:***@127.0.0.1:18626/np-cred?token=***",
            ),
            ("https://ghp_TOKEN@host/po", "https://***@host/po"),
            (
                "https://host/po?a=1&b=&flag&c=x=y#frag",
                "https://host/po?a=***&b=&***&c=***#***",
            ),
            (
                "https://a:b@c@host:8443/p@th?x=1",
                "https://a:***@host:8443/p@th?x=***",
            ),
            (
                "https://supplier.example/cxml",
                "https://supplier.example/cxml",
            ),
            ("http://host?q=1", "http://host?q=***"),
            ("not a url", "not a url"),
            ("", ""),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    /// Webhook-style URLs carry their secret as a path segment: it is hidden, and the segments
    /// around it, the host and the rest of the redaction stay as they were.
    #[test]
    fn hides_a_token_in_the_path_and_keeps_the_path_around_it() {
        for (url, shown) in [
            (
                "https://hooks.example.com/services/T0123/B0456/XyZ9aBcDeFgHiJkLmNoPqRsT",
                "https://hooks.example.com/services/T0123/B0456/***",
            ),
            (
                "https://h/po/8f14e45fceea167a5a36dedd4bea2543",
                "https://h/po/***",
            ),
            (
                "https://h/po/8f14e45fceea167a5a36dedd4bea2543/cxml?token=t#f",
                "https://h/po/***/cxml?token=***#***",
            ),
            (
                "http://svc:pw@h:8080/hook/550e8400-e29b-41d4-a716-446655440000/",
                "http://svc:***@h:8080/hook/***/",
            ),
            (
                "https://h/k/abcdefghijklmnopqrstuvwxyzABCDEF",
                "https://h/k/***",
            ),
            ("https://h/cxml/orders/v2", "https://h/cxml/orders/v2"),
            (
                "https://h/api/purchase_orders",
                "https://h/api/purchase_orders",
            ),
            ("https://h/b2b/orders/12345/", "https://h/b2b/orders/12345/"),
            (
                "https://h/Orders-2024/IncomingWebhook",
                "https://h/Orders-2024/IncomingWebhook",
            ),
            (
                "amqp://guest:secret@127.0.0.1:5672/%2f",
                "amqp://guest:***@127.0.0.1:5672/%2f",
            ),
            ("https://h//x", "https://h//x"),
            ("/po/8f14e45fceea167a5a36dedd4bea2543?k=v", "/po/***?k=***"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    /// The rule at its edges: 16 characters mixing letters and digits, 32 of anything; a
    /// percent escape is one character, neither letter nor digit.
    #[test]
    fn a_token_is_long_and_mixes_letters_and_digits_or_is_very_long() {
        assert!(looks_like_a_token("abcdefghijklmno1"));
        assert!(!looks_like_a_token("abcdefghijklmn1"), "15 characters");
        assert!(!looks_like_a_token("abcdefghijklmnop"), "no digit");
        assert!(!looks_like_a_token("1234567890123456"), "no letter");
        assert!(looks_like_a_token(&"a".repeat(32)));
        assert!(!looks_like_a_token(&"a".repeat(31)));
        assert!(
            !looks_like_a_token("purchase%20order%20form"),
            "19 characters, and the escapes' digits are none"
        );
        assert!(!looks_like_a_token(
            "%41%42%43%44%45%46%47%48%49%4A%4B%4C%4D%4E%4F%50"
        ));
        assert!(
            looks_like_a_token("%ZZabcdefghijklm1"),
            "a bare % is a character"
        );
        assert!(!looks_like_a_token(""));
    }
}
