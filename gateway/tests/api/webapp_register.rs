//! The web-app document's registration (step 1) on two replicas, with a real SMTP server
//! receiving the confirmation mail: `scripts/smtp-sink.sh` (PyPI's aiosmtpd, in a venv the
//! script creates) started by the test, the link read out of the mail it stored.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, spawn_stack_mailing};
use crate::webapp_client::{Web, until};

backend_tests!(registration_is_confirmed_by_the_link_of_a_real_mail);

/// The SMTP server, killed when dropped (the 17-step replay uses it too).
pub struct SmtpSink {
    child: Child,
    pub url: String,
    maildir: PathBuf,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// Installing aiosmtpd on the first run takes a while.
const SINK_START: Duration = Duration::from_secs(180);

/// Starts the sink on a free port; `None` (the test skips) when it cannot start, unless
/// `TESTS_REQUIRE_SERVICES=1`, where that fails the test loudly.
pub fn start_smtp_sink() -> Option<SmtpSink> {
    let required = std::env::var("TESTS_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    match try_start_smtp_sink() {
        Ok(sink) => Some(sink),
        Err(problem) if required => {
            panic!("TESTS_REQUIRE_SERVICES=1 and the SMTP sink cannot start: {problem}")
        }
        Err(problem) => {
            eprintln!("skipped: the SMTP sink cannot start: {problem}");
            None
        }
    }
}

fn try_start_smtp_sink() -> Result<SmtpSink, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let maildir = std::env::temp_dir().join(format!("smtp-sink-{}", uuid::Uuid::new_v4().simple()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp-sink.sh");
    let child = Command::new("bash")
        .arg(&script)
        .arg(format!("127.0.0.1:{port}"))
        .arg(&maildir)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let mut sink = SmtpSink {
        child,
        url: format!("smtp://127.0.0.1:{port}"),
        maildir,
    };
    let started = Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(sink);
        }
        if let Ok(Some(status)) = sink.child.try_wait() {
            return Err(format!("scripts/smtp-sink.sh exited with {status}"));
        }
        if started.elapsed() > SINK_START {
            return Err(format!(
                "nothing listens on port {port} after {SINK_START:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl SmtpSink {
    /// The mails received so far, in the order they arrived.
    pub fn mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut mails: Vec<(std::time::SystemTime, String)> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let modified = entry.metadata().ok()?.modified().ok()?;
                Some((modified, std::fs::read_to_string(entry.path()).ok()?))
            })
            .collect();
        mails.sort();
        mails.into_iter().map(|(_, mail)| mail).collect()
    }

    /// Waits for the `count`th mail and answers the confirmation link in it.
    pub async fn link(&self, count: usize) -> String {
        let deadline = Instant::now() + crate::helpers::TIMEOUT;
        loop {
            let mails = self.mails();
            if let Some(mail) = mails.get(count - 1) {
                return link_in(mail);
            }
            assert!(Instant::now() < deadline, "mail {count} never arrived");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The link of a confirmation mail, its quoted-printable soft line breaks undone.
fn link_in(mail: &str) -> String {
    assert!(
        mail.contains("Subject: Confirm your registration"),
        "{mail}"
    );
    let body = mail.replace("=\r\n", "").replace("=\n", "");
    let start = body
        .find("http://")
        .unwrap_or_else(|| panic!("no link in {mail}"));
    body[start..]
        .split_whitespace()
        .next()
        .expect("the link")
        .to_owned()
}

/// The path under `/http` of a link.
pub fn path_of(link: &str) -> String {
    let at = link.find("/http/").expect("a link under /http");
    link[at + "/http".len()..].to_owned()
}

async fn registration_is_confirmed_by_the_link_of_a_real_mail(backend: Backend) {
    let Some(sink) = start_smtp_sink() else {
        return;
    };
    let stack = spawn_stack_mailing(backend, 2, Some(&sink.url)).await;
    let (here, there) = (Web::new(&stack, 0), Web::new(&stack, 1));
    // Ann is online on the other replica: she is told of the new user.
    let ann = there.user("Ann").await;
    let mut ann_socket = there.socket(&ann).await;

    let registration = json!({"email": "Dora@Web.example", "password": "explore",
        "first_name": "Dora", "last_name": "Márquez"});
    let (status, pending) = here
        .call(Method::POST, "/register", None, Some(registration.clone()))
        .await;
    assert_eq!(status, 200, "{pending}");
    assert_eq!(pending["success"], true);
    crate::webapp_client::assert_time(&pending["expires_at"]);
    let first = sink.link(1).await;
    assert!(
        first.starts_with(&format!("{}/http/register/", stack.gateways[0])),
        "{first}"
    );
    let mail = &sink.mails()[0];
    assert!(mail.contains("To: Dora@Web.example"), "{mail}");
    assert!(mail.contains("From: Tests <tests@chat.example>"), "{mail}");

    // Not confirmed yet: she cannot log in, and registering again resends, with a new link.
    let credentials = json!({"email": "dora@web.example", "password": "explore"});
    let (status, _) = here
        .call(Method::POST, "/login", None, Some(credentials.clone()))
        .await;
    assert_eq!(status, 401);
    let (status, _) = here
        .call(Method::POST, "/register", None, Some(registration.clone()))
        .await;
    assert_eq!(status, 200);
    let second = sink.link(2).await;
    assert_ne!(first, second);
    let (status, refused) = here.call(Method::GET, &path_of(&first), None, None).await;
    assert_eq!(
        status, 404,
        "the first link died with the resend: {refused}"
    );
    assert_eq!(refused["error"]["code"], "registration_not_found");

    // The second link creates the account, on the other replica; Ann gets user_update.
    let (status, confirmed) = there.call(Method::GET, &path_of(&second), None, None).await;
    assert_eq!(status, 200, "{confirmed}");
    assert_eq!(confirmed["success"], true);
    assert_eq!(confirmed["email"], "Dora@Web.example");
    let dora = confirmed["user_id"].as_i64().expect("Dora's id");
    let update = until(&mut ann_socket, |f| {
        f["type"] == "user_update" && f["user_id"] == dora
    })
    .await;
    assert_eq!(update["first_name"], "Dora");
    assert_eq!(update["last_name"], "Márquez");

    // Single use; and the email is taken now.
    let (status, refused) = here.call(Method::GET, &path_of(&second), None, None).await;
    assert_eq!(status, 404, "{refused}");
    assert_eq!(refused["error"]["code"], "registration_not_found");
    let (status, refused) = here
        .call(Method::POST, "/register", None, Some(registration))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "email_taken");
    assert_eq!(
        sink.mails().len(),
        2,
        "a refused registration sends nothing"
    );

    // She logs in here (and her account is everyone's: she is listed).
    let token = here.login("dora@web.example", "explore").await;
    let (status, profile) = here.get("/users/profile", &token).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["user_id"], dora);
    assert_eq!(profile["first_name"], "Dora");

    // Bad input changes nothing and sends nothing.
    for (body, code) in [
        (
            json!({"email": "not an email", "password": "x"}),
            "invalid_data",
        ),
        (
            json!({"email": "eve@web.example", "password": ""}),
            "invalid_data",
        ),
        (json!({"email": "eve@web.example"}), "invalid_data"),
        (json!({"email": 7, "password": "x"}), "invalid_data"),
    ] {
        let (status, refused) = here
            .call(Method::POST, "/register", None, Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {refused}");
        assert_eq!(refused["error"]["code"], code, "{body}: {refused}");
    }
    let (status, refused) = here
        .call(Method::GET, "/register/0123456789abcdef", None, None)
        .await;
    assert_eq!(status, 404, "{refused}");
    assert_eq!(sink.mails().len(), 2);
}
