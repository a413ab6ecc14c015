//! A minimal HTTP/1.1 target for probe benchmarks: answers every request
//! with `200 ok` and closes the connection, as a health endpoint would.
//!
//! `cargo run --release -p stagegate-probe --example bench_target -- 127.0.0.1:18181`

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18181".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("bench target on {addr}");
    loop {
        let (mut sock, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
            let _ = sock.shutdown().await;
        });
    }
}
