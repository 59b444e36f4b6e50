//! Outgoing mail (the web app's confirmation links): through SMTP with `lettre` when an SMTP
//! URL is configured, else written as `.eml` files into a directory, so that registering works
//! with nothing installed.

use std::fmt;
use std::path::PathBuf;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where mail goes.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    sink: Sink,
}

#[derive(Clone)]
enum Sink {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The SMTP URL may hold a password: never print it.
        match &self.sink {
            Sink::Smtp(_) => write!(f, "Mailer(SMTP, from {})", self.from),
            Sink::Files(dir) => write!(f, "Mailer(files in {}, from {})", dir.display(), self.from),
        }
    }
}

/// Where a mail went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Smtp,
    File(PathBuf),
}

impl Mailer {
    /// `smtp_url` as lettre reads it: `smtp://host:port` (plain, STARTTLS with
    /// `?tls=required`), `smtps://user:pass@host` (TLS from the start). Without one, each mail
    /// is a file in `dir`, created when the first mail is written.
    pub fn new(smtp_url: Option<&str>, from: &str, dir: PathBuf) -> anyhow::Result<Self> {
        let from = from
            .parse::<Mailbox>()
            .with_context(|| format!("MAIL_FROM is not a mailbox: {from}"))?;
        let sink = match smtp_url.filter(|url| !url.is_empty()) {
            Some(url) => Sink::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("SMTP_URL is not an SMTP URL")?
                    .build(),
            ),
            None => Sink::Files(dir),
        };
        Ok(Self { from, sink })
    }

    /// Files in `dir` from `no-reply@localhost`: for tests and examples.
    pub fn files(dir: PathBuf) -> Self {
        Self::new(None, DEFAULT_FROM, dir).expect("the default sender is a mailbox")
    }

    /// Sends a plain-text mail (lettre picks its encoding: a line over 76 characters, such as
    /// a link, makes it quoted-printable, with soft line breaks `=` CRLF).
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<Sent> {
        let to = to
            .parse::<Mailbox>()
            .with_context(|| format!("not a mailbox: {to}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .context("cannot build the mail")?;
        match &self.sink {
            Sink::Smtp(transport) => {
                transport
                    .send(message)
                    .await
                    .context("SMTP refused the mail")?;
                Ok(Sent::Smtp)
            }
            Sink::Files(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let name = format!(
                    "{}-{}.eml",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
                    uuid::Uuid::new_v4().simple()
                );
                let path = dir.join(name);
                tokio::fs::write(&path, message.formatted())
                    .await
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(Sent::File(path))
            }
        }
    }
}

/// The sender when `MAIL_FROM` is not given.
pub const DEFAULT_FROM: &str = "Chat <no-reply@localhost>";

#[cfg(test)]
mod tests {
    use super::{Mailer, Sent};

    const LINK: &str = "http://chat.example:3000/http/register/\
        0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[tokio::test]
    async fn without_smtp_each_mail_is_an_eml_file() {
        let dir = std::env::temp_dir().join(format!("mail-test-{}", uuid::Uuid::new_v4()));
        let mailer =
            Mailer::new(None, "Chat <no-reply@chat.example>", dir.join("mail")).expect("a mailer");
        let sent = mailer
            .send("dora@example.com", "Confirm", format!("{LINK}\r\n"))
            .await
            .expect("written");
        let Sent::File(path) = sent else {
            panic!("no SMTP is configured: {sent:?}");
        };
        assert_eq!(path.extension().and_then(|e| e.to_str()), Some("eml"));
        let mail = std::fs::read_to_string(&path).expect("the file");
        let unfolded = mail.replace("=\r\n", "");
        assert!(mail.contains("To: dora@example.com"), "{mail}");
        assert!(
            mail.contains("From: Chat <no-reply@chat.example>"),
            "{mail}"
        );
        assert!(mail.contains("Subject: Confirm"), "{mail}");
        assert!(
            unfolded.contains(LINK),
            "the link, soft line breaks undone: {mail}"
        );
        std::fs::remove_dir_all(dir).expect("cleaned up");
    }

    #[test]
    fn bad_settings_are_refused_at_start() {
        assert!(Mailer::new(None, "not a mailbox", "mail".into()).is_err());
        assert!(Mailer::new(Some("http://example.com"), "a@b.example", "mail".into()).is_err());
    }
}
