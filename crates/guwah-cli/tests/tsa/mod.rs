//! A local RFC 3161 TSA for the tests: a CA, a TSA certificate, and
//! `openssl ts -reply` behind a tiny HTTP shim on 127.0.0.1 that answers
//! well or in one of several hostile ways ([`Mode`]).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

pub fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// A CA, a TSA certificate (critical timeStamping EKU) and one without it.
pub fn make_pki(dir: &Path) {
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("tsa.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("noeku.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=guwah test TSA root",
            "-days",
            "3650",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    for (name, ext, curve) in [("tsa", "tsa.ext", "P-384"), ("noeku", "noeku.ext", "P-256")] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                &format!("ec_paramgen_curve:{curve}"),
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN=guwah test {name}"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                if name == "tsa" { "2" } else { "3" },
                "-days",
                "3650",
                "-extfile",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    std::fs::write(
        dir.join("tsa.cnf"),
        format!(
            "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = {d}\nserial = $dir/serial\ncrypto_device = builtin\n\
signer_cert = $dir/tsa.pem\ncerts = $dir/ca.pem\nsigner_key = $dir/tsa.key\nsigner_digest = sha256\n\
default_policy = 1.2.3.4.1\nother_policies = 1.2.3.4.5\ndigests = sha256, sha384, sha512\n\
accuracy = secs:1, millisecs:500, microsecs:100\nordering = yes\ntsa_name = yes\n\
ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
            d = dir.display()
        ),
    )
    .unwrap();
}

/// DER length + tag, for wrapping a re-signed token into a TimeStampResp.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Good,
    WrongImprint,
    WrongNonce,
    NoEku,
    Garbage,
    Oversized,
    WrongType,
}

fn reply(dir: &Path, query: &[u8], mode: Mode) -> (Vec<u8>, &'static str) {
    let q = dir.join("q.tsq");
    let r = dir.join("r.tsr");
    let ty = "application/timestamp-reply";
    match mode {
        Mode::Garbage => return (b"this is not DER".to_vec(), ty),
        Mode::Oversized => return (vec![0x30; 2 << 20], ty),
        Mode::WrongType => return (b"<html>hi</html>".to_vec(), "text/html"),
        Mode::Good | Mode::NoEku => std::fs::write(&q, query).unwrap(),
        Mode::WrongImprint => {
            std::fs::write(dir.join("other.txt"), b"some other checkpoint\n").unwrap();
            openssl(
                dir,
                &[
                    "ts",
                    "-query",
                    "-data",
                    "other.txt",
                    "-sha256",
                    "-cert",
                    "-out",
                    "q.tsq",
                ],
            );
        }
        Mode::WrongNonce => {
            let i = query.windows(2).position(|w| w == [0x04, 0x20]).unwrap() + 2;
            let hex: String = query[i..i + 32]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            openssl(
                dir,
                &[
                    "ts", "-query", "-digest", &hex, "-sha256", "-cert", "-out", "q.tsq",
                ],
            );
        }
    }
    openssl(
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-queryfile",
            "q.tsq",
            "-out",
            "r.tsr",
        ],
    );
    let mut body = std::fs::read(&r).unwrap();
    if let Mode::NoEku = mode {
        // The same TSTInfo, re-signed (CAdES: with signingCertificateV2) by
        // a certificate of the same CA that lacks the timeStamping EKU.
        openssl(
            dir,
            &[
                "ts",
                "-reply",
                "-in",
                "r.tsr",
                "-token_out",
                "-out",
                "tok.der",
            ],
        );
        openssl(
            dir,
            &[
                "cms",
                "-verify",
                "-noverify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                "tok.der",
                "-out",
                "tst.der",
            ],
        );
        openssl(
            dir,
            &[
                "cms",
                "-sign",
                "-binary",
                "-nodetach",
                "-cades",
                "-nosmimecap",
                "-md",
                "sha256",
                "-econtent_type",
                "1.2.840.113549.1.9.16.1.4",
                "-in",
                "tst.der",
                "-signer",
                "noeku.pem",
                "-inkey",
                "noeku.key",
                "-outform",
                "DER",
                "-out",
                "tok2.der",
            ],
        );
        let token = std::fs::read(dir.join("tok2.der")).unwrap();
        let status = tlv(0x30, &[0x02, 0x01, 0x00]);
        body = tlv(0x30, &[status, token].concat());
    }
    (body, ty)
}

/// The shim: one thread, one request at a time, answering per `mode`.
pub fn serve(dir: PathBuf, mode: Arc<Mutex<Mode>>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsr", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body_start = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(i + 4);
                }
            };
            let Some(start) = body_start else { continue };
            let head = String::from_utf8_lossy(&buf[..start]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < start + len {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            assert!(
                head.contains("content-type: application/timestamp-query"),
                "{head}"
            );
            let m = *mode.lock().unwrap();
            let (body, ty) = reply(&dir, &buf[start..start + len], m);
            let _ = s.write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Type: {ty}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                    .as_bytes(),
            );
            let _ = s.write_all(&body);
        }
    });
    url
}
