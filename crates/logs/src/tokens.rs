//! The tokens of GetLogEvents, as CloudWatch Logs spells them: `f/<digits>` to read
//! forward from a position of the stream and `b/<digits>` to read backward from it.
//! A position is a sequence number of the stream: `f/N` reads the events at and after
//! N, `b/N` the events before N. Clients compare tokens to find the end of a stream
//! (the answer carries the token they passed when there is nothing further), so the
//! encoding of a position is fixed: 56 digits, zero-padded, as AWS's tokens are long.

use crate::protocol::LogsError;

/// Digits of the position in a token.
const POSITION_DIGITS: usize = 56;

/// A GetLogEvents token: a direction and a position in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventToken {
    /// Read the events at and after this sequence, oldest first.
    Forward(u64),
    /// Read the events before this sequence, newest first (answered oldest first).
    Backward(u64),
}

impl EventToken {
    /// Reads a token a client passed as `nextToken`.
    pub fn parse(text: &str) -> Result<Self, LogsError> {
        let invalid = || LogsError::InvalidParameter("The specified nextToken is invalid.".into());
        let (make, digits): (fn(u64) -> Self, &str) = if let Some(rest) = text.strip_prefix("f/") {
            (EventToken::Forward, rest)
        } else if let Some(rest) = text.strip_prefix("b/") {
            (EventToken::Backward, rest)
        } else {
            return Err(invalid());
        };
        if digits.is_empty()
            || digits.len() > POSITION_DIGITS
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        digits.parse().map(make).map_err(|_| invalid())
    }

    /// The token's text.
    pub fn encode(&self) -> String {
        match self {
            EventToken::Forward(position) => format!("f/{position:0POSITION_DIGITS$}"),
            EventToken::Backward(position) => format!("b/{position:0POSITION_DIGITS$}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_with_fixed_width() {
        for token in [
            EventToken::Forward(0),
            EventToken::Forward(250),
            EventToken::Backward(u64::MAX),
        ] {
            let text = token.encode();
            assert_eq!(text.len(), 2 + POSITION_DIGITS);
            assert_eq!(EventToken::parse(&text), Ok(token));
        }
        assert_eq!(
            EventToken::Forward(7).encode(),
            format!("f/{}7", "0".repeat(55))
        );
    }

    #[test]
    fn malformed_tokens_are_invalid_parameters() {
        let too_long = format!("f/{}", "1".repeat(57));
        let too_big = format!("f/{}", "9".repeat(30));
        for bad in [
            "", "f/", "x/1", "f/-1", "f/1a", "b/ 1", "f/١", &too_long, &too_big,
        ] {
            assert_eq!(
                EventToken::parse(bad).map_err(|e| e.code()),
                Err("InvalidParameterException"),
                "{bad:?}"
            );
        }
    }
}
