//! A moto server (`moto_server`, moto 5.2.5) for wire-level tests of the SDK adapters: started on
//! a free port, waited for until it answers, stopped when dropped or when the test process ends.
//! Also: an SDK configuration pointing at it with fake credentials, and the VPC, subnets and
//! security group moto wants before it accepts awsvpc services (through its EC2 Query API).
//!
//! moto missing is a failure, never a skip: run `scripts/install-test-tools`.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use aws::sdk::{RetryMode, SdkOptions, config_loader};
use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

/// Region every moto test uses (moto's default).
pub const REGION: &str = "us-east-1";

/// The account moto puts every resource in.
pub const ACCOUNT_ID: &str = "123456789012";

/// How long moto may take to answer its first request (a cold Python start on a busy machine).
const START_DEADLINE: Duration = Duration::from_secs(60);

/// How long one request to moto's EC2 API may take.
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// A running moto server.
///
/// moto runs under a small `sh` wrapper that stops it as soon as its stdin closes: when this
/// value is dropped, and also when the test process exits without dropping it (a shared
/// instance in a `static`, a panic, a kill), so no moto outlives its tests.
#[derive(Debug)]
pub struct Moto {
    wrapper: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    log: tempfile::NamedTempFile,
}

/// The network moto requires for awsvpc services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MotoNetwork {
    /// VPC id.
    pub vpc_id: String,
    /// Two subnets in different availability zones.
    pub subnet_ids: Vec<String>,
    /// A security group of the VPC.
    pub security_group_id: String,
}

static SHARED: OnceCell<Moto> = OnceCell::const_new();

impl Moto {
    /// Starts a moto server of its own on a free port and waits until it answers.
    ///
    /// # Panics
    /// When `moto_server` is not installed (run `scripts/install-test-tools`) or does not come up.
    pub async fn start() -> Moto {
        let binary = moto_binary();
        let mut last_failure = String::new();
        // A free port can be taken between choosing and binding it: try a few.
        for _ in 0..3 {
            match Self::try_start(&binary).await {
                Ok(moto) => return moto,
                Err(failure) => last_failure = failure,
            }
        }
        panic!(
            "moto_server ({}) did not start: {last_failure}",
            binary.display()
        );
    }

    /// One moto server shared by every test of the test binary (started by the first caller).
    /// Tests sharing it must use names of their own (a cluster per test).
    pub async fn shared() -> &'static Moto {
        SHARED.get_or_init(Moto::start).await
    }

    async fn try_start(binary: &Path) -> Result<Moto, String> {
        let port = free_port();
        let log = tempfile::Builder::new()
            .prefix("moto-")
            .suffix(".log")
            .tempfile()
            .map_err(|e| format!("creating the log file: {e}"))?;
        let log_out = log
            .reopen()
            .map_err(|e| format!("opening the log file: {e}"))?;
        let log_err = log
            .reopen()
            .map_err(|e| format!("opening the log file: {e}"))?;
        let mut wrapper = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" "$@" </dev/null & moto=$!; cat >/dev/null; kill $moto 2>/dev/null; wait $moto"#)
            .arg(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(log_out)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("spawning sh: {e}"))?;
        let stdin = wrapper.stdin.take();
        let mut moto = Moto {
            wrapper,
            stdin,
            port,
            log,
        };
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if moto.answers().await {
                return Ok(moto);
            }
            if let Ok(Some(status)) = moto.wrapper.try_wait() {
                return Err(format!("exited with {status}: {}", moto.log_tail()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no answer on port {port} after {START_DEADLINE:?}: {}",
                    moto.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Base URL (`http://127.0.0.1:PORT`), the endpoint override for every service.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SDK options for moto: its region, its endpoint, no retries (an unimplemented call answers
    /// 500; retrying it only makes the test slow).
    pub fn sdk_options(&self) -> SdkOptions {
        SdkOptions {
            region: Some(REGION.to_owned()),
            endpoint_url: Some(self.endpoint()),
            retry: RetryMode::Disabled,
        }
    }

    /// An SDK configuration built the operator's way for moto, with static fake credentials
    /// (the process environment is left alone).
    pub async fn sdk_config(&self) -> SdkConfig {
        config_loader(&self.sdk_options())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// Creates a VPC, two subnets and a security group through moto's EC2 Query API.
    pub async fn create_network(&self) -> MotoNetwork {
        let vpc = self
            .ec2(&[("Action", "CreateVpc"), ("CidrBlock", "10.0.0.0/16")])
            .await;
        let vpc_id = xml_value(&vpc, "vpcId");
        let mut subnet_ids = Vec::new();
        for (cidr, zone) in [("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b")] {
            let subnet = self
                .ec2(&[
                    ("Action", "CreateSubnet"),
                    ("VpcId", &vpc_id),
                    ("CidrBlock", cidr),
                    ("AvailabilityZone", zone),
                ])
                .await;
            subnet_ids.push(xml_value(&subnet, "subnetId"));
        }
        let group = self
            .ec2(&[
                ("Action", "CreateSecurityGroup"),
                ("VpcId", &vpc_id),
                ("GroupName", "tasks"),
                ("GroupDescription", "ECS tasks"),
            ])
            .await;
        MotoNetwork {
            security_group_id: xml_value(&group, "groupId"),
            vpc_id,
            subnet_ids,
        }
    }

    /// One EC2 Query API call; panics unless moto answers 200.
    async fn ec2(&self, params: &[(&str, &str)]) -> String {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .append_pair("Version", "2016-11-15")
            .finish();
        // moto routes by the credential scope of the (unchecked) SigV4 header.
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/ec2/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        let request = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {auth}\r\n\
             Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
             Content-Length: {len}\r\nConnection: close\r\n\r\n{body}",
            port = self.port,
            len = body.len(),
        );
        let answer = tokio::time::timeout(REQUEST_DEADLINE, self.exchange(&request))
            .await
            .unwrap_or_else(|_| panic!("moto EC2 {params:?}: no answer in {REQUEST_DEADLINE:?}"))
            .unwrap_or_else(|e| panic!("moto EC2 {params:?}: {e}"));
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
            "moto EC2 {params:?} failed: {head}\n{body}"
        );
        body.to_owned()
    }

    /// Whether moto answers HTTP on its port.
    async fn answers(&self) -> bool {
        let request = format!(
            "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        let probe = tokio::time::timeout(Duration::from_secs(5), self.exchange(&request));
        matches!(probe.await, Ok(Ok(answer)) if answer.starts_with("HTTP/1."))
    }

    /// Sends one request on a fresh connection and reads the whole answer.
    async fn exchange(&self, request: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = self.log.reopen() {
            let _ = file.read_to_string(&mut text);
        }
        let start = text.len().saturating_sub(2000);
        let start = (start..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text[start..].to_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing stdin makes the wrapper stop moto and wait for it.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.wrapper.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.wrapper.kill();
        let _ = self.wrapper.wait();
    }
}

/// `moto_server` from `scripts/install-test-tools` (`<workspace>/target/tools/bin`), else from PATH.
///
/// # Panics
/// When neither has it.
pub fn moto_binary() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace");
    let installed = workspace.join("target/tools/bin/moto_server");
    if installed.is_file() {
        return installed;
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("moto_server"))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| {
        panic!(
            "moto_server not found at {} nor on PATH: run scripts/install-test-tools \
             (the moto tests never skip)",
            installed.display()
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free local port")
}

/// The text of the first `<tag>` element of an EC2 answer.
fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in moto's answer: {xml}"))
        + open.len();
    let end = xml[start..]
        .find('<')
        .unwrap_or_else(|| panic!("unterminated <{tag}> in moto's answer: {xml}"));
    xml[start..start + end].to_owned()
}
