//! The real binary: CLI behaviour, logs that never carry secrets, and a
//! graceful SIGTERM while a request is in flight.

use crate::helpers::{TestDatabase, base_env, with};
use serde_json::Value;
use std::io::{BufRead as _, Write as _};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub fn run(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Output {
    // Inside an async test the thread may be driving a server the command
    // needs: that is run_async's job (see there).
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "binary::run blocks the test's thread; use run_async in async tests"
    );
    run_blocking(env, args, stdin)
}

fn run_blocking(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(env.iter().cloned())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// [`run`] off the test's thread. A test's server shares that one thread,
/// so a CLI command that waits for the server (the audit chain's lock,
/// held by the server's audit writer mid-batch) would deadlock a blocking
/// call: the server could never finish while the thread waits.
pub async fn run_async(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Output {
    let (env, args, stdin) =
        (env.to_vec(), args.iter().map(|a| a.to_string()).collect::<Vec<_>>(), stdin.map(str::to_owned));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_blocking(&env, &args, stdin.as_deref())
    })
    .await
    .unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn json_out(o: &Output) -> Value {
    assert!(o.status.success(), "stdout: {}\nstderr: {}", text(&o.stdout), text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stdout)))
}

#[test]
fn version_and_bad_arguments() {
    let o = run(&[], &["--version"], None);
    assert!(o.status.success());
    assert_eq!(text(&o.stdout).trim(), format!("gatehouse {}", env!("CARGO_PKG_VERSION")));

    for args in
        [&["frobnicate"][..], &["user", "create"], &["migrate", "down", "--steps", "0"], &["user", "set-password", "x"]]
    {
        let o = run(&[], args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(!text(&o.stderr).is_empty());
    }
}

#[test]
fn config_check_redacts_secrets_and_fails_on_errors() {
    let env: Vec<(String, String)> = [
        ("GATEHOUSE_PROFILE", "production"),
        ("GATEHOUSE_ISSUER", "https://id.example.com"),
        ("GATEHOUSE_MASTER_KEY", KEY),
        ("GATEHOUSE_METRICS_TOKEN", "metrics-token-abcdef"),
        ("GATEHOUSE_DATABASE_URL", "postgres://gh:db-password-xyz@db.internal/gh"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let o = run(&env, &["config", "check"], None);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("issuer = \"https://id.example.com\"  # environment variable GATEHOUSE_ISSUER"), "{out}");
    for secret in [KEY, "metrics-token-abcdef", "db-password-xyz"] {
        assert!(!out.contains(secret), "{secret} leaked: {out}");
    }
    let v = json_out(&run(&env, &["config", "check", "--json"], None));
    assert_eq!(v["master_key"]["value"], "[redacted]");
    assert_eq!(v["bind"]["origin"], "default");

    let bad = with(env.clone(), &[("GATEHOUSE_ISSUER", "http://id.example.com")]);
    let o = run(&bad, &["config", "check"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("`issuer`"), "{}", text(&o.stderr));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gatehouse.toml");
    std::fs::write(&file, "issuer = \"http://127.0.0.1:9\"\nbogus_key = 1\n").unwrap();
    let o = run(&[], &["--config", file.to_str().unwrap(), "config", "check"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("unknown setting `bogus_key`"), "{}", text(&o.stderr));
    let via_env = [("GATEHOUSE_CONFIG".to_owned(), file.display().to_string())];
    let o = run(&via_env, &["config", "check", "--json"], None);
    assert_eq!(o.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&o.stderr).unwrap();
    assert!(err["error"].as_str().unwrap().contains("bogus_key"), "{err}");
}

#[actix_web::test]
async fn migrate_commands_report_status() {
    let db = TestDatabase::create().await;
    let env = base_env(&db);
    let status = json_out(&run_async(&env, &["migrate", "status", "--json"], None).await);
    let n = status.as_array().unwrap().len();
    assert!(n >= 2);
    assert!(status.as_array().unwrap().iter().all(|m| m["applied"] == false));

    let up = json_out(&run_async(&env, &["migrate", "up", "--json"], None).await);
    assert!(up.as_array().unwrap().iter().all(|m| m["applied"] == true));

    let down = json_out(&run_async(&env, &["migrate", "down", "--json"], None).await);
    let applied: Vec<bool> = down.as_array().unwrap().iter().map(|m| m["applied"] == true).collect();
    assert_eq!(applied.iter().filter(|a| !**a).count(), 1, "exactly one reverted: {down}");
    assert!(!applied[n - 1], "the newest one: {down}");

    let o = run_async(&env, &["migrate", "up"], None).await;
    assert!(text(&o.stdout).lines().all(|l| l.starts_with("applied")), "{}", text(&o.stdout));
}

#[actix_web::test]
async fn user_commands_manage_users() {
    let db = TestDatabase::create().await;
    let env = base_env(&db);
    let early = run_async(&env, &["user", "list"], None).await;
    assert_eq!(early.status.code(), Some(1));
    assert!(text(&early.stderr).contains("gatehouse migrate up"), "{}", text(&early.stderr));
    assert!(run_async(&env, &["migrate", "up"], None).await.status.success());

    let carol = json_out(
        &run_async(
            &env,
            &[
                "user",
                "create",
                "--username",
                "Carol",
                "--email",
                "carol@example.com",
                "--admin",
                "--password-stdin",
                "--json",
            ],
            Some("my long original password\n"),
        )
        .await,
    );
    assert_eq!(carol["username"], "Carol");
    assert_eq!(carol["admin"], true);
    assert_eq!(carol["active"], true);
    assert!(carol.get("password").is_none(), "a chosen password is never echoed");
    assert!(!carol.to_string().contains("argon2"), "no hash in output");

    let dup =
        run_async(&env, &["user", "create", "--username", "carol", "--password-stdin"], Some("another long password"))
            .await;
    assert_eq!(dup.status.code(), Some(1));
    assert!(text(&dup.stderr).contains("already taken"), "{}", text(&dup.stderr));

    let dave = json_out(&run_async(&env, &["user", "create", "--username", "dave", "--json"], None).await);
    assert!(dave["password"].as_str().unwrap().len() >= 20, "generated password shown once: {dave}");

    let list = json_out(&run_async(&env, &["user", "list", "--json"], None).await);
    assert_eq!(list["total"], 2);
    let shown = json_out(&run_async(&env, &["user", "show", "CAROL", "--json"], None).await);
    assert_eq!(shown["id"], carol["id"]);
    assert!(shown.get("password").is_none());

    let disabled = json_out(&run_async(&env, &["user", "disable", "carol", "--json"], None).await);
    assert_eq!(disabled["active"], false);
    assert_eq!(disabled["version"], 2);
    let enabled = json_out(&run_async(&env, &["user", "enable", carol["id"].as_str().unwrap(), "--json"], None).await);
    assert_eq!(enabled["active"], true);

    let short = run_async(&env, &["user", "set-password", "carol", "--password-stdin"], Some("short\n")).await;
    assert_eq!(short.status.code(), Some(1));
    assert!(text(&short.stderr).contains("at least 12"), "{}", text(&short.stderr));
    let ok = json_out(
        &run_async(
            &env,
            &["user", "set-password", "carol", "--password-stdin", "--json"],
            Some("a brand new password\n"),
        )
        .await,
    );
    assert_eq!(ok["version"], 4);
    // Every problem at once, and no reuse of the current or a recent password.
    let bad = run_async(&env, &["user", "set-password", "carol", "--password-stdin"], Some("Carol1234\n")).await;
    assert_eq!(bad.status.code(), Some(1));
    let err = text(&bad.stderr);
    assert!(err.contains("at least 12") && err.contains("username"), "{err}");
    for reused in ["a brand new password\n", "my long original password\n"] {
        let again = run_async(&env, &["user", "set-password", "carol", "--password-stdin"], Some(reused)).await;
        assert_eq!(again.status.code(), Some(1), "{reused}");
        assert!(text(&again.stderr).contains("used recently"), "{}", text(&again.stderr));
    }
    let common = run_async(&env, &["user", "set-password", "carol", "--password-stdin"], Some("qwerty123456\n")).await;
    assert!(text(&common.stderr).contains("commonly used"), "{}", text(&common.stderr));

    let missing = run_async(&env, &["user", "show", "nobody"], None).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("no such user"));

    let human = run_async(&env, &["user", "list"], None).await;
    assert!(text(&human.stdout).contains("carol@example.com"), "{}", text(&human.stdout));

    let conn = gatehouse::store::connect(&db.url, 1).await.unwrap();
    let actions: Vec<String> = gatehouse::store::audit::recent(&conn, 20)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor == "cli" && e.target.as_deref() == carol["id"].as_str())
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["user.password_set", "user.enabled", "user.disabled", "user.created"]);
}

/// A `gatehouse serve` child whose stderr (the log) is collected.
pub struct Served {
    child: Child,
    pub addr: String,
    lines: Arc<Mutex<Vec<String>>>,
}

pub fn serve(env: &[(String, String)]) -> Served {
    let mut child = Command::new(BIN)
        .env_clear()
        .envs(env.iter().cloned())
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("gatehouse listening")
                && let Ok(v) = serde_json::from_str::<Value>(&line)
            {
                let _ = tx.send(v["address"].as_str().unwrap_or_default().to_owned());
            }
            sink.lock().unwrap().push(line);
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
        panic!("server did not start: {:?}", lines.lock().unwrap());
    });
    Served { child, addr, lines }
}

impl Served {
    /// `kill -9`: no shutdown, no drain, whatever was in memory is gone.
    pub fn kill(&self) {
        let status = Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    pub fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    pub fn wait(mut self) -> (std::process::ExitStatus, Vec<String>, String) {
        let status = self.child.wait().unwrap();
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            use std::io::Read as _;
            out.read_to_string(&mut stdout).unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
        let lines = self.lines.lock().unwrap().clone();
        (status, lines, stdout)
    }
}

pub fn json_env(db: &TestDatabase, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let env = with(base_env(db), &[("GATEHOUSE_LOG_FORMAT", "json"), ("GATEHOUSE_LOG_LEVEL", "trace")]);
    with(env, extra)
}

#[actix_web::test]
async fn no_password_or_secret_reaches_a_log_line() {
    let db = TestDatabase::create().await;
    let dir = db.dir();
    let pw_file = dir.join("bootstrap-password");
    std::fs::write(&pw_file, "bootstrap-secret-pw-1\n").unwrap();
    let mut env = json_env(&db, &[("GATEHOUSE_METRICS_TOKEN", "metrics-secret-token-2")]);
    if db.is_postgres() {
        // Trust authentication ignores the password, so it can be planted.
        let mut url = url::Url::parse(&db.url).unwrap();
        url.set_password(Some("db-secret-password-7")).unwrap();
        env = with(env, &[("GATEHOUSE_DATABASE_URL", url.as_str())]);
    }
    env.retain(|(k, _)| k != "GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD");
    env.push(("GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD_FILE".into(), pw_file.display().to_string()));

    let mut everything = String::new();
    let served = serve(&env);
    let client = reqwest::Client::new();
    let base = format!("http://{}", served.addr);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let res = client
        .get(format!("{base}/health/ready?token=query-secret-3"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .header("authorization", "Bearer header-secret-4")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client.get(format!("{base}/metrics")).bearer_auth("metrics-secret-token-2").send().await.unwrap();
    assert_eq!(res.status(), 200);
    served.terminate();
    let (status, lines, stdout) = served.wait();
    assert!(status.success(), "{status:?} {lines:?}");
    everything.push_str(&stdout);
    let access = lines.iter().find(|l| l.contains("\"path\":\"/health/ready\"")).expect("access log line");
    assert!(access.contains(trace_id), "traceparent continued: {access}");
    assert!(!access.contains("query-secret-3"), "no query string: {access}");
    everything.push_str(&lines.join("\n"));

    // CLI commands at trace level.
    for (args, stdin) in [
        (&["user", "create", "--username", "erin", "--password-stdin"][..], "cli-secret-password-5\n"),
        (&["user", "set-password", "erin", "--password-stdin"], "cli-secret-password-6\n"),
    ] {
        let o = run_async(&env, args, Some(stdin)).await;
        assert!(o.status.success(), "{}", text(&o.stderr));
        everything.push_str(&text(&o.stdout));
        everything.push_str(&text(&o.stderr));
    }
    for secret in [
        "bootstrap-secret-pw-1",
        "metrics-secret-token-2",
        "query-secret-3",
        "header-secret-4",
        "cli-secret-password-5",
        "cli-secret-password-6",
        "db-secret-password-7",
    ] {
        assert!(!everything.contains(secret), "{secret} appeared in output:\n{everything}");
    }
}

#[actix_web::test]
async fn generated_bootstrap_password_is_shown_once_and_never_logged() {
    let db = TestDatabase::create().await;
    let mut env = json_env(&db, &[]);
    env.retain(|(k, _)| k != "GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD");
    let served = serve(&env);
    served.terminate();
    let (status, lines, _) = served.wait();
    assert!(status.success(), "{status:?} {lines:?}");
    let pw_line = lines.iter().find(|l| l.trim_start().starts_with("password:")).expect("password shown");
    let pw = pw_line.trim_start().trim_start_matches("password:").trim().to_owned();
    assert!(pw.len() >= 20);
    let all = lines.join("\n");
    assert_eq!(all.matches(&pw).count(), 1, "shown exactly once");
    for l in lines.iter().filter(|l| l.starts_with('{')) {
        assert!(!l.contains(&pw), "password in a log line: {l}");
    }
    // Terminated right after start: the audit actor's drain, not its timer,
    // must have written the bootstrap event before the process exited.
    let conn = gatehouse::store::connect(&db.url, 1).await.unwrap();
    let events = gatehouse::store::audit::recent(&conn, 10).await.unwrap();
    assert!(events.iter().any(|e| e.action == "user.created" && e.actor == "system"), "{events:?}");
    conn.close().await.unwrap();
    // A second start creates nothing and shows nothing.
    let served = serve(&env);
    served.terminate();
    let (status, lines, _) = served.wait();
    assert!(status.success(), "{status:?} {lines:?}");
    assert!(!lines.iter().any(|l| l.contains("password:")), "{lines:?}");
}

#[actix_web::test]
async fn sigterm_lets_the_in_flight_request_finish_and_exits_zero() {
    let db = TestDatabase::create().await;
    let served = serve(&json_env(&db, &[("GATEHOUSE_LOG_LEVEL", "info")]));
    let addr = served.addr.clone();

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let body = r#"{"csp-report":{"document-uri":"http://127.0.0.1/login","violated-directive":"img-src","blocked-uri":"data"}}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /csp-report HTTP/1.1\r\nHost: x\r\nContent-Type: application/csp-report\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    served.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // No new connections once shutdown has begun.
    let late = tokio::net::TcpStream::connect(&addr).await;
    assert!(late.is_err(), "listener still accepting after SIGTERM");

    conn.write_all(rest.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), conn.read_to_string(&mut response)).await.unwrap().unwrap();
    assert!(response.starts_with("HTTP/1.1 204"), "{response}");

    let (status, lines, _) = served.wait();
    assert_eq!(status.code(), Some(0), "{lines:?}");
    let last = lines.iter().rev().find(|l| l.starts_with('{')).unwrap();
    assert!(last.contains("gatehouse stopped"), "final line: {last}");
    assert!(lines.iter().any(|l| l.contains("shutdown requested")));
}

#[actix_web::test]
async fn warnings_carry_the_request_id_even_when_info_is_filtered_out() {
    let db = TestDatabase::create().await;
    // The start-up line (which the harness reads the address from) stays.
    let env = json_env(&db, &[("GATEHOUSE_LOG_LEVEL", "warn,gatehouse::cli=info")]);
    let served = serve(&env);
    let res = reqwest::Client::new()
        .post(format!("http://{}/token", served.addr))
        .header("x-request-id", "req-warn-1")
        .header("content-type", "application/x-www-form-urlencoded")
        .basic_auth("nobody", Some("client-secret-guess-8"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    served.terminate();
    let (status, lines, _) = served.wait();
    assert!(status.success(), "{status:?} {lines:?}");
    let line = lines.iter().find(|l| l.contains("client authentication failed")).expect("a warning");
    let json: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(json["level"], "WARN");
    assert_eq!(json["request_id"], "req-warn-1");
    assert_eq!(json["endpoint"], "/token");
    assert!(!line.contains("client-secret-guess-8"));
    assert!(lines.iter().all(|l| !l.contains("request completed")), "info lines are filtered out");
    assert!(lines.iter().all(|l| !l.contains("sea_orm")), "capping secret-bearing targets never raises them");
}
