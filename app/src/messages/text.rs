//! A message's text: checked before it is stored, and shown as plain text with its web
//! addresses made into links (everything else escaped by the renderer).

/// The longest message, in characters.
pub const MAX_CHARS: usize = 4000;

/// Why a message cannot be sent (a stable code, shown translated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    Empty,
    TooLong,
}

impl BodyError {
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "message_empty",
            Self::TooLong => "message_too_long",
        }
    }
}

/// The text as it is stored: line breaks as `\n`, no other control characters, no blank
/// lines at either end; refused when nothing is left or it is too long.
pub fn clean(body: &str) -> Result<String, BodyError> {
    let text = strip_invisible(body);
    let text = text.trim();
    if text.is_empty() {
        return Err(BodyError::Empty);
    }
    if text.chars().count() > MAX_CHARS {
        return Err(BodyError::TooLong);
    }
    Ok(text.to_owned())
}

/// A free-text field (a note, a comment) checked as [`clean`] checks a message: refused with
/// `empty` as its reason when nothing is left, and with the message's own reason when too long.
pub fn clean_field(text: &str, field: &str, empty: &str) -> Result<String, crate::error::AppError> {
    clean(text).map_err(|e| match e {
        BodyError::Empty => crate::error::invalid(field, empty),
        BodyError::TooLong => crate::error::invalid(field, e.code()),
    })
}

/// Text as it may be stored and shown: line breaks as `\n`, and no control characters or
/// invisible direction marks (which can make a link read as another).
pub fn strip_invisible(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

/// A piece of a message as shown: text, or a web address to link to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Link(String),
}

/// Splits a message into text and `https://` (or `http://`) addresses. An address ends at
/// white space or `<`, `>`, `"`; a closing punctuation mark right after it is left as text.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = next_address(rest) {
        let (before, from) = rest.split_at(start);
        let end = from
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(from.len());
        let mut address = &from[..end];
        while let Some(last) = address.chars().last() {
            if matches!(last, '.' | ',' | ')' | '!' | '?' | ';' | ':' | '"' | '\'') {
                address = &address[..address.len() - last.len_utf8()];
            } else {
                break;
            }
        }
        if !before.is_empty() {
            out.push(Piece::Text(before.to_owned()));
        }
        let scheme_only = address == "https://" || address == "http://";
        if scheme_only {
            out.push(Piece::Text(address.to_owned()));
        } else {
            out.push(Piece::Link(address.to_owned()));
        }
        rest = &from[address.len()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_owned()));
    }
    out
}

fn next_address(text: &str) -> Option<usize> {
    [text.find("https://"), text.find("http://")]
        .into_iter()
        .flatten()
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_cleaned_and_bounded() {
        assert_eq!(
            clean("  Hej!\r\nHur mår du?\u{7}  "),
            Ok("Hej!\nHur mår du?".to_owned())
        );
        assert_eq!(clean(" \n\t "), Err(BodyError::Empty));
        assert_eq!(clean("a\u{202e}b\u{2066}c\0"), Ok("abc".to_owned()));
        assert_eq!(
            clean(&"å".repeat(MAX_CHARS)).map(|t| t.chars().count()),
            Ok(MAX_CHARS)
        );
        assert_eq!(clean(&"å".repeat(MAX_CHARS + 1)), Err(BodyError::TooLong));
    }

    #[test]
    fn addresses_become_links_and_the_rest_stays_text() {
        assert_eq!(
            pieces("Läs https://www.1177.se/oro. Eller <b>http://x.se</b>"),
            vec![
                Piece::Text("Läs ".to_owned()),
                Piece::Link("https://www.1177.se/oro".to_owned()),
                Piece::Text(". Eller <b>".to_owned()),
                Piece::Link("http://x.se".to_owned()),
                Piece::Text("</b>".to_owned()),
            ]
        );
        assert_eq!(
            pieces("inga länkar"),
            vec![Piece::Text("inga länkar".to_owned())]
        );
        assert_eq!(
            pieces("bara https://"),
            vec![
                Piece::Text("bara ".to_owned()),
                Piece::Text("https://".to_owned())
            ]
        );
        assert_eq!(
            pieces("javascript:alert(1)"),
            vec![Piece::Text("javascript:alert(1)".to_owned())]
        );
    }
}
