//! The stable error codes the services answer with and the gateway reads: one enum, sent as its
//! snake_case name in the `x-error-code` metadata of a gRPC status. Services attach a code with
//! [`ErrorCode::attach`]; the gateway reads it with [`ErrorCode::of`] and each client dialect
//! maps the variants to its own codes and statuses in one table. Nothing matches these names as
//! strings across crates.

use tonic::metadata::MetadataValue;

/// The metadata key of a status's code.
pub const METADATA_KEY: &str = "x-error-code";

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// Every code a service may answer with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The snake_case name clients see.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            /// The code named `name`, if it is one.
            pub fn parse(name: &str) -> Option<ErrorCode> {
                match name {
                    $($name => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// A request that breaks a rule (length, characters, range, shape).
    ValidationFailed = "validation_failed",
    UsernameTaken = "username_taken",
    EmailTaken = "email_taken",
    UserNotFound = "user_not_found",
    WrongCredentials = "wrong_credentials",
    TooManyAttempts = "too_many_attempts",
    InvalidToken = "invalid_token",
    TokenExpired = "token_expired",
    ConnectionNotFound = "connection_not_found",
    SessionNotFound = "session_not_found",
    InvalidApiKey = "invalid_api_key",
    RefreshTokenReused = "refresh_token_reused",
    BadSignature = "bad_signature",
    NoPublicKey = "no_public_key",
    KeyNotFound = "key_not_found",
    RegistrationNotFound = "registration_not_found",
    ConversationNotFound = "conversation_not_found",
    MessageNotFound = "message_not_found",
    NotAMember = "not_a_member",
    Forbidden = "forbidden",
    WrongConversationKind = "wrong_conversation_kind",
    ExternalIdTaken = "external_id_taken",
    /// Storage or a dependency cannot be reached now; the caller may try again.
    ServiceUnavailable = "service_unavailable",
    /// A fault of the service; its cause is logged there, never sent.
    Internal = "internal",
}

impl ErrorCode {
    /// Puts this code in `status`'s metadata.
    pub fn attach(self, status: &mut tonic::Status) {
        status
            .metadata_mut()
            .insert(METADATA_KEY, MetadataValue::from_static(self.as_str()));
    }

    /// The code a service put in `status`, if any (a newer service's unknown code is none).
    pub fn of(status: &tonic::Status) -> Option<ErrorCode> {
        let name = status.metadata().get(METADATA_KEY)?.to_str().ok()?;
        ErrorCode::parse(name)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_travels_in_a_status_and_back() {
        for &code in ErrorCode::ALL {
            let mut status = tonic::Status::internal("x");
            code.attach(&mut status);
            assert_eq!(ErrorCode::of(&status), Some(code));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::of(&tonic::Status::internal("no code")), None);
    }
}
