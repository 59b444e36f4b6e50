//! Registration confirmed by email: `POST /http/register` keeps the account pending in
//! auth-service and mails the link `{PUBLIC_URL}/http/register/<token>` (SMTP, or an `.eml`
//! file without one); `GET /http/register/<token>` creates the account and every online user
//! gets `user_update`. The gateway sends the mail: it knows the public URL and the dialect's
//! link; auth-service owns the pending registration and its token, stored only hashed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chat_proto::auth::{ConfirmRegistrationRequest, StartRegistrationRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::announce;
use super::error::{ErrorJson, WebappError};
use super::input::Data;
use crate::mail::Sent;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[schema(as = webapp::Registration)]
pub struct Registration {
    /// The email the link is sent to; it is the login (and the username) of the account.
    #[schema(min_length = 1, max_length = 64)]
    email: String,
    #[schema(min_length = 1, max_length = 256)]
    password: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = webapp::RegistrationPending)]
pub struct RegistrationPending {
    /// Always `true`: the mail is sent.
    success: bool,
    email: String,
    /// When the link stops working, ISO 8601.
    expires_at: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = webapp::RegistrationConfirmed)]
pub struct RegistrationConfirmed {
    /// Always `true`: the account exists; log in with `POST /http/login`.
    success: bool,
    /// The new user's id (a number).
    user_id: i64,
    email: String,
    first_name: String,
    last_name: String,
}

#[utoipa::path(post, path = "/http/register", tag = "webapp",
    summary = "Register: a confirmation link is mailed to the email",
    description = "The account waits for the confirmation; registering an unconfirmed email \
        again mails a new link (the old one stops working). The link works once, for 24 hours.",
    operation_id = "webapp_register", request_body = Registration,
    responses((status = 200, description = "the registration is pending and the mail sent",
            body = RegistrationPending),
        (status = 400, description = "`invalid_json` or `invalid_data`: a body that does not \
            parse, a missing field, a malformed email, an empty password", body = ErrorJson),
        (status = 409, description = "`email_taken`: a user has this email", body = ErrorJson),
        (status = 503, description = "`mail_unavailable`: the mail could not be sent; \
            registering again sends a new one", body = ErrorJson)))]
pub async fn register(
    State(state): State<AppState>,
    Data(registration): Data<Registration>,
) -> Result<Json<RegistrationPending>, WebappError> {
    let pending = state
        .services
        .auth
        .clone()
        .start_registration(StartRegistrationRequest {
            email: registration.email,
            password: registration.password,
            first_name: registration.first_name,
            last_name: registration.last_name,
        })
        .await?
        .into_inner();
    let link = format!(
        "{}/http/register/{}",
        state.options.public_base, pending.token
    );
    let body = format!(
        "Welcome!\r\n\r\nOpen this link to confirm your email and create your account:\r\n\r\n\
         {link}\r\n\r\nThe link works once, for 24 hours. If you did not register, ignore this \
         mail.\r\n"
    );
    match state
        .options
        .mailer
        .send(&pending.email, "Confirm your registration", body)
        .await
    {
        Ok(Sent::Smtp) => tracing::info!("confirmation mail sent"),
        Ok(Sent::File(path)) => {
            tracing::info!(file = %path.display(), %link, "confirmation mail written (no SMTP configured)");
        }
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "cannot send the confirmation mail");
            return Err(WebappError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "mail_unavailable",
                "the confirmation mail could not be sent; register again to retry",
            ));
        }
    }
    Ok(Json(RegistrationPending {
        success: true,
        email: pending.email,
        expires_at: super::time::format(pending.expires_at_ms),
    }))
}

#[utoipa::path(get, path = "/http/register/{token}", tag = "webapp",
    summary = "Confirm a registration: the link of the mail creates the account",
    description = "Every online user gets `user_update` with the new user.",
    operation_id = "webapp_confirm_registration",
    params(("token" = String, Path, description = "the token of the mailed link")),
    responses((status = 200, description = "the account is created", body = RegistrationConfirmed),
        (status = 404, description = "`registration_not_found`: the link is unknown, already \
            used or expired", body = ErrorJson),
        (status = 409, description = "`email_taken` or `username_taken`: the email was taken \
            since", body = ErrorJson)))]
pub async fn confirm_registration(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<RegistrationConfirmed>, WebappError> {
    let user = state
        .services
        .auth
        .clone()
        .confirm_registration(ConfirmRegistrationRequest { token })
        .await?
        .into_inner();
    announce::user_updated(&state, &user).await;
    Ok(Json(RegistrationConfirmed {
        success: true,
        user_id: user.number,
        email: user.email,
        first_name: user.first_name,
        last_name: user.last_name,
    }))
}
