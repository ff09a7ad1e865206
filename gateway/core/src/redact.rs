//! URLs as they may be shown: a supplier's or Coupa's address can carry a secret (a password
//! in `user:password@`, a token in its query string), and every log line, ledger row and dead
//! letter reason that names where a document went would repeat it. The request itself goes to
//! the real URL; only what is written down is redacted, always by [`redact_url`].

/// What replaces a secret.
const HIDDEN: &str = "***";

/// `url` with what may be a secret replaced by `***`: the password of its userinfo (a user
/// name without a password is hidden whole, since it is often a token), the value of each
/// query parameter (a parameter without `=` whole) and the fragment. The scheme, host, port,
/// path and parameter names stay, so the operator still sees where it went:
/// `http://svc:pw@host/po?token=t&x` becomes `http://svc:***@host/po?token=***&***`.
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
            out.push_str(path);
        }
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

#[cfg(test)]
mod tests {
    use super::redact_url;

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
}
