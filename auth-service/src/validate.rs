//! Checks on what clients send, before anything is stored. Letters of any script are welcome.

use crate::error::AuthError;

pub const MAX_USERNAME_CHARS: usize = 64;
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MAX_EMAIL_CHARS: usize = 254;
/// Names, device ids, platforms and other free text.
pub const MAX_TEXT_CHARS: usize = 256;

fn invalid(message: impl Into<String>) -> AuthError {
    AuthError::Validation(message.into())
}

/// What starts the username of a service account (a bot), and no other account's.
pub const SERVICE_ACCOUNT_PREFIX: &str = "bot:";

/// A person's username: any script, no spaces, not a service account's.
pub fn username(username: &str) -> Result<(), AuthError> {
    if crate::model::fold(username).starts_with(SERVICE_ACCOUNT_PREFIX) {
        return Err(invalid(format!(
            "a username must not start with {SERVICE_ACCOUNT_PREFIX:?} (service accounts' names)"
        )));
    }
    any_username(username)
}

/// A service account's username: `bot:` and a name.
pub fn service_account_username(username: &str) -> Result<(), AuthError> {
    if !crate::model::fold(username).starts_with(SERVICE_ACCOUNT_PREFIX)
        || username.chars().count() <= SERVICE_ACCOUNT_PREFIX.len()
    {
        return Err(invalid(format!(
            "a service account's username is {SERVICE_ACCOUNT_PREFIX:?} and a name"
        )));
    }
    any_username(username)
}

fn any_username(username: &str) -> Result<(), AuthError> {
    let length = username.chars().count();
    if !(1..=MAX_USERNAME_CHARS).contains(&length) {
        return Err(invalid(format!(
            "username must be 1 to {MAX_USERNAME_CHARS} characters"
        )));
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(
            "username must not contain spaces or control characters",
        ));
    }
    Ok(())
}

/// A username or email a login names: no stored one holds a control character (registration
/// refuses them), and Postgres cannot even compare text holding NUL, so such a name is the
/// client's mistake, not a lookup.
pub fn login_name(field: &str, name: &str) -> Result<(), AuthError> {
    if name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

pub fn password(password: &str) -> Result<(), AuthError> {
    let length = password.chars().count();
    if !(1..=MAX_PASSWORD_CHARS).contains(&length) {
        return Err(invalid(format!(
            "password must be 1 to {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// An optional email: empty means none.
pub fn email(email: &str) -> Result<Option<&str>, AuthError> {
    if email.is_empty() {
        return Ok(None);
    }
    let well_formed = email.chars().count() <= MAX_EMAIL_CHARS
        && email.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !well_formed {
        return Err(invalid("email is not a valid address"));
    }
    Ok(Some(email))
}

/// Free text such as a first name or a device model.
pub fn text(field: &str, value: &str) -> Result<(), AuthError> {
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(format!(
            "{field} must be at most {MAX_TEXT_CHARS} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// Most characters of a platform's own user id, chat id or name.
pub const MAX_PLATFORM_ID_CHARS: usize = 128;

/// A platform's own id of a user or chat, or a platform's name: `[a-zA-Z0-9.-]`, as seed 002
/// writes them, case-sensitive.
pub fn platform_id(field: &str, value: &str) -> Result<(), AuthError> {
    let fits = (1..=MAX_PLATFORM_ID_CHARS).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if fits {
        Ok(())
    } else {
        Err(invalid(format!(
            "{field} must be 1 to {MAX_PLATFORM_ID_CHARS} of [a-zA-Z0-9.-]"
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn usernames_of_any_script_pass_and_spaces_do_not() {
        assert!(super::username("Вася").is_ok());
        assert!(super::username("李小龙").is_ok());
        assert!(super::username("").is_err());
        assert!(super::username("va sya").is_err());
        assert!(super::username(&"я".repeat(64)).is_ok());
        assert!(super::username(&"я".repeat(65)).is_err());
    }

    #[test]
    fn only_service_accounts_are_named_bot_colon() {
        assert!(super::username("bot:assistant").is_err());
        assert!(super::username("BOT:x").is_err());
        assert!(super::username("robot:x").is_ok());
        assert!(super::service_account_username("bot:assistant").is_ok());
        assert!(super::service_account_username("bot:").is_err());
        assert!(super::service_account_username("assistant").is_err());
    }

    #[test]
    fn login_names_with_control_characters_do_not_pass() {
        assert!(super::login_name("username", "Вася").is_ok());
        assert!(super::login_name("email", "vasya@example.com").is_ok());
        assert!(super::login_name("username", "va\0sya").is_err());
        assert!(super::login_name("email", "vasya\u{7}@example.com").is_err());
    }

    #[test]
    fn short_passwords_pass_and_empty_ones_do_not() {
        assert!(super::password("0000").is_ok());
        assert!(super::password("").is_err());
    }

    #[test]
    fn emails_are_optional_but_need_an_at_sign() {
        assert_eq!(super::email("").ok(), Some(None));
        assert!(super::email("vasya@example.com").is_ok());
        assert!(super::email("vasya").is_err());
    }
}
